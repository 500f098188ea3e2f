// One rating study. A reviewer in it rates: the original image beside its maps, shown blind as
// numbered maps in the order recorded for them; every answer is saved at once, nothing is
// pre-selected, and the next image follows when every map is rated (stop any time, resume
// where you left off). Admins also get the study's progress, the report and the close action.

import { useEffect, useRef, useState } from "preact/hooks";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import type { NextItem, Question, Slot, Study } from "../review/api";
import { reviewApi } from "../review/api";
import { openQuestion, slotKey } from "../review/keys";
import { MapOverlay, OpacityControl } from "../review/MapOverlay";
import "../review/review.css";

const QUESTION_TEXT: Record<"q1" | "q2", string> = {
  q1: "Does the highlighted area contain the details needed to decide the class?",
  q2: "Does it contain details that are not needed?",
};

function typing(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && ["INPUT", "SELECT", "TEXTAREA"].includes(element.tagName);
}

function SlotCard(props: {
  slot: Slot;
  study: Study;
  imageUrl: string;
  opacity: number;
  active: boolean;
  onAnswer: (slot: Slot, answer: Partial<Slot>) => void;
}) {
  const { slot, study } = props;
  const yesNo = (question: "q1" | "q2", field: "q1_needed" | "q2_unneeded") => (
    <div class="question" role="group" aria-label={`Map ${slot.slot} ${question.toUpperCase()}`}>
      <p class="question-text">
        {question.toUpperCase()}. {QUESTION_TEXT[question]}
      </p>
      <div class="answer-buttons">
        {[true, false].map((value) => (
          <button
            key={String(value)}
            type="button"
            class={slot[field] === value ? "button answer selected" : "button answer"}
            aria-pressed={slot[field] === value}
            onClick={() => props.onAnswer(slot, { [field]: value })}
          >
            {value ? "Yes" : "No"}
          </button>
        ))}
      </div>
    </div>
  );
  return (
    <div
      class={`card slot-card${props.active ? " active" : ""}${slot.complete ? " complete" : ""}`}
      data-testid={`slot-${slot.slot}`}
    >
      <h3>
        Map {slot.slot} {slot.complete && <span class="chip chip-positive">rated</span>}
      </h3>
      <MapOverlay imageUrl={props.imageUrl} mapUrl={slot.map_url} opacity={props.opacity} label={`Map ${slot.slot}`} size={260} />
      {study.questions.includes("q1") && yesNo("q1", "q1_needed")}
      {study.questions.includes("q2") && yesNo("q2", "q2_unneeded")}
      {study.questions.includes("likert") && (
        <div class="question" role="group" aria-label={`Map ${slot.slot} rating`}>
          <p class="question-text">Rating</p>
          <div class="likert">
            {[1, 2, 3, 4, 5].map((level) => (
              <button
                key={level}
                type="button"
                class={slot.likert === level ? "button likert-level selected" : "button likert-level"}
                aria-pressed={slot.likert === level}
                title={study.likert_anchors[String(level)]}
                onClick={() => props.onAnswer(slot, { likert: level })}
              >
                {level}
              </button>
            ))}
          </div>
          <div class="likert-anchors muted small">
            <span>1: {study.likert_anchors["1"]}</span>
            <span>5: {study.likert_anchors["5"]}</span>
          </div>
        </div>
      )}
    </div>
  );
}

