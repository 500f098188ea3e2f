// Keyboard answering, shared by the reasonability review and the rating studies. Nothing is
// ever pre-selected: a question has no answer until a key or a click gives one.
//
// Review: Q1 then Q2, each with Y (yes) or N (no). Study slot: its questions in the study's
// order, Y/N for Q1 and Q2 and the digits 1-5 for the Likert rating.

export interface Draft {
  q1_needed: boolean | null;
  q2_unneeded: boolean | null;
}

export const EMPTY_DRAFT: Draft = { q1_needed: null, q2_unneeded: null };

/** Reasonable iff the needed details are highlighted (Q1 yes) and no unneeded ones (Q2 no). */
export function isReasonable(answer: { q1_needed: boolean | null; q2_unneeded: boolean | null }): boolean | null {
  if (answer.q1_needed === null || answer.q2_unneeded === null) return null;
  return answer.q1_needed && !answer.q2_unneeded;
}

function yesNo(key: string): boolean | null {
  const lower = key.toLowerCase();
  if (lower === "y") return true;
  if (lower === "n") return false;
  return null;
}

/** The review draft after a key (Y/N answer the first open question); null if the key does
 * nothing. */
export function reviewKey(draft: Draft, key: string): Draft | null {
  const value = yesNo(key);
  if (value === null) return null;
  if (draft.q1_needed === null) return { ...draft, q1_needed: value };
  if (draft.q2_unneeded === null) return { ...draft, q2_unneeded: value };
  return null;
}

export type Question = "q1" | "q2" | "likert";

export interface SlotAnswers {
  q1_needed: boolean | null;
  q2_unneeded: boolean | null;
  likert: number | null;
}

const FIELD: Record<Question, keyof SlotAnswers> = {
  q1: "q1_needed",
  q2: "q2_unneeded",
  likert: "likert",
};

/** The first question of `questions` that the slot has no answer to (null: slot complete). */
export function openQuestion(slot: SlotAnswers, questions: readonly Question[]): Question | null {
  for (const question of questions) {
    if (slot[FIELD[question]] === null) return question;
  }
  return null;
}

/** The answer a key gives to a slot's open question, as the partial body to save; null when
 * the key does not answer it (Y/N for Q1/Q2, 1-5 for Likert). */
export function slotKey(
  slot: SlotAnswers,
  questions: readonly Question[],
  key: string,
): Partial<SlotAnswers> | null {
  const question = openQuestion(slot, questions);
  if (question === null) return null;
  if (question === "likert") {
    return /^[1-5]$/.test(key) ? { likert: Number(key) } : null;
  }
  const value = yesNo(key);
  return value === null ? null : { [FIELD[question]]: value };
}
