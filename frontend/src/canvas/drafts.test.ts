// @vitest-environment node
import { describe, expect, it } from "vitest";
import { type Draft, draftKey, MemoryDraftStore, parseDraftKey, sendPendingDrafts } from "./drafts";

const draft = (base: number): Draft => ({
  png: Uint8Array.of(base),
  baseVersion: base,
  window: null,
  savedAt: base,
});

describe("draft keys", () => {
  it("name the user, image and target class, and parse back", () => {
    expect(draftKey(3, 42, "pneumonia / left")).toBe("3/42/pneumonia / left");
    expect(parseDraftKey("3/42/pneumonia / left")).toEqual({
      userId: 3,
      imageId: 42,
      targetClass: "pneumonia / left",
    });
    expect(parseDraftKey("nonsense")).toBeNull();
  });
});

describe("sendPendingDrafts", () => {
  it("sends the user's drafts for other images and removes those the server accepted", async () => {
    const store = new MemoryDraftStore();
    await store.put("1/10/a", draft(1));
    await store.put("1/11/a", draft(2));
    await store.put("1/12/a", draft(3)); // open in this tab
    await store.put("2/10/a", draft(4)); // another user's
    const sent: string[] = [];
    const count = await sendPendingDrafts(
      store,
      1,
      async (imageId, targetClass, d) => {
        sent.push(`${imageId}/${targetClass}@${d.baseVersion}`);
        return imageId === 10; // image 11 conflicts
      },
      "1/12/a",
    );
    expect(count).toBe(1);
    expect(sent).toEqual(["10/a@1", "11/a@2"]);
    expect(await store.keys()).toEqual(["1/11/a", "1/12/a", "2/10/a"]);
  });
});
