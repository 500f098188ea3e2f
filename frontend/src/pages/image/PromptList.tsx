import type { Prompt, PromptCounts } from "../../types";

function percent(part: number, total: number): number {
  return total > 0 ? (100 * part) / total : 0;
}

/** A stacked bar of the mask's codes; the legend repeats the numbers so colour is not needed. */
export function CountsBar(props: { counts: PromptCounts }) {
  const { important, unimportant, unclear } = props.counts;
  const total = important + unimportant + unclear;
  const parts: Array<[string, string, number]> = [
    ["important", "Important", important],
    ["unclear", "Unclear", unclear],
    ["unimportant", "Unimportant", unimportant],
  ];
  return (
    <div class="counts">
      <div class="counts-bar" aria-hidden="true">
        {parts.map(([key, , value]) => (
          <span key={key} class={`counts-${key}`} style={{ width: `${percent(value, total)}%` }} />
        ))}
      </div>
      <ul class="counts-legend">
        {parts.map(([key, label, value]) => (
          <li key={key}>
            <span class={`swatch counts-${key}`} aria-hidden="true" />
            {label} {percent(value, total).toFixed(1)}%
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The latest prompt of each annotator on the image. */
export function PromptList(props: { prompts: Prompt[] }) {
  if (props.prompts.length === 0) {
    return <p class="muted">No prompts on this image yet.</p>;
  }
  return (
    <ul class="prompt-list" aria-label="Prompts" data-testid="prompt-list">
      {props.prompts.map((prompt) => (
        <li class="prompt-item" key={prompt.id}>
          <div class="prompt-head">
            <strong>{prompt.annotator.username}</strong>
            <span class="chip">{prompt.target_class}</span>
            <span class="muted">v{prompt.version}</span>
            <time class="muted prompt-time" dateTime={prompt.updated_at}>
              {new Date(prompt.updated_at).toLocaleString()}
            </time>
          </div>
          <CountsBar counts={prompt.counts} />
        </li>
      ))}
    </ul>
  );
}
