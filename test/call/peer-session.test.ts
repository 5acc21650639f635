import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { SimCamera } from "../../hal/sim/sim-camera.js";
import { GopCache } from "../../src/call/gop-cache.js";
import { PeerSession, type PeerState } from "../../src/call/peer-session.js";
import { startChromium, type RunningChromium } from "../support/chromium.js";
import { pidAlive } from "../support/processes.js";
import { waitFor } from "../support/wait.js";

const log = pino({ level: "silent" });

describe("PeerSession → real Chromium (no signaling server)", () => {
  let chrome: RunningChromium;
  const camera = new SimCamera({ width: 640, height: 360, fps: 15, bitrateKbps: 600, rotation: 0 }, "pillar-test", log);

  beforeAll(async () => {
    chrome = await startChromium();
    await camera.start();
  });
  afterAll(async () => {
    await camera.stop();
    await chrome?.stop();
  });

  it("forwards the sim camera's H.264 RTP untouched into a track the browser decodes", async () => {
    const cache = new GopCache();
    const states: PeerState[] = [];
    const candidates: { candidate: string; mid: string }[] = [];
    const peer: PeerSession = new PeerSession({
      name: "t",
      iceServers: [],
      bindAddress: "127.0.0.1",
      log,
      onCandidate: (candidate, mid) => candidates.push({ candidate, mid }),
      onState: (s) => states.push(s),
      onAudio: () => undefined,
      onVideoOpen: () => peer.sendBurst(cache),
    });
    camera.onRtp((p) => {
      cache.push(p);
      peer.sendVideo(p);
    });
    await waitFor(() => cache.size.packets > 0, "a keyframe in the GOP cache");
    const offer = await peer.createOffer();
    expect(offer).toContain("H264/90000");
    const page = await chrome.browser.newPage();
    const answer = await page.evaluate(async (sdp) => {
      const pc = new RTCPeerConnection();
      (window as any).pc = pc;
      const video = document.createElement("video");
      video.muted = true;
      video.autoplay = true;
      document.body.append(video);
      (window as any).frames = 0;
      const count = () => video.requestVideoFrameCallback(() => ((window as any).frames++, count()));
      count();
      pc.ontrack = (e) => {
        if (e.track.kind === "video") video.srcObject = new MediaStream([e.track]);
      };
      await pc.setRemoteDescription({ type: "offer", sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await new Promise<void>((r) =>
        pc.iceGatheringState === "complete"
          ? r()
          : pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && r()),
      );
      return pc.localDescription!.sdp;
    }, offer);
    peer.setAnswer(answer);
    await waitFor(() => candidates.length > 0, "pillar candidates", 5000);
    for (const c of candidates)
      await page.evaluate((c) => (window as any).pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.mid }), c);
    await waitFor(() => states.includes("connected"), "connected", 10_000);
    const stats = await waitFor(
      () =>
        page.evaluate(() => {
          const v = document.querySelector("video")!;
          const q = v.getVideoPlaybackQuality();
          return (window as any).frames >= 10
            ? { frames: (window as any).frames, total: q.totalVideoFrames, w: v.videoWidth, h: v.videoHeight }
            : null;
        }),
      "decoded frames",
      15_000,
    );
    expect(stats.w).toBe(640);
    expect(stats.h).toBe(360);
    expect(stats.total).toBeGreaterThanOrEqual(10);
    expect(peer.videoPackets).toBeGreaterThan(20);
    peer.close();
    await page.close();
    expect(pidAlive(camera.pid())).toBe(true);
  });
});
