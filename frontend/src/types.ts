// Wire types of the REST API v1 (see the API contract). Field names match the JSON exactly.

export type Role = "admin" | "annotator" | "reviewer";
export type Split = "train" | "val" | "test" | "unassigned";
export type ImageFormat = "png" | "jpeg" | "tiff" | "dicom";

export const SPLITS: readonly Split[] = ["train", "val", "test", "unassigned"];

export interface User {
  id: number;
  username: string;
  is_superuser: boolean;
}

export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface Project {
  id: number;
  name: string;
  description: string;
  class_names: string[];
  positive_class: string;
  window_center: number;
  window_width: number;
  my_role: Role | null;
  image_count: number;
  prompted_image_count: number;
  created_at: string;
}

export interface ProjectCreate {
  name: string;
  description?: string;
  class_names: string[];
  positive_class?: string;
  window_center?: number;
  window_width?: number;
}

export interface Member {
  user: User;
  role: Role;
}

/** DICOM fields of an image's metadata; other formats may carry other keys. */
export interface DicomMetadata {
  modality?: string | null;
  rescale_slope?: number | null;
  rescale_intercept?: number | null;
  window_center?: number | number[] | null;
  window_width?: number | number[] | null;
  pixel_spacing?: number[] | null;
  study_instance_uid?: string | null;
  series_instance_uid?: string | null;
  sop_instance_uid?: string | null;
  number_of_frames?: number | null;
  transfer_syntax_uid?: string | null;
  bits_stored?: number | null;
  photometric_interpretation?: string | null;
  [key: string]: unknown;
}

export interface Image {
  id: number;
  project: number;
  name: string;
  format: ImageFormat;
  width: number;
  height: number;
  label: string | null;
  split: Split;
  checksum: string;
  frame_index: number | null;
  window_center: number | null;
  window_width: number | null;
  is_dicom: boolean;
  display_url: string;
  thumbnail_url: string;
  original_url: string;
  has_prompt: boolean;
  prompt_count: number;
  created_at: string;
}

export interface ImageDetail extends Image {
  metadata: DicomMetadata;
  has_explanation: boolean;
}

export interface ImageUpdate {
  label?: string | null;
  split?: Split;
}

export interface Rejection {
  file: string;
  reason: string;
}

export interface UploadResult {
  created: Image[];
  rejected: Rejection[];
}

export interface ImportResult {
  imported: number;
  prompts: number;
  explanations: number;
  rejected: Rejection[];
  summary: string;
}

/** Pixel counts of a prompt mask by code: important=+1, unimportant=0, unclear=-1. */
export interface PromptCounts {
  important: number;
  unimportant: number;
  unclear: number;
}

export interface Prompt {
  id: number;
  image: number;
  annotator: User;
  target_class: string;
  version: number;
  window_center: number | null;
  window_width: number | null;
  counts: PromptCounts;
  mask_url: string;
  updated_at: string;
}

export interface PromptVersion {
  id: number;
  /** null for a rejected (conflicting) save, which never becomes current. */
  version: number | null;
  status: "accepted" | "conflict";
  based_on: number | null;
  author: User;
  window_center: number | null;
  window_width: number | null;
  counts: PromptCounts;
  size_bytes: number;
  created_at: string;
  mask_url: string;
}

/** Run-length encoded mask, row-major; each run is [value in {-1, 0, 1}, run length]. */
export interface RleMask {
  width: number;
  height: number;
  rle: Array<[number, number]>;
}

/** Detail of a 409 `conflict` answer to a prompt save. */
export interface PromptConflictDetail {
  current_version: number;
  your_version_id: number;
  current: Prompt;
}

/** Query filters of the image list endpoint. */
export interface ImageFilters {
  split?: Split;
  label?: string;
  has_prompt?: boolean;
  annotator?: string;
  search?: string;
  ordering?: "name" | "-name" | "created_at" | "-created_at";
  page?: number;
  page_size?: number;
}
