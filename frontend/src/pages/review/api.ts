// Wire types and calls of the review, selection and rating-study endpoints (REST API v1).

import { apiUrl, asList, asPage, request } from "../../api";
import type { Image, Paginated, Split, User } from "../../types";

export type Quadrant = "RA" | "UA" | "RIA" | "UIA";
export const QUADRANTS: readonly Quadrant[] = ["RA", "UA", "RIA", "UIA"];
export const QUADRANT_NAMES: Record<Quadrant, string> = {
  RA: "Reasonable, accurate",
  UA: "Unreasonable, accurate",
  RIA: "Reasonable, inaccurate",
  UIA: "Unreasonable, inaccurate",
};

export interface ModelVersion {
  id: number;
  project: number;
  number: number;
  method: string;
  architecture: string;
  is_active: boolean;
  created_at: string;
}

export interface ImageBrief {
  id: number;
  name: string;
  label: string | null;
  split: Split;
  width: number;
  height: number;
  display_url: string;
  thumbnail_url: string;
}

export interface Answer {
  q1_needed: boolean;
  q2_unneeded: boolean;
}

export interface ReviewItem {
  image: ImageBrief;
  predicted_class: string;
  confidence: number;
  probabilities: Record<string, number>;
  outside_energy: number | null;
  map_url: string | null;
  my_answer: Answer | null;
}

export interface Assessment extends Answer {
  id: number;
  model_version: number;
  image: number;
  reviewer: User;
  reasonable: boolean;
  predicted_class: string;
  updated_at: string;
}

export interface KappaPair {
  a: string;
  b: string;
  n: number;
  kappa: number | null;
}

export interface Fleiss {
  kappa: number | null;
  items: number;
  raters: number;
}

export interface Matrix {
  model_version: number;
  split: Split | null;
  counts: Record<Quadrant, number>;
  total: number;
  ra_performance: number | null;
  attention_accuracy: number | null;
  assessed_images: number;
  undecided: number;
  unlabelled: number;
  predicted_images: number;
  disagreements: number;
  reviewers: { username: string; assessments: number }[];
  agreement: { cohen: KappaPair[]; fleiss: Fleiss };
  definition: string;
}

export interface Decision {
  image: number;
  image_name: string;
  label: string | null;
  predicted_class: string;
  votes: { reviewer: string; q1_needed: boolean; q2_unneeded: boolean; reasonable: boolean }[];
  majority: boolean | null;
  adjudicated: boolean | null;
  reasonable: boolean | null;
  accurate: boolean | null;
  quadrant: Quadrant | null;
  thumbnail_url: string;
}

export interface SelectionRules {
  model_version?: number | null;
  split?: Split | null;
  label?: string | null;
  predicted_class?: string | null;
  confidence_min?: number | null;
  confidence_max?: number | null;
  correct?: boolean | null;
  quadrants?: string[] | null;
  outside_energy_min?: number | null;
  outside_energy_max?: number | null;
  has_prompt?: boolean | null;
  annotator?: string | null;
  search?: string | null;
}

export interface Selection {
  id: number;
  project: number;
  name: string;
  rules: SelectionRules;
  count: number;
  image_ids: number[];
  created_by: User | null;
  created_at: string;
  queued_for_annotation_at: string | null;
}

export interface SelectionPreview {
  count: number;
  image_ids: number[];
  images: Image[];
  rules: SelectionRules;
}

export type ConditionKind = "model_map" | "refined_prompt" | "raw_prompt";
export type Question = "q1" | "q2" | "likert";

export interface ConditionInput {
  name: string;
  kind: ConditionKind;
  model_version?: number | null;
  map_method?: "gradcam" | "rise";
}

export interface StudySetup {
  name: string;
  description?: string;
  conditions: ConditionInput[];
  reviewers: string[];
  questions?: Question[];
  correction?: "holm" | "bonferroni";
}

export interface Study {
  id: number;
  project: number;
  name: string;
  description: string;
  status: "open" | "closed";
  questions: Question[];
  correction: "holm" | "bonferroni";
  image_count: number;
  condition_count: number;
  reviewer_count: number;
  my_role: string | null;
  is_participant: boolean;
  my_progress: { done: number; total: number };
  likert_anchors: Record<string, string>;
  created_at: string;
  closed_at: string | null;
  conditions?: (ConditionInput & { id: number })[];
  progress?: { username: string; complete: number; expected: number }[];
}

export interface Slot {
  slot: number;
  map_url: string;
  q1_needed: boolean | null;
  q2_unneeded: boolean | null;
  likert: number | null;
  complete: boolean;
}

export interface StudyItem {
  id: number;
  study: number;
  position: number;
  image: ImageBrief;
  done: number;
  slots: Slot[];
}

export interface NextItem {
  item: StudyItem | null;
  progress: { done: number; total: number };
  status: "open" | "closed";
}

export interface Describe {
  n: number;
  mean: number | null;
  sd: number | null;
  median: number | null;
}

export interface ConditionReport {
  id: number;
  name: string;
  kind: ConditionKind;
  model_version: number | null;
  map_method: string;
  likert: Describe & { distribution: Record<string, number> };
  reasonable: { n: number; share: number | null };
  matrix: { counts: Record<Quadrant, number>; total: number; ra_performance: number | null; attention_accuracy: number | null } | null;
}

