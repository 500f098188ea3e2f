/**
 * Autosave of one prompt: debounced after every edit, immediate on request (save key, leaving the
 * image), kept in the browser while offline and sent when the connection returns, and stopped at
 * a version conflict until the user chooses.
 *
 * Every save carries the version it was based on; the server answers with the new version
 * (which becomes the next base) or a 409 conflict. Before each attempt the exact bytes are
 * written to the {@link DraftStore}; the draft is removed only once the server holds that
 * revision, so a reload after a failed save can still send it.
 */

import type { Prompt, PromptConflictDetail } from "../types";
import type { Draft, DraftStore } from "./drafts";
import type { DisplayWindow } from "./windowing";

/** What the status indicator shows. */
export type SaveStatus = "saved" | "unsaved" | "saving" | "offline" | "conflict" | "error";

/** The mask and window to send. */
export interface Snapshot {
  png: Uint8Array;
  window: DisplayWindow | null;
}

/** How one save attempt ended. */
export type SaveOutcome =
  | { kind: "saved"; prompt: Prompt }
  | { kind: "conflict"; detail: PromptConflictDetail }
  | { kind: "offline" }
  | { kind: "failed"; status: number; message: string; retry: boolean };

/** Sends a prompt to the server (HTTP in the app, a fake in tests). */
export interface PromptTransport {
  save(snapshot: Snapshot, baseVersion: number): Promise<SaveOutcome>;
}

export interface AutoSaverOptions {
  /** Draft key ({@link draftKey}). */
  key: string;
  /** The server version the editor's mask was loaded from (0: no prompt yet). */
  baseVersion: number;
  transport: PromptTransport;
  drafts: DraftStore;
  /** Encodes the editor's current mask. */
  snapshot: () => Promise<Snapshot>;
  /** Called whenever {@link AutoSaver.status} changes. */
  onStatus?: (status: SaveStatus) => void;
  onSaved?: (prompt: Prompt) => void;
  /** A save was rejected as stale: show both versions (`mine` is what was sent). */
  onConflict?: (detail: PromptConflictDetail, mine: Snapshot) => void;
  /** Quiet period after an edit before saving. */
  debounceMs?: number;
  /** Waits between retries while offline or after a server error (the last one repeats). */
  retryDelaysMs?: readonly number[];
  /** Whether the browser believes it is online. */
  isOnline?: () => boolean;
}

export class AutoSaver {
  /** The server version the next save is based on. */
  baseVersion: number;
  /** Message of the last failed attempt. */
  lastError: string | null = null;
  /** Bytes of the last accepted save. */
  lastSavedBytes = 0;

  private readonly options: AutoSaverOptions;
  private revision = 0;
  private savedRevision = 0;
  private current: SaveStatus = "saved";
  private failure: "offline" | "error" | null = null;
  private conflict = false;
  private sending = false;
  private again = false;
  private inflight: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retries = 0;
  private disposed = false;

  constructor(options: AutoSaverOptions) {
    this.options = options;
    this.baseVersion = options.baseVersion;
  }

  /** The state shown to the user. */
  get status(): SaveStatus {
    return this.current;
  }

  /** Whether the editor holds edits the server does not have. */
  get dirty(): boolean {
    return this.revision !== this.savedRevision;
  }

  /** Records an edit and schedules a save after the quiet period. */
  edited(): void {
    this.revision++;
    this.update();
    if (!this.conflict) this.schedule(this.options.debounceMs ?? 600);
  }

  /**
   * Saves now and waits: resolves true when the server holds every edit, false when the save
   * could not complete (offline, conflict, error; the draft stays in the browser).
   */
  async flush(): Promise<boolean> {
    this.cancelTimer();
    await this.run();
    return !this.dirty;
  }

  /** The connection is back: send what is pending. */
  connectionRestored(): void {
    if (this.dirty && !this.conflict) void this.flush();
  }

  /** Conflict resolved by keeping this tab's mask: save it on top of the current version. */
  keepMine(currentVersion: number): Promise<boolean> {
    this.baseVersion = currentVersion;
    this.conflict = false;
    this.update();
    return this.flush();
  }

  /**
   * Conflict resolved by taking the server's version: the editor now shows it, nothing is
   * pending, and the rejected mask remains in the server's history.
   */
  async takeTheirs(version: number): Promise<void> {
    this.baseVersion = version;
    this.conflict = false;
    this.failure = null;
    this.savedRevision = this.revision;
    this.update();
    try {
      await this.options.drafts.delete(this.options.key);
    } catch {
      // A draft that cannot be removed is harmless: it is compared with the server on load.
    }
  }

  /** Stops timers; an in-flight save still completes. */
  dispose(): void {
    this.disposed = true;
    this.cancelTimer();
  }

  private schedule(delay: number): void {
    this.cancelTimer();
    if (this.disposed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, delay);
  }

  private cancelTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private update(): void {
    let next: SaveStatus;
    if (this.conflict) next = "conflict";
    else if (this.sending) next = "saving";
    else if (!this.dirty) next = "saved";
    else if (this.failure) next = this.failure;
    else next = "unsaved";
    if (next !== this.current) {
      this.current = next;
      this.options.onStatus?.(next);
    }
  }

  private run(): Promise<void> {
    if (this.inflight) {
      this.again = true;
      return this.inflight;
    }
    this.inflight = this.loop().finally(() => {
      this.inflight = null;
      this.sending = false;
      this.update();
    });
    return this.inflight;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      if (!this.dirty || this.conflict) return;
      if (!(await this.attempt())) return;
    } while (this.again || this.dirty);
  }

  /** One save attempt; returns whether to continue with newer edits. */
  private async attempt(): Promise<boolean> {
    const { drafts, key, transport, isOnline } = this.options;
    const revision = this.revision;
    const base = this.baseVersion;
    const snapshot = await this.options.snapshot();
    const draft: Draft = { ...snapshot, baseVersion: base, savedAt: Date.now() };
    try {
      await drafts.put(key, draft);
    } catch {
      // Storage full or unavailable: the save below is still worth trying.
    }
    if (isOnline && !isOnline()) return this.failed("offline", "The browser is offline.", true);
    this.sending = true;
    this.update();
    let outcome: SaveOutcome;
    try {
      outcome = await transport.save(snapshot, base);
    } catch (error) {
      outcome = { kind: "failed", status: 0, message: String(error), retry: true };
    } finally {
      this.sending = false;
    }
    switch (outcome.kind) {
      case "saved":
        this.baseVersion = outcome.prompt.version;
        this.savedRevision = revision;
        this.lastSavedBytes = snapshot.png.length;
        this.failure = null;
        this.lastError = null;
        this.retries = 0;
        if (!this.dirty) {
          try {
            await drafts.delete(key);
          } catch {
            // See takeTheirs.
          }
        }
        this.update();
        this.options.onSaved?.(outcome.prompt);
        return true;
      case "conflict":
        this.conflict = true;
        this.update();
        this.options.onConflict?.(outcome.detail, snapshot);
        return false;
      case "offline":
        return this.failed("offline", "The server could not be reached.", true);
      case "failed":
        return this.failed("error", outcome.message, outcome.retry);
    }
  }

  private failed(kind: "offline" | "error", message: string, retry: boolean): false {
    this.failure = kind;
    this.lastError = message;
    this.update();
    if (retry) {
      const delays = this.options.retryDelaysMs ?? [1000, 2000, 5000, 10000];
      this.schedule(delays[Math.min(this.retries, delays.length - 1)]);
      this.retries++;
    }
    return false;
  }
}
