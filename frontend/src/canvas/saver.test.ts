// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Prompt, PromptConflictDetail } from "../types";
import { MemoryDraftStore } from "./drafts";
import { AutoSaver, type SaveOutcome, type SaveStatus, type Snapshot } from "./saver";

function prompt(version: number): Prompt {
  return {
    id: 7,
    image: 1,
    annotator: { id: 1, username: "ann", is_superuser: false },
    target_class: "pneumonia",
    version,
    window_center: null,
    window_width: null,
    counts: { important: 1, unimportant: 0, unclear: 3 },
    mask_url: "/api/v1/prompts/7/mask/",
    updated_at: "2025-01-01T00:00:00Z",
  };
}

/** A server that accepts saves based on its current version, or goes away when told. */
class FakeServer {
  version = 0;
  offline = false;
  calls: { base: number; png: Uint8Array }[] = [];

  async save(snapshot: Snapshot, base: number): Promise<SaveOutcome> {
    this.calls.push({ base, png: snapshot.png });
    if (this.offline) return { kind: "offline" };
    if (base !== this.version) {
      const detail: PromptConflictDetail = {
        current_version: this.version,
        your_version_id: 99,
        current: prompt(this.version),
      };
      return { kind: "conflict", detail };
    }
    this.version++;
    return { kind: "saved", prompt: prompt(this.version) };
  }
}

function setup(baseVersion = 0) {
  const server = new FakeServer();
  server.version = baseVersion;
  const drafts = new MemoryDraftStore();
  const statuses: SaveStatus[] = [];
  const conflicts: PromptConflictDetail[] = [];
  let content = 0;
  const saver = new AutoSaver({
    key: "1/2/pneumonia",
    baseVersion,
    transport: server,
    drafts,
    snapshot: async () => ({ png: Uint8Array.of(content), window: { center: 40, width: 400 } }),
    onStatus: (s) => statuses.push(s),
    onConflict: (detail) => conflicts.push(detail),
    debounceMs: 500,
    retryDelaysMs: [1000],
  });
  const edit = () => {
    content++;
    saver.edited();
  };
  return { server, drafts, statuses, conflicts, saver, edit };
}

describe("AutoSaver", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("saves once after a burst of edits, based on the loaded version", async () => {
    const { server, saver, edit } = setup(3);
    edit();
    edit();
    await vi.advanceTimersByTimeAsync(400);
    edit();
    expect(server.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(600);
    expect(server.calls.map((c) => [c.base, c.png[0]])).toEqual([[3, 3]]);
    expect(saver.status).toBe("saved");
    expect(saver.baseVersion).toBe(4);
  });

  it("bases the next save on the version the previous one created", async () => {
    const { server, edit } = setup();
    edit();
    await vi.advanceTimersByTimeAsync(600);
    edit();
    await vi.advanceTimersByTimeAsync(600);
    expect(server.calls.map((c) => c.base)).toEqual([0, 1]);
    expect(server.version).toBe(2);
  });

  it("shows unsaved, then saving, then saved", async () => {
    const { statuses, edit } = setup();
    edit();
    await vi.advanceTimersByTimeAsync(600);
    expect(statuses).toEqual(["unsaved", "saving", "saved"]);
  });

  it("saves immediately on flush", async () => {
    const { server, saver, edit } = setup();
    edit();
    expect(await saver.flush()).toBe(true);
    expect(server.calls).toHaveLength(1);
  });

  it("keeps offline edits as a draft and sends them when the connection returns", async () => {
    const { server, drafts, saver, edit } = setup();
    server.offline = true;
    edit();
    await vi.advanceTimersByTimeAsync(600);
    expect(saver.status).toBe("offline");
    edit();
    await vi.advanceTimersByTimeAsync(600);
    expect(drafts.drafts.get("1/2/pneumonia")?.png[0]).toBe(2);
    server.offline = false;
    saver.connectionRestored();
    await vi.advanceTimersByTimeAsync(0);
    expect(saver.status).toBe("saved");
    expect(server.calls.at(-1)?.png[0]).toBe(2);
    expect(drafts.drafts.size).toBe(0);
  });

  it("retries on its own while offline", async () => {
    const { server, saver, edit } = setup();
    server.offline = true;
    edit();
    await vi.advanceTimersByTimeAsync(600);
    server.offline = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(saver.status).toBe("saved");
  });

  it("does not try to send while the browser says it is offline", async () => {
    const server = new FakeServer();
    const saver = new AutoSaver({
      key: "k",
      baseVersion: 0,
      transport: server,
      drafts: new MemoryDraftStore(),
      snapshot: async () => ({ png: Uint8Array.of(1), window: null }),
      isOnline: () => false,
    });
    saver.edited();
    expect(await saver.flush()).toBe(false);
    expect(server.calls).toHaveLength(0);
    expect(saver.status).toBe("offline");
  });

  it("stops at a conflict, reports it, and saves nothing more until resolved", async () => {
    const { server, saver, conflicts, edit } = setup();
    server.version = 2; // another tab saved twice
    edit();
    await vi.advanceTimersByTimeAsync(600);
    expect(saver.status).toBe("conflict");
    expect(conflicts.map((c) => c.current_version)).toEqual([2]);
    edit();
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.calls).toHaveLength(1);
  });

  it("resaves on top of the current version when the user keeps their mask", async () => {
    const { server, saver, drafts, edit } = setup();
    server.version = 2;
    edit();
    await vi.advanceTimersByTimeAsync(600);
    expect(await saver.keepMine(2)).toBe(true);
    expect(server.calls.map((c) => c.base)).toEqual([0, 2]);
    expect(server.version).toBe(3);
    expect(drafts.drafts.size).toBe(0);
  });

  it("drops its pending edit when the user takes the other version", async () => {
    const { server, saver, drafts, edit } = setup();
    server.version = 2;
    edit();
    await vi.advanceTimersByTimeAsync(600);
    await saver.takeTheirs(2);
    expect(saver.status).toBe("saved");
    expect(saver.dirty).toBe(false);
    expect(saver.baseVersion).toBe(2);
    expect(drafts.drafts.size).toBe(0);
  });

  it("saves edits made during a save right after it, on the new version", async () => {
    const { server, saver, edit } = setup();
    let release: () => void = () => {};
    const original = server.save.bind(server);
    server.save = (snapshot, base) =>
      new Promise((resolve) => {
        release = () => resolve(original(snapshot, base));
      });
    edit();
    const flushed = saver.flush();
    await vi.advanceTimersByTimeAsync(0);
    edit(); // painted while the first save is on the wire
    release();
    await vi.advanceTimersByTimeAsync(0);
    release();
    expect(await flushed).toBe(true);
    expect(server.calls.map((c) => [c.base, c.png[0]])).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });
});