export interface DunnPair {
  a: string;
  b: string;
  mean_rank_a: number;
  mean_rank_b: number;
  z: number | null;
  p: number | null;
  p_adjusted: number | null;
}

export interface StudyReport {
  study: { id: number; name: string; status: string };
  questions: Question[];
  likert_anchors: Record<string, string>;
  conditions: ConditionReport[];
  kruskal_wallis: { h: number | null; df: number | null; p: number | null; n: number; reason: string | null };
  dunn: { correction: string; pairs: DunnPair[] };
  likert_by_slot: Record<string, Describe>;
  agreement: {
    likert: { cohen_quadratic: KappaPair[]; fleiss: Fleiss };
    reasonable: { cohen: KappaPair[]; fleiss: Fleiss };
  };
  progress: { username: string; complete: number; expected: number }[];
  definitions: Record<string, string>;
}

const PAGE = 500;

/** Every page of a paginated list endpoint. */
export async function listAllPages<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; ; page++) {
    const answer = asPage(await request<T[] | Paginated<T>>(path, { query: { ...query, page, page_size: PAGE } }));
    items.push(...answer.results);
    if (!answer.next || answer.results.length === 0) return items;
  }
}

export const reviewApi = {
  versions: (projectId: number | string) =>
    listAllPages<ModelVersion>("model-versions/", { project: projectId }),
  version: (id: number | string) => request<ModelVersion>(`model-versions/${id}/`),
  queue: (versionId: number | string, split?: string) =>
    listAllPages<ReviewItem>(`model-versions/${versionId}/review/queue/`, { split: split || undefined }),
  answer: (versionId: number | string, imageId: number, answer: Answer) =>
    request<Assessment>(`model-versions/${versionId}/assessments/${imageId}/`, { method: "PUT", json: answer }),
  matrix: (versionId: number | string, query: { split?: string; reviewer?: string } = {}) =>
    request<Matrix>(`model-versions/${versionId}/review/matrix/`, { query }),
  cell: (versionId: number | string, quadrant: Quadrant, split?: string) =>
    request<Decision[]>(`model-versions/${versionId}/review/cell/`, { query: { quadrant, split } }),
  disagreements: (versionId: number | string, split?: string) =>
    request<Decision[]>(`model-versions/${versionId}/review/disagreements/`, { query: { split } }),
  adjudicate: (versionId: number | string, imageId: number, reasonable: boolean) =>
    request<unknown>(`model-versions/${versionId}/adjudications/${imageId}/`, { method: "PUT", json: { reasonable } }),
  clearAdjudication: (versionId: number | string, imageId: number) =>
    request<null>(`model-versions/${versionId}/adjudications/${imageId}/`, { method: "DELETE" }),

  previewSelection: (projectId: number | string, rules: SelectionRules) =>
    request<SelectionPreview>(`projects/${projectId}/selections/preview/`, { json: rules }),
  selections: async (projectId: number | string) =>
    asList(await request<Selection[] | Paginated<Selection>>(`projects/${projectId}/selections/`)),
  saveSelection: (projectId: number | string, name: string, rules: SelectionRules) =>
    request<Selection>(`projects/${projectId}/selections/`, { json: { name, rules } }),
  deleteSelection: (id: number) => request<null>(`selections/${id}/`, { method: "DELETE" }),
  queueSelection: (id: number) => request<Selection>(`selections/${id}/annotation-queue/`, { method: "POST" }),
  unqueueSelection: (id: number) => request<Selection>(`selections/${id}/annotation-queue/`, { method: "DELETE" }),
  studyFromSelection: (id: number, setup: StudySetup) =>
    request<Study>(`selections/${id}/study/`, { json: setup }),

  studies: async (projectId: number | string) =>
    asList(await request<Study[] | Paginated<Study>>(`projects/${projectId}/studies/`)),
  study: (id: number | string) => request<Study>(`studies/${id}/`),
  createStudy: (projectId: number | string, setup: StudySetup & { image_ids?: number[]; selection?: number }) =>
    request<Study>(`projects/${projectId}/studies/`, { json: setup }),
  closeStudy: (id: number | string) => request<Study>(`studies/${id}/close/`, { method: "POST" }),
  nextItem: (studyId: number | string) => request<NextItem>(`studies/${studyId}/items/next/`),
  item: (itemId: number) => request<StudyItem>(`study-items/${itemId}/`),
  rate: (itemId: number, slot: number, answer: Partial<Pick<Slot, "q1_needed" | "q2_unneeded" | "likert">>) =>
    request<Slot>(`study-items/${itemId}/ratings/${slot}/`, { method: "PUT", json: answer }),
  report: (studyId: number | string) => request<StudyReport>(`studies/${studyId}/report/`),
  exportUrl: (studyId: number | string, format: "csv" | "json") =>
    apiUrl(`studies/${studyId}/export/`, { format }),
};

/** "0.42" style numbers for reports; "–" when undefined. */
export function fmt(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return value.toFixed(digits);
}

/** p-values: "< 0.001" below a thousandth. */
export function fmtP(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  return value < 0.001 ? "< 0.001" : value.toFixed(3);
}
