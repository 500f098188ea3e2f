import { describe, expect, it } from "vitest";
import { EMPTY_DRAFT, isReasonable, openQuestion, reviewKey, slotKey } from "./keys";

describe("reviewKey", () => {
  it("answers Q1 first, then Q2", () => {
    const first = reviewKey(EMPTY_DRAFT, "y");
    expect(first).toEqual({ q1_needed: true, q2_unneeded: null });
    expect(reviewKey(first!, "N")).toEqual({ q1_needed: true, q2_unneeded: false });
  });

  it("ignores other keys and a complete draft", () => {
    expect(reviewKey(EMPTY_DRAFT, "x")).toBeNull();
    expect(reviewKey({ q1_needed: true, q2_unneeded: true }, "y")).toBeNull();
  });
});

describe("isReasonable", () => {
  it("is true only for Q1 yes and Q2 no", () => {
    expect(isReasonable({ q1_needed: true, q2_unneeded: false })).toBe(true);
    expect(isReasonable({ q1_needed: true, q2_unneeded: true })).toBe(false);
    expect(isReasonable({ q1_needed: false, q2_unneeded: false })).toBe(false);
    expect(isReasonable({ q1_needed: null, q2_unneeded: false })).toBeNull();
  });
});

describe("slotKey", () => {
  const all = ["q1", "q2", "likert"] as const;
  const empty = { q1_needed: null, q2_unneeded: null, likert: null };

  it("walks the study's questions in order", () => {
    expect(slotKey(empty, all, "n")).toEqual({ q1_needed: false });
    expect(slotKey({ ...empty, q1_needed: false }, all, "y")).toEqual({ q2_unneeded: true });
    expect(slotKey({ ...empty, q1_needed: false, q2_unneeded: true }, all, "4")).toEqual({ likert: 4 });
  });

  it("takes only 1-5 for a Likert question and nothing once complete", () => {
    expect(slotKey(empty, ["likert"], "6")).toBeNull();
    expect(slotKey(empty, ["likert"], "y")).toBeNull();
    expect(slotKey({ q1_needed: true, q2_unneeded: false, likert: 3 }, all, "1")).toBeNull();
    expect(openQuestion({ q1_needed: true, q2_unneeded: false, likert: 3 }, all)).toBeNull();
  });
});
