/**
 * Native memory held by garbage JS wrappers.
 *
 * A WebRTC session's native side (libdatachannel's peer connection, tracks, the NACK responder's
 * packet history of up to 512 RTP packets) is freed only when V8 collects the JS wrappers that
 * own it. V8 does not know that memory exists, and the pillar's JS heap barely grows, so a major
 * collection can be hours away: measured on the soak (press, call, hang-up in a loop) the process
 * grew ≈ 280 kB per call, 58 MB/h, all of it freed by one full collection.
 *
 * So after a call's peer connection is closed we ask for one full collection, a few seconds later
 * (off the press path, coalesced: many sessions ending together cost one). It needs Node's
 * `--expose-gc`, which the systemd unit passes; without it this does nothing.
 */
const DELAY_MS = 5000;
let timer: NodeJS.Timeout | undefined;
let collections = 0;

export function releaseNativeMemorySoon(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc || timer) return;
  timer = setTimeout(() => {
    timer = undefined;
    collections++;
    gc();
  }, DELAY_MS);
  timer.unref();
}

/** Full collections requested so far (health, tests). */
export function nativeMemoryCollections(): number {
  return collections;
}
