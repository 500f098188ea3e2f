// Small labelled badges. Colours come from the Okabe-Ito palette (safe for colour-blind readers)
// and every badge also carries its text, so colour is never the only cue.

import type { Role, Split } from "../types";

export function SplitBadge(props: { split: Split }) {
  return <span class={`badge split-${props.split}`}>{props.split}</span>;
}

/** A label badge; the colour follows the class's position in the project's class list. */
export function LabelBadge(props: { label: string | null; classNames?: string[] }) {
  if (props.label === null) return <span class="badge label-none">unlabelled</span>;
  const index = props.classNames?.indexOf(props.label) ?? -1;
  const slot = index >= 0 ? index % 6 : 5;
  return <span class={`badge label-${slot}`}>{props.label}</span>;
}

export function PromptBadge(props: { count: number }) {
  if (props.count <= 0) return null;
  const title = `${props.count} prompt${props.count === 1 ? "" : "s"}`;
  return (
    <span class="badge badge-prompt" title={title}>
      <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
        <path
          d="M2 12.5V14h1.5l8.8-8.8-1.5-1.5L2 12.5zm11.7-7.3a.8.8 0 0 0 0-1.1l-1.8-1.8a.8.8 0 0 0-1.1 0l-.9.9 2.9 2.9.9-.9z"
          fill="currentColor"
        />
      </svg>
      {props.count > 1 ? `${props.count} prompts` : "prompt"}
    </span>
  );
}

export function RoleBadge(props: { role: Role | null }) {
  if (!props.role) return null;
  return <span class={`badge role-${props.role}`}>{props.role}</span>;
}
