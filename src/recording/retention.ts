import { type ClipStore, deletable } from "./clip-store.js";

/**
 * Retention and disk pressure, in this order: anything deletable past its retention age; then,
 * while over the quota, continuous segments oldest first, then clips the center confirmed,
 * oldest first. A clip the center has not confirmed is never deleted for space: if those alone
 * exceed the quota, `full` is true (the `record.full` fault) and continuous recording stops,
 * while new incidents are still recorded.
 */
export async function enforceQuota(
  store: ClipStore,
  o: { quotaBytes: number; retentionMs: number; now: number },
): Promise<{ deleted: string[]; full: boolean }> {
  const deleted: string[] = [];
  for (const e of store.list()) {
    if (deletable(e) && Date.parse(e.end ?? e.start) < o.now - o.retentionMs) {
      await store.remove(e.id);
      deleted.push(e.id);
    }
  }
  const byAge = store.list().filter(deletable);
  const order = [...byAge.filter((e) => e.kind === "continuous"), ...byAge.filter((e) => e.kind !== "continuous")];
  // Down to 90 %: the clips being written grow until the next check and must stay under the quota.
  for (const e of order) {
    if (store.usage() <= o.quotaBytes * 0.9) break;
    await store.remove(e.id);
    deleted.push(e.id);
  }
  const protectedBytes = store
    .list()
    .filter((e) => !deletable(e) && e.kind === "incident")
    .reduce((n, e) => n + e.bytes, 0);
  return { deleted, full: store.usage() > o.quotaBytes && protectedBytes > 0 };
}
