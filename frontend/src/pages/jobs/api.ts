// Wire types and calls of the modeling endpoints: jobs, model versions, artifacts, predictions.

import { ApiError, asPage, request } from "../../api";
import type { Paginated, User } from "../../types";

export type JobKind = "train" | "refine" | "explain" | "evaluate";
export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export const ACTIVE_STATUSES: readonly JobStatus[] = ["queued", "running"];

export interface JobProgress {
  fraction: number;
  step: number;
  total: number;
  message: string;
}

export interface VersionRef {
  id: number;
  number: number;
  method: string;
}

export interface Job {
  id: number;
  project: number;
  kind: JobKind;
  status: JobStatus;
  parameters: Record<string, unknown>;
  progress: JobProgress;
  created_by: User | null;
  created_at: string;
  enqueued: boolean;
  enqueued_at: string | null;
  enqueue_error: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  worker: { host: string; pid: number | null; device: string };
  attempts: number;
  cancel_requested: boolean;
  error_message: string;
  checkpoint_epoch: number | null;
  log_lines: number;
  result: Record<string, unknown>;
  model_version: VersionRef | null;
  produced_version: VersionRef | null;
}

export interface MetricPoint {
  step: number;
  epoch: number | null;
  values: Record<string, number | boolean | null>;
  created_at: string;
}

export interface JobPoll {
  job: Job;
  metrics: MetricPoint[];
  log: { lines: string[]; total: number };
}

export interface Param {
  name: string;
  type: "int" | "float" | "bool" | "choice" | "str" | "ids" | "list";
  default: unknown;
  minimum: number | null;
  maximum: number | null;
  choices: unknown[];
  methods: string[];
  nullable: boolean;
  help: string;
  group: string;
}

export interface JobSchema {
  kinds: Record<JobKind, Param[]>;
  presets: Record<string, Record<string, unknown>>;
  quick_preset: Record<string, unknown>;
}

export type Metrics = Record<string, unknown>;

export interface ModelVersion {
  id: number;
  project: number;
  number: number;
  architecture: string;
  method: string;
  hyperparameters: Record<string, unknown>;
  class_names: string[];
  preprocessing: Record<string, unknown>;
  metrics: Record<string, Metrics>;
  checkpoint_bytes: number;
  checkpoint_url: string;
  parent: number | null;
  job: number | null;
  is_active: boolean;
  activated_at: string | null;
  created_by: User | null;
  created_at: string;
}

export interface Comparison {
  a: ModelVersion;
  b: ModelVersion;
  metrics: { split: string; metric: string; a: unknown; b: unknown; delta: number | null }[];
  hyperparameters: { name: string; a: unknown; b: unknown }[];
}

export interface PredictionResult {
  probabilities_o: Record<string, number>;
  predicted_o: string;
  probabilities_m: Record<string, number> | null;
  predicted_m: string | null;
  method: string;
  device: string;
  maps: string[];
  note?: string;
  n_masks?: number;
  n_masks_trained?: number;
  n_masks_reduced?: boolean;
  elapsed_ms?: number;
}

export interface Prediction {
  id: number;
  status: "pending" | "done" | "failed";
  model_version: number;
  image: number;
  prompt_version: number | null;
  use_prompt: boolean;
  n_masks: number;
  result: PredictionResult | Record<string, never>;
  error_message: string;
  created_at: string;
  finished_at: string | null;
  maps: { gradcam: string | null; gradcam_m: string | null; refined: string | null };
}

const PAGE = { page_size: 500 };

export const modelingApi = {
  schema: () => request<JobSchema>("jobs/schema/"),
  jobs: async (project: number | string, page = 1) =>
    asPage(await request<Job[] | Paginated<Job>>("jobs/", { query: { project, page, page_size: 50 } })),
  job: (id: number | string) => request<Job>(`jobs/${id}/`),
  poll: (id: number | string, afterStep: number | null, signal?: AbortSignal) =>
    request<JobPoll>(`jobs/${id}/progress/`, {
      query: { after_step: afterStep ?? undefined, log_lines: 200 },
      signal,
    }),
  launch: (project: number, kind: JobKind, parameters: Record<string, unknown>) =>
    request<Job>("jobs/", { json: { project, kind, parameters } }),
  cancel: (id: number) => request<Job>(`jobs/${id}/cancel/`, { method: "POST" }),

  versions: async (project: number | string) =>
    asPage(await request<ModelVersion[] | Paginated<ModelVersion>>("model-versions/", { query: { project, ...PAGE } }))
      .results,
  version: (id: number | string) => request<ModelVersion>(`model-versions/${id}/`),
  activate: (id: number) => request<ModelVersion>(`model-versions/${id}/activate/`, { method: "POST" }),
  compare: (a: number, b: number) => request<Comparison>("model-versions/compare/", { query: { a, b } }),

  predict: (payload: { image: number; model_version?: number; prompt?: number; use_prompt: boolean }) =>
    request<Prediction>("predictions/", { json: { ...payload, wait_ms: 3000 } }),
  prediction: (id: number) => request<Prediction>(`predictions/${id}/`),
};

/** Asks for a prediction and polls until the worker answered (or failed). */
export async function predictAndWait(
  payload: { image: number; model_version?: number; prompt?: number; use_prompt: boolean },
  options: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<Prediction> {
  let prediction = await modelingApi.predict(payload);
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  while (prediction.status === "pending") {
    if (Date.now() > deadline) throw new ApiError(504, "timeout", "No worker answered in time.");
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
    prediction = await modelingApi.prediction(prediction.id);
  }
  return prediction;
}

/** A number for display (3 significant decimals), or an en dash. */
export function fmt(value: unknown, digits = 3): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  return value.toFixed(digits);
}

export function isActive(status: JobStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}
