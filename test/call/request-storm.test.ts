import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PeerSession } from "../../src/call/peer-session.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { NodeOfficer } from "./helpers/node-officer.js";
import { childrenNamed, udpSocketCount } from "../support/processes.js";
import { waitFor } from "../support/wait.js";
import { CallServiceRig } from "./helpers/service-rig.js";

/**
 * 100 officers ask for the same pillar at once (`webrtc/request`), then every one who got an
 * offer hangs up. However the requests interleave, at most one encoder runs at any moment, the
 * number of peer connections stays within `maxPeerSessions`, everyone hears back (an offer or a
 * `busy`), and a few seconds after the hang-ups no encoder and no UDP socket is left. A call
 * afterwards has video.
 */
describe("a storm of call requests", () => {
  const mosq = new TestMosquitto();
  let rig: CallServiceRig;
  beforeAll(async () => {
    await mosq.start();
    rig = await new CallServiceRig("pillar-storm").start(mosq.url);
  });
  afterAll(async () => {
    await rig?.stop();
    await mosq.dispose();
  });

  it("100 simultaneous requests, then all hang-ups: no encoder, no UDP socket left; the next call has video", async () => {
    const N = 100;
    const udpBefore = udpSocketCount();
    const officers: NodeOfficer[] = [];
    let maxEncoders = 0;
    let maxPeers = 0;
    const sampler = setInterval(() => {
      maxEncoders = Math.max(maxEncoders, childrenNamed("ffmpeg").length);
      maxPeers = Math.max(maxPeers, rig.call.peerCount);
    }, 10);
    try {
      for (let i = 0; i < N; i++) officers.push(await new NodeOfficer(`officer-${i}`, mosq.url, rig.pillarId).start());
      await Promise.all(officers.map((o) => o.send("webrtc/request", { officer: o.name })));
      await waitFor(
        () => officers.every((o) => o.offers.length > 0 || o.busy.length > 0),
        "every requester got an offer or busy",
        60_000,
      );
      expect(officers.some((o) => o.offers.length > 0)).toBe(true);
      // the one session left is taken by its officer (auto answer): then everyone hangs up
      await waitFor(() => rig.call.snapshot()?.state === "connected", "the last offer answered", 30_000);
      await Promise.all(
        officers.flatMap((o) =>
          o.offers.map((offer) => o.send("webrtc/hangup", { sessionId: offer.sessionId, officer: o.name })),
        ),
      );
      await waitFor(() => rig.call.snapshot() === null, "no session", 30_000);
    } finally {
      for (const o of officers) await o.stop();
      clearInterval(sampler);
    }
    await waitFor(() => !rig.feed.isRunning(), "camera stopped", 30_000);
    await waitFor(() => childrenNamed("ffmpeg").length === 0, "no encoder process left", 30_000);
    await waitFor(() => rig.call.peerCount === 0 && PeerSession.open === 0, "no peer connection left", 30_000);
    await waitFor(() => udpSocketCount() <= udpBefore, "no UDP socket left", 30_000);
    expect(maxEncoders).toBeLessThanOrEqual(1);
    expect(maxPeers).toBeLessThanOrEqual(rig.settings.maxPeerSessions ?? 2);
    expect(udpSocketCount()).toBeLessThanOrEqual(udpBefore);

    // a call afterwards works and has video
    const anna = await new NodeOfficer("anna", mosq.url, rig.pillarId).start();
    try {
      await anna.send("webrtc/request", { officer: "anna" });
      const offer = await waitFor(() => anna.offers[0], "offer to anna");
      await waitFor(() => anna.received.video > 20, "video at anna", 30_000);
      await anna.send("webrtc/hangup", { sessionId: offer.sessionId, officer: "anna" });
      await waitFor(() => anna.lastState(offer.sessionId)?.state === "ended", "ended");
    } finally {
      await anna.stop();
    }
    await waitFor(() => childrenNamed("ffmpeg").length === 0, "no encoder after the call", 30_000);
  }, 240_000);
});