function Rater(props: { study: Study }) {
  const { study } = props;
  const [state, setState] = useState<NextItem | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [opacity, setOpacity] = useState(0.5);
  const [saving, setSaving] = useState(0);

  const load = () => reviewApi.nextItem(study.id).then(setState, setError);
  useEffect(() => {
    void load();
  }, [study.id]);

  const item = state?.item ?? null;
  const active = item?.slots.find((slot) => !slot.complete) ?? null;
  // The latest state, read after each await (answers may overlap when clicking quickly).
  const latest = useRef<NextItem | null>(null);
  latest.current = state;

  // Answers are applied at once and saved in order in the background, so keys typed while a
  // save is under way are never lost; when every map of the image is rated and saved, the next
  // image is loaded. A failed save reloads the item as the server has it.
  const saves = useRef<Promise<void>>(Promise.resolve());
  const answer = (slot: Slot, change: Partial<Slot>) => {
    const now = latest.current;
    if (!now?.item) return;
    const target = now.item;
    const questions = study.questions as Question[];
    const before = target.slots.find((s) => s.slot === slot.slot);
    const slots = target.slots.map((s) => {
      if (s.slot !== slot.slot) return s;
      const merged = { ...s, ...change };
      return { ...merged, complete: openQuestion(merged, questions) === null };
    });
    const gained = slots.find((s) => s.slot === slot.slot)?.complete && !before?.complete ? 1 : 0;
    const next = { ...now, item: { ...target, slots }, progress: { ...now.progress, done: now.progress.done + gained } };
    latest.current = next;
    setState(next);
    setError(null);
    setSaving((n) => n + 1);
    const finished = slots.every((s) => s.complete);
    saves.current = saves.current
      .then(() => reviewApi.rate(target.id, slot.slot, change))
      .then(
        () => (finished ? load() : undefined),
        (failure: unknown) => {
          setError(failure);
          return load();
        },
      )
      .finally(() => setSaving((n) => n - 1));
  };

  const handler = useRef<(event: KeyboardEvent) => void>(() => {});
  handler.current = (event: KeyboardEvent) => {
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey || !active) return;
    if (event.key === "[" || event.key === "]") {
      setOpacity((o) => Math.min(1, Math.max(0, o + (event.key === "]" ? 0.1 : -0.1))));
      return;
    }
    const change = slotKey(active, study.questions as Question[], event.key);
    if (change) {
      event.preventDefault();
      answer(active, change);
    }
  };
  useEffect(() => {
    const listener = (event: KeyboardEvent) => handler.current(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  if (!state) return error ? <ErrorMessage error={error} /> : <Loading label="Loading your next image…" />;
  const { done, total } = state.progress;
  const question = active ? openQuestion(active, study.questions as Question[]) : null;
  return (
    <section aria-label="Rating">
      <div class="study-progress">
        <progress max={total} value={done} aria-label="Your progress" />
        <span data-testid="study-progress">
          {done} / {total} rated
        </span>
        {saving > 0 && <span class="muted small">saving…</span>}
      </div>
      {error !== null && <ErrorMessage error={error} />}
      {!item && (
        <div class="card" data-testid="study-done">
          <h2>{state.status === "closed" ? "This study is closed." : "All images rated. Thank you."}</h2>
          <p class="muted">Your answers are saved.</p>
        </div>
      )}
      {item && (
        <>
          <p class="muted">
            Image {item.position} of {study.image_count}. Rate every map; answers are saved as you give them.{" "}
            {active && question && (
              <span data-testid="keys-hint">
                Keys for map {active.slot}: {question === "likert" ? "1-5" : "Y / N"}.
              </span>
            )}
          </p>
          <div class="study-item" data-testid="study-item" data-item-id={item.id}>
            <figure class="card original">
              <figcaption>Original image</figcaption>
              <MapOverlay imageUrl={item.image.display_url} mapUrl={null} opacity={0} label="Original image" size={260} />
              <OpacityControl value={opacity} onChange={setOpacity} />
            </figure>
            {item.slots.map((slot) => (
              <SlotCard
                key={`${item.id}-${slot.slot}`}
                slot={slot}
                study={study}
                imageUrl={item.image.display_url}
                opacity={opacity}
                active={active?.slot === slot.slot}
                onAnswer={answer}
              />
            ))}
          </div>
        </>
      )}
    </section>
  );
}

export default function StudyPage(props: PageProps) {
  const id = props.params.id;
  const study = useAsync(() => reviewApi.study(id), [id]);
  const [closing, setClosing] = useState(false);
  useTitle(study.data?.name ?? "Study");
  if (study.error) {
    return (
      <Layout crumbs={[{ label: "Study" }]}>
        <ErrorMessage error={study.error} onRetry={study.reload} title="This study could not be loaded." />
      </Layout>
    );
  }
  if (!study.data) {
    return (
      <Layout crumbs={[{ label: "…" }]}>
        <Loading />
      </Layout>
    );
  }
  const s = study.data;
  const isAdmin = s.my_role === "admin";
  const close = async () => {
    setClosing(true);
    try {
      await reviewApi.closeStudy(s.id);
      study.reload();
    } finally {
      setClosing(false);
    }
  };
  return (
    <Layout crumbs={[{ label: "Studies", href: `/projects/${s.project}/studies` }, { label: s.name }]} wide>
      <div class="page-header">
        <div>
          <h1>{s.name}</h1>
          <p class="muted">
            {s.status} · {s.image_count} images · {s.condition_count} maps per image · {s.reviewer_count} reviewers
          </p>
          {s.description && <p>{s.description}</p>}
        </div>
        {isAdmin && (
          <div class="actions">
            <Link class="button button-primary" href={`/studies/${s.id}/report`}>
              Report
            </Link>
            {s.status === "open" && (
              <button type="button" class="button" disabled={closing} onClick={() => void close()}>
                Close the study
              </button>
            )}
          </div>
        )}
      </div>
      {isAdmin && s.progress && (
        <section class="card">
          <h2>Progress</h2>
          <table class="table">
            <tbody>
              {s.progress.map((row) => (
                <tr key={row.username}>
                  <td>{row.username}</td>
                  <td>
                    {row.complete} / {row.expected}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {s.is_participant && s.status === "open" && <Rater study={s} />}
      {s.is_participant && s.status === "closed" && <p class="muted">This study is closed.</p>}
    </Layout>
  );
}
