import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ProcessCamera, rpicamPipeline, v4l2Pipeline, x264Args } from "../../hal/camera-drivers.js";
import { createCamera, cameraDriverOf } from "../../src/app/drivers.js";
import { alsaMicPipeline } from "../../hal/audio-drivers.js";
import { startsKeyframe } from "../../src/call/rtp.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { testConfigDoc } from "../support/sim-pillar.js";
import { decode } from "./helpers/h264-decode.js";
import { pidAlive } from "../support/processes.js";
import { waitFor } from "../support/wait.js";

const hd = { width: 1280, height: 720, fps: 30, bitrateKbps: 2000, rotation: 0 };

describe("camera driver command lines (for the Pi; argument-tested here)", () => {
  it("rpicam: rpicam-vid H.264 baseline, SPS/PPS inline, 1 s GOP, flushed to stdout, packetized by ffmpeg -c:v copy", () => {
    const [[vid, vargs], [ff, fargs]] = rpicamPipeline({ ...hd, rotation: 180 }) as [
      [string, string[]],
      [string, string[]],
    ];
    expect(vid).toBe("rpicam-vid");
    const v = vargs.join(" ");
    for (const part of [
      "-t 0",
      "--nopreview",
      "--codec h264",
      "--profile baseline",
      "--inline",
      "--intra 30",
      "--flush",
      "--width 1280 --height 720 --framerate 30",
      "--bitrate 2000000",
      "--rotation 180",
    ]) {
      expect(v).toContain(part);
    }
    expect(vargs.slice(-2)).toEqual(["-o", "-"]);
    expect(ff).toBe("ffmpeg");
    expect(fargs.join(" ")).toMatch(
      /-probesize 32 -analyzeduration 0 -f h264 -framerate 30 -i pipe:0 -c:v copy -an -f rtp -payload_type 96 rtp:\/\/127\.0\.0\.1:\{port\}\?pkt_size=1200/,
    );
  });

  it("v4l2: h264_v4l2m2m from raw frames (Pi 4), or a USB camera's own H.264 copied", () => {
    const [[, m2m]] = v4l2Pipeline(hd, { device: "/dev/video0", mode: "m2m" }) as [[string, string[]]];
    const m = m2m.join(" ");
    expect(m).toContain(
      "-f v4l2 -thread_queue_size 64 -framerate 30 -video_size 1280x720 -input_format yuyv422 -i /dev/video0",
    );
    expect(m).toContain("-c:v h264_v4l2m2m -pix_fmt yuv420p -b:v 2000k -g 30 -profile:v baseline");
    expect(m).toContain("-bsf:v dump_extra");
    const [[, copy]] = v4l2Pipeline(hd, { device: "/dev/video2", mode: "copy" }) as [[string, string[]]];
    expect(copy.join(" ")).toContain("-input_format h264 -i /dev/video2 -c:v copy -bsf:v dump_extra -an -f rtp");
  });

  it("ALSA microphone: capture → Opus voip 20 ms RTP", () => {
    const [[, a]] = alsaMicPipeline("echocancel_source", 24, 6) as [[string, string[]]];
    expect(a.join(" ")).toContain("-f alsa -ac 1 -ar 48000 -i echocancel_source -af volume=6dB");
    expect(a.join(" ")).toContain(
      "-c:a libopus -application voip -b:a 24k -frame_duration 20 -f rtp -payload_type 111",
    );
  });

  it("the factory picks the driver from the config (auto: sim with the sim HAL, else rpicam)", () => {
    const sim = validateConfig(testConfigDoc(), "t");
    expect(cameraDriverOf(sim)).toBe("sim");
    expect(createCamera(sim).driver).toBe("sim");
    const pi = validateConfig(testConfigDoc({ hal: { driver: "gpio", gpio: {} } }), "t");
    expect(cameraDriverOf(pi)).toBe("rpicam");
    const usb = validateConfig(testConfigDoc({ call: { camera: { driver: "v4l2", v4l2Mode: "copy" } } }), "t");
    expect(createCamera(usb).driver).toBe("v4l2");
    // the schema's defaults (testConfigDoc itself asks for a small test picture)
    const { call: _testCamera, ...noCall } = testConfigDoc();
    expect(validateConfig(noCall, "t").call).toMatchObject({
      callLimitS: 600,
      warningBeforeEndS: 30,
      answerTimeoutS: 30,
      iceServers: [],
      camera: { mode: "onDemand", width: 1280, height: 720, fps: 30 },
    });
  });

  it("the rpicam pipeline's packetizer half really works: Annex-B piped fd-to-fd into ffmpeg -c:v copy → RTP", async () => {
    const s = { width: 320, height: 180, fps: 10, bitrateKbps: 300, rotation: 0 };
    // A stand-in for rpicam-vid: an encoder writing an Annex-B H.264 byte stream to stdout.
    const fakeVid: [string, string[]] = [
      "ffmpeg",
      [
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=10",
        ...x264Args(s),
        "-f",
        "h264",
        "pipe:1",
      ],
    ];
    const cam = new ProcessCamera("rpicam-standin", s, () => [fakeVid, rpicamPipeline(s)[1]!]);
    const got: Buffer[] = [];
    cam.onRtp((p) => got.push(p));
    await cam.start();
    try {
      expect(cam.pids()).toHaveLength(2);
      await waitFor(
        () => new Set(got.filter((p) => startsKeyframe(p)).map((p) => p.readUInt32BE(4))).size >= 2,
        "two keyframes",
        10_000,
      );
      const first = got.findIndex((p) => startsKeyframe(p));
      const d = await decode(got.slice(first));
      expect(d.md5.length).toBeGreaterThan(8);
      // One of the two dying takes the other with it, and the pipeline comes back.
      const [a, b] = cam.pids();
      process.kill(b!, "SIGKILL");
      await waitFor(() => !pidAlive(a) && !pidAlive(b), "both gone", 5000);
      await waitFor(() => cam.pids().length === 2 && !cam.pids().includes(a!), "restarted pipeline", 5000);
      const n = got.length;
      await waitFor(() => got.length > n + 10, "packets from the restarted pipeline", 10_000);
    } finally {
      const pids = cam.pids();
      await cam.stop();
      for (const p of pids) expect(pidAlive(p)).toBe(false);
    }
  });

  it("an encoder dies with the pillar process, even when the pillar is SIGKILLed (no orphan)", async () => {
    const script = fileURLToPath(new URL("./helpers/camera-child.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const { encoderPid } = await waitFor(
      () => (out.includes("\n") ? (JSON.parse(out) as { encoderPid: number }) : null),
      "the child's encoder pid",
      15_000,
    );
    expect(pidAlive(encoderPid)).toBe(true);
    child.kill("SIGKILL");
    await waitFor(() => !pidAlive(encoderPid), "the orphaned encoder killed by the kernel", 5000);
    expect(pidAlive(child.pid)).toBe(false);
  });
});
