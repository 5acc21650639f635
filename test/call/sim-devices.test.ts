import { execFile } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { SimMicrophone } from "../../hal/sim/sim-mic.js";
import { SimSpeaker } from "../../hal/sim/sim-speaker.js";
import { SimCamera, simCameraPipeline } from "../../hal/sim/sim-camera.js";
import { startsKeyframe } from "../../src/call/rtp.js";
import { decode } from "./helpers/h264-decode.js";
import { pidAlive } from "../support/processes.js";
import { sleep, waitFor } from "../support/wait.js";

const run = promisify(execFile);
const OUTPUT_DIR = join(process.cwd(), "test-output");
const settings = { width: 320, height: 180, fps: 10, bitrateKbps: 300, rotation: 0 };

/** Collect a camera's packets for `ms`, starting at the next keyframe. */
async function capture(cam: SimCamera, ms: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  let on = false;
  const off = cam.onRtp((p) => {
    if (!on && startsKeyframe(p)) on = true;
    if (on) got.push(p);
  });
  await waitFor(() => on, "a keyframe", 5000);
  await sleep(ms);
  off();
  return got;
}

describe("simulated camera (real ffmpeg/libx264)", () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
  });

  it("command line: testsrc2 with the pillar id and clock drawn, zerolatency constrained baseline, 1 s GOP, RTP ≤ 1200 bytes", () => {
    const [[cmd, args]] = simCameraPipeline({ ...settings, rotation: 180 }, "sq-7", "live", "/font.ttf") as [
      [string, string[]],
    ];
    const line = args.join(" ");
    expect(cmd).toBe("ffmpeg");
    expect(line).toContain("testsrc2=size=320x180:rate=10");
    // the burnt-in clock: local time with its UTC offset and the zone's name, TZ set for the encoder
    expect(line).toContain("drawtext=fontfile=/font.ttf:text='sq-7  %{localtime\\:%Y-%m-%d %X %z} UTC'");
    const [, almatyArgs, env] = simCameraPipeline(settings, "sq-7", "live", "/font.ttf", "Asia/Almaty")[0]!;
    expect(env).toEqual({ TZ: "Asia/Almaty" });
    expect(almatyArgs.join(" ")).toContain("%X %z} Asia/Almaty'");
    expect(line).toMatch(/-tune zerolatency -profile:v baseline/);
    expect(line).toMatch(/-g 10 -keyint_min 10 -sc_threshold 0/);
    expect(line).toContain("hflip,vflip");
    expect(line).toMatch(/rtp:\/\/127\.0\.0\.1:\{port\}\?pkt_size=1200&localaddr=127\.0\.0\.1$/);
    expect(simCameraPipeline(settings, "x", "live", null)[0]![1].join(" ")).not.toContain("drawtext");
  });

  it("the burnt-in clock renders in the configured zone (one real frame saved to test-output/ to look at)", async () => {
    const [cmd, args, env] = simCameraPipeline(
      { ...settings, width: 640, height: 360 },
      "sq-7",
      "live",
      undefined,
      "Asia/Almaty",
    )[0]!;
    const vf = args[args.indexOf("-vf") + 1]!;
    const src = args[args.indexOf("-i") + 1]!;
    await mkdir(OUTPUT_DIR, { recursive: true });
    const out = join(OUTPUT_DIR, "sim-camera-clock-almaty.png");
    await run(
      cmd,
      ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", src, "-vf", vf, "-frames:v", "1", out],
      {
        env: { ...process.env, ...env },
      },
    );
    const png = await readFile(out);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(5000);
  });

  it("streams decodable H.264 with a keyframe every second; black and frozen hooks change the picture; kill is restarted", async () => {
    const cam = new SimCamera(settings, "pillar-sim");
    stops.push(() => cam.stop());
    await cam.start();
    const live = await capture(cam, 1500);
    expect(Math.max(...live.map((p) => p.length))).toBeLessThanOrEqual(1200);
    const keyframes = new Set(live.filter((p) => startsKeyframe(p)).map((p) => p.readUInt32BE(4)));
    expect(keyframes.size).toBeGreaterThanOrEqual(2); // 1 s GOP over 1.5 s
    const d = await decode(live);
    expect(d.md5.length).toBeGreaterThanOrEqual(12);
    expect(new Set(d.md5).size).toBe(d.md5.length); // moving picture
    expect(Math.min(...d.ydif.slice(1))).toBeGreaterThan(1);
    expect(Math.min(...d.yavg)).toBeGreaterThan(60);

    await cam.showBlack();
    const black = await decode(await capture(cam, 800));
    expect(black.yavg.length).toBeGreaterThan(4);
    expect(Math.max(...black.yavg)).toBeLessThan(17);

    await cam.freeze();
    const frozen = await decode(await capture(cam, 1200));
    expect(frozen.md5.length).toBeGreaterThan(8);
    expect(frozen.md5.length).toBeLessThan(20); // still paced at 10 fps
    expect(Math.max(...frozen.ydif.slice(1))).toBeLessThan(0.5); // the same picture (clock included) again and again

    const faults: Error[] = [];
    let recovered = 0;
    cam.onFault((e) => faults.push(e));
    cam.onRecover(() => recovered++);
    await cam.showLive();
    const old = cam.kill();
    await waitFor(() => faults.length === 1, "fault", 5000);
    await waitFor(() => recovered === 1, "recovered", 10_000);
    expect(pidAlive(old)).toBe(false);
    expect(cam.pid()).not.toBe(old);
    expect(cam.restarts).toBe(1);
    const pid = cam.pid();
    await cam.stop();
    expect(pidAlive(pid)).toBe(false);
  });
});

describe("simulated mic → Opus RTP → simulated speaker (real ffmpeg both ways)", () => {
  it("the speaker measures the mic's tone; a deaf mic measures as silence", async () => {
    const mic = new SimMicrophone({ bitrateKbps: 24, gainDb: 0 });
    const speaker = new SimSpeaker({ volume: 100 });
    mic.onRtp((p) => speaker.play(p));
    await speaker.start();
    await mic.start();
    try {
      const t0 = Date.now();
      const tone = await waitFor(
        () => (speaker.loudestSince(t0) > -30 ? speaker.loudestSince(t0) : null),
        "tone level",
        10_000,
      );
      expect(tone).toBeLessThan(0);
      await mic.deafen(true);
      // the decoder may still play what it had buffered: wait for five silent windows in a row
      const silentRun = (since: number) => {
        const w = speaker.levels.filter((x) => x.at > since).slice(-5);
        return w.length === 5 && w.every((x) => x.rmsDbfs < -60) ? w[0]!.at - 1 : null;
      };
      const t1 = await waitFor(() => silentRun(0), "silence windows", 15_000);
      expect(speaker.loudestSince(t1)).toBeLessThan(-60);
      expect(mic.isDeaf).toBe(true);
      // volume 0 on a live speaker: the decoder restarts with the new volume
      await mic.deafen(false);
      speaker.setVolume(0);
      const after = Date.now();
      const t2 = await waitFor(() => silentRun(after), "windows at volume 0", 15_000);
      expect(speaker.loudestSince(t2)).toBeLessThan(-60);
    } finally {
      const pids = [mic.pid(), speaker.pid()];
      await mic.stop();
      await speaker.stop();
      for (const p of pids) expect(pidAlive(p)).toBe(false);
    }
  });
});
