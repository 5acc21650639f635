import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SupervisedRtpProcess } from "../../hal/camera-process.js";
import { SimCamera } from "../../hal/sim/sim-camera.js";
import { SimSpeaker } from "../../hal/sim/sim-speaker.js";
import { createBus } from "../../src/bus/events.js";
import { CameraFeed } from "../../src/call/camera-feed.js";
import { childrenNamed, udpSocketCount } from "../support/processes.js";
import { sleep, waitFor } from "../support/wait.js";

const log = pino({ level: "silent" });

/** One owner per device: overlapping start/stop calls leave exactly what the last call asked for. */
describe("device process ownership", () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
  });

  it("start, stop, start, stop, start (not awaited in between) leaves exactly one child, on a bound port", async () => {
    const udpBefore = udpSocketCount();
    const ports: string[] = [];
    const p = new SupervisedRtpProcess({
      name: "t",
      pipeline: () => {
        return [["sleep", ["30", "{port}"]]];
      },
      log,
    });
    stops.push(() => p.stop());
    await Promise.all([p.start(), p.stop(), p.start(), p.stop(), p.start()]);
    expect(childrenNamed("sleep")).toHaveLength(1);
    expect(p.aliveCount()).toBe(1);
    expect(p.port).toBeGreaterThan(0);
    ports.push(String(p.port));
    expect(udpSocketCount()).toBe(udpBefore + 1);
    await Promise.all([p.stop(), p.start(), p.stop()]);
    expect(childrenNamed("sleep")).toHaveLength(0);
    expect(udpSocketCount()).toBe(udpBefore);
  });

  it("a crash followed by stop: no respawn after the backoff, and a crash while running respawns one", async () => {
    const p = new SupervisedRtpProcess({ name: "t", pipeline: () => [["sleep", ["30"]]], initialBackoffMs: 50, log });
    stops.push(() => p.stop());
    await p.start();
    p.crash();
    await p.stop();
    await sleep(300);
    expect(childrenNamed("sleep")).toHaveLength(0);
    await p.start();
    const first = p.pid();
    p.crash();
    await waitFor(() => p.pid() !== undefined && p.pid() !== first, "respawned");
    expect(childrenNamed("sleep")).toHaveLength(1);
  });

  it("the camera feed under overlapping acquire/release runs at most one encoder and ends with none", async () => {
    const camera = new SimCamera({ width: 160, height: 120, fps: 5, bitrateKbps: 100, rotation: 0 }, "own", log);
    const feed = new CameraFeed({ camera, bus: createBus(), log, mode: () => "onDemand" });
    await feed.start();
    stops.push(() => feed.stop());
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, childrenNamed("ffmpeg").length)), 5);
    try {
      const ops: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) ops.push(feed.acquire(), feed.release());
      ops.push(feed.acquire());
      await Promise.all(ops);
      expect(feed.isRunning()).toBe(true);
      expect(childrenNamed("ffmpeg")).toHaveLength(1);
      await waitFor(() => camera.packetsReceived > 0, "packets");
      await feed.release();
    } finally {
      clearInterval(sampler);
    }
    expect(most).toBeLessThanOrEqual(1);
    expect(childrenNamed("ffmpeg")).toHaveLength(0);
  });

  it("the speaker: start, stop, start leaves one decoder; stop leaves none", async () => {
    const speaker = new SimSpeaker({ volume: 80, log });
    stops.push(() => speaker.stop());
    await Promise.all([speaker.start(), speaker.stop(), speaker.start()]);
    expect(childrenNamed("ffmpeg")).toHaveLength(1);
    await speaker.stop();
    expect(childrenNamed("ffmpeg")).toHaveLength(0);
  });
});
