/**
 * Unsent prompt edits kept in the browser (IndexedDB), so a dropped connection, a closed tab or a
 * crash never loses a drawing: a draft is written before every save attempt and removed once the
 * server has accepted that exact revision.
 */

import type { DisplayWindow } from "./windowing";

/** A prompt edit not yet accepted by the server. */
export interface Draft {
  /** The mask as the interchange PNG, exactly as it will be sent. */
  png: Uint8Array;
  /** The server version the edit started from (0 when creating). */
  baseVersion: number;
  /** The display window in use, or null for non-DICOM images. */
  window: DisplayWindow | null;
  /** Milliseconds since the epoch when the draft was written. */
  savedAt: number;
}

/** Where drafts live; keys name the user, image and target class. */
export interface DraftStore {
  keys(): Promise<string[]>;
  get(key: string): Promise<Draft | undefined>;
  put(key: string, draft: Draft): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The key of a prompt's draft: one per user, image and target class. */
export function draftKey(userId: number, imageId: number, targetClass: string): string {
  return `${userId}/${imageId}/${targetClass}`;
}

/** The parts of a draft key, or null for a key of another shape. */
export function parseDraftKey(
  key: string,
): { userId: number; imageId: number; targetClass: string } | null {
  const match = /^(\d+)\/(\d+)\/(.+)$/.exec(key);
  return match
    ? { userId: Number(match[1]), imageId: Number(match[2]), targetClass: match[3] }
    : null;
}

/** Drafts in memory (tests, and browsers without IndexedDB such as some private modes). */
export class MemoryDraftStore implements DraftStore {
  readonly drafts = new Map<string, Draft>();

  async keys(): Promise<string[]> {
    return [...this.drafts.keys()];
  }

  async get(key: string): Promise<Draft | undefined> {
    return this.drafts.get(key);
  }

  async put(key: string, draft: Draft): Promise<void> {
    this.drafts.set(key, draft);
  }

  async delete(key: string): Promise<void> {
    this.drafts.delete(key);
  }
}

const DB_NAME = "sightline";
const STORE = "prompt-drafts";

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Drafts in IndexedDB, surviving reloads and restarts. */
export class IdbDraftStore implements DraftStore {
  private db: Promise<IDBDatabase> | null = null;

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return this.db;
  }

  private async store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
    return (await this.open()).transaction(STORE, mode).objectStore(STORE);
  }

  async keys(): Promise<string[]> {
    return ((await promised((await this.store("readonly")).getAllKeys())) as IDBValidKey[]).map(
      String,
    );
  }

  async get(key: string): Promise<Draft | undefined> {
    return (await promised((await this.store("readonly")).get(key))) as Draft | undefined;
  }

  async put(key: string, draft: Draft): Promise<void> {
    await promised((await this.store("readwrite")).put(draft, key));
  }

  async delete(key: string): Promise<void> {
    await promised((await this.store("readwrite")).delete(key));
  }
}

/** IndexedDB when the browser offers it, else memory. */
export function defaultDraftStore(): DraftStore {
  return typeof indexedDB === "undefined" ? new MemoryDraftStore() : new IdbDraftStore();
}

/**
 * Sends the drafts a user left on other images (moved on while offline): each one saved is
 * removed; a conflict or failure leaves it for when that image is opened again, where the user
 * sees both versions.
 *
 * @param send saves one draft and answers whether the server accepted it.
 * @param skip the key of the prompt open in this tab (its own saver handles it).
 * @returns how many drafts were saved.
 */
export async function sendPendingDrafts(
  store: DraftStore,
  userId: number,
  send: (imageId: number, targetClass: string, draft: Draft) => Promise<boolean>,
  skip: string | null = null,
): Promise<number> {
  let sent = 0;
  for (const key of await store.keys()) {
    const parts = parseDraftKey(key);
    if (!parts || parts.userId !== userId || key === skip) continue;
    const draft = await store.get(key);
    if (!draft) continue;
    let accepted = false;
    try {
      accepted = await send(parts.imageId, parts.targetClass, draft);
    } catch {
      accepted = false;
    }
    // Removed only if unchanged meanwhile (another tab may have written a newer draft).
    if (accepted && (await store.get(key))?.savedAt === draft.savedAt) {
      await store.delete(key);
      sent++;
    }
  }
  return sent;
}
