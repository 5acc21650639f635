import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { join } from "node:path";
import { SimMicrophone } from "../../hal/sim/sim-mic.js";
import { sha256File } from "../../src/recording/clip-file.js";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { sleep, waitFor } from "../support/wait.js";
import { decodeErrors, probe, RecordRig, videoPacketTimes } from "./helpers/record-rig.js";

const run = promisify(execFile);

/** ffmpeg's volumedetect mean volume (dB) of the file's `n`-th audio stream. */
async function meanVolumeDb(file: string, n: number): Promise<number> {
  const { stderr } = await run("ffmpeg", [
    "-hide_banner",
    "-i",
    file,
    "-map",
    `0:a:${n}`,
    "-af",
    "volumedetect",
    "-f",
    "null",
    "-",
  ]);
  const m = /mean_volume:\s*(-?[\d.]+) dB/.exec(stderr);
  if (!m) throw new Error(`no volume for audio stream ${n}: ${stderr.slice(-300)}`);
  return Number(m[1]);
}
const PRE = 3;
const POST = 3;

describe("incident clips from a real pillar process (sim camera, ffprobe)", () => {
  let rig: RecordRig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  it("press → answered call (the officer speaks) → hang-up: one playable MP4 covering pre-roll + call + post-roll, both directions of the audio; idle writes nothing", async () => {
    rig = await new RecordRig().start();
    await rig.preRollFilled((PRE + 1) * 1000);
    expect(await rig.files()).toEqual([]); // idle: the pre-roll lives in memory only
    const snapshots: Record<string, any>[] = [];
    const watcher = await mqtt.connectAsync(rig.mosq.url, { reconnectPeriod: 200 });
    watcher.on("message", (_t, payload) => snapshots.push(JSON.parse(payload.toString())));
    await watcher.subscribeAsync(`pillar/v1/${rig.pillarId}/snapshot`, { qos: 1 });

    rig.officer.speaks();
    const sessionId = await rig.pressAndAnswer();
    // The press snapshot: a JPEG of the press moment with the incident id, bounded in size.
    const snap = await waitFor(() => snapshots[0], "snapshot", 20_000);
    await watcher.endAsync(true);
    expect(snap.incidentId).toBe((await rig.state()).incident.incidentId);
    const jpeg = Buffer.from(snap.jpeg, "base64");
    expect(jpeg.subarray(0, 3).toString("hex")).toBe("ffd8ff");
    expect(jpeg.length).toBe(snap.bytes);
    expect(jpeg.length).toBeLessThanOrEqual(200 * 1024);
    expect(Date.parse(snap.frameAt)).toBeLessThanOrEqual(Date.parse(snap.pressAt));
    expect(Date.parse(snap.pressAt) - Date.parse(snap.frameAt)).toBeLessThan(1500);
    // The officer speaks for two seconds (a 440 Hz "voice" from a sim microphone in the test).
    const voice = new SimMicrophone({ bitrateKbps: 24, gainDb: 0 });
    let spoken = 0;
    voice.onRtp((p) => rig!.officer.sendAudio(p) && spoken++);
    await voice.start();
    try {
      await waitFor(() => spoken > 50, "the officer's voice sent", 20_000);
      await sleep(2000);
    } finally {
      await voice.stop();
    }
    await rig.hangup(sessionId);
    // The call's end by the pillar's own clock (its `ended` session message), as the press time is.
    const hungUpAt = Date.parse(rig.officer.lastState(sessionId)!.at as string);
    const clip = await waitFor(
      async () => ((await rig!.recording()).clips as any[]).find((c) => c.state === "complete"),
      "clip complete",
      30_000,
      200,
    );
    const pressAt = Date.parse(clip.pressAt);
    const start = Date.parse(clip.start);
    expect(pressAt - start).toBeGreaterThanOrEqual(PRE * 1000); // first frame at least the pre-roll before the press

    const file = join(rig.clipsDir, clip.file);
    const p = await probe(file);
    expect(p.streams.map((s) => `${s.codec_type}:${s.codec_name}`)).toEqual(
      expect.arrayContaining(["video:h264", "audio:opus"]),
    );
    expect(await decodeErrors(file)).toBe("");
    // Both directions of the call's audio: the pillar's microphone and the officer's voice, heard.
    const audio = p.streams.filter((st) => st.codec_type === "audio");
    expect(audio).toHaveLength(2);
    expect(await meanVolumeDb(file, 1)).toBeGreaterThan(-40);
    // The clip's time line: the file's duration matches the index's first and last sample times,
    // starts at least PRE s before the press and ends POST s after the hang-up (each within 1 s).
    const indexed = (Date.parse(clip.end) - start) / 1000;
    // The index's times are the tracks' RTP clocks anchored at each track's first packet arrival; on a
    // machine loaded far beyond a pillar's (load 13 on 2 cores) that arrival can be late by a second.
    expect(Math.abs(p.durationS - indexed)).toBeLessThan(2);
    const callS = (hungUpAt - pressAt) / 1000;
    expect(p.durationS).toBeGreaterThan(PRE + callS + POST - 1);
    expect(p.durationS).toBeLessThan(PRE + 1 + callS + POST + 1); // a pre-roll starts on a keyframe (GOP 1 s)
    expect(clip).toMatchObject({ kind: "incident", confirmed: false, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const times = await videoPacketTimes(file);
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
  }, 180_000);

  it("SIGKILL while a clip is written, then restart: the index is consistent, the clip repaired and playable up to within 1 s of the kill", async () => {
    rig = await new RecordRig().start();
    await rig.preRollFilled((PRE + 1) * 1000);
    await rig.pillar.click();
    const pressed = Date.now();
    await waitFor(async () => (await rig!.recording()).recording, "recording", 20_000, 100);
    await waitFor(() => Date.now() - pressed > 3000, "3 s recorded", 10_000, 100);
    // The latest frame the pillar had when it was killed (media time: a starved sim encoder may lag the wall clock).
    const killAt = Date.parse((await rig.recording()).lastSampleAt);
    const killWallAt = Date.now();
    await rig.pillar.kill("SIGKILL");
    const before = JSON.parse(await readFile(join(rig.clipsDir, "index.json"), "utf8")).clips as any[];
    expect(before).toHaveLength(1);
    expect(before[0].state).toBe("recording");

    await rig.startPillar();
    const clips = (await rig.recording()).clips as any[];
    const clip = clips.find((c) => c.id === before[0].id);
    expect(clip).toMatchObject({ state: "repaired", incidentId: before[0].incidentId, confirmed: false });
    const file = join(rig.clipsDir, clip.file);
    expect(await sha256File(file)).toBe(clip.sha256);
    for (const c of clips) expect((await rig.files()).includes(c.file)).toBe(true);
    expect((await rig.files()).length).toBe(clips.length);
    expect(await decodeErrors(file)).toBe("");
    const p = await probe(file);
    expect(p.streams.map((s) => s.codec_type)).toEqual(expect.arrayContaining(["video", "audio"]));
    const lastMediaAt = Date.parse(clip.start) + p.durationS * 1000;
    console.log(
      `kill: ${killAt - lastMediaAt} ms of media lost; media clock ${killWallAt - killAt} ms behind the wall clock`,
    );
    expect(killAt - lastMediaAt).toBeLessThan(1000);
    expect(Math.abs(Date.parse(clip.end) - lastMediaAt)).toBeLessThan(1000);

    // The health report carries the recording's state.
    const health = await rig.pillar.http("GET", "/health");
    expect(health.recording).toMatchObject({ mode: "incident", full: false, lastError: null });
    expect(health.recording.protectedClips).toBeGreaterThanOrEqual(1);
    expect(health.recording.oldest).toBe(clips[0].start);
    expect(health.recording.bytesUsed).toBeGreaterThanOrEqual(clip.bytes);

    // The investigator's CLI: list, then export (sha256 checked against the index).
    const pillarCli = (...args: string[]) =>
      run(process.execPath, [join(process.cwd(), "bin/pillar.mjs"), "clips", ...args, "--config", rig!.configPath]);
    const listed = (await pillarCli("list")).stdout;
    expect(listed).toContain(clip.id);
    expect(listed).toContain("repaired,protected");
    const out = join(rig.dir, "exported.mp4");
    expect((await pillarCli("export", clip.id, "--out", out)).stdout).toContain(clip.sha256);
    expect(await sha256File(out)).toBe(clip.sha256);
  }, 180_000);

  it("the camera killed and restarted mid-incident: one clip, playable, video timestamps monotonic", async () => {
    rig = await new RecordRig().start();
    await rig.preRollFilled(PRE * 1000);
    const sessionId = await rig.pressAndAnswer();
    const incidentId = (await rig.state()).incident.incidentId as string;
    const pid = (await rig.pillar.http("GET", "/call")).camera.pid as number;
    await sleep(1000);
    await rig.pillar.http("POST", "/sim/camera/kill");
    await waitFor(
      async () => {
        const cam = (await rig!.pillar.http("GET", "/call")).camera;
        return cam.pid && cam.pid !== pid && cam.status === "streaming" && cam.gop.packets > 0;
      },
      "camera back with a new encoder",
      30_000,
      100,
    );
    await sleep(1500);
    await rig.hangup(sessionId);
    const clip = await waitFor(
      async () => ((await rig!.recording()).clips as any[]).find((c) => c.state === "complete"),
      "clip complete",
      30_000,
      200,
    );
    const ofIncident = ((await rig.recording()).clips as any[]).filter((c) => c.incidentId === incidentId);
    expect(ofIncident).toHaveLength(1);
    const file = join(rig.clipsDir, clip.file);
    expect(await decodeErrors(file)).toBe("");
    const times = await videoPacketTimes(file);
    expect(times.length).toBeGreaterThan(50);
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
    const p = await probe(file);
    // The camera's restart gap is in the index's wall-clock span but not in the media (timestamps
    // continue monotonic across it), so the media may be shorter than the span. It may be longer
    // by the encoder's start-up lag: the timeline is anchored at the first frame's arrival and then
    // follows the camera's own clock (a loaded CI run measured 1.005 s over); within 2 s, as the
    // other clip tests.
    expect(p.durationS).toBeLessThan((Date.parse(clip.end) - Date.parse(clip.start)) / 1000 + 2);
  }, 180_000);
});
