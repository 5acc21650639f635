import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { NodeOfficer } from "../../call/helpers/node-officer.js";
import { waitFor } from "../../support/wait.js";
import { TestMosquitto } from "../../support/mosquitto.js";
import { PillarProcess } from "../../support/pillar-process.js";
import { testConfigDoc } from "../../support/sim-pillar.js";

const run = promisify(execFile);

export interface ProbedClip {
  streams: { codec_type: string; codec_name: string }[];
  durationS: number;
}

/** ffprobe's view of a file: its streams and its duration. */
export async function probe(path: string): Promise<ProbedClip> {
  const { stdout } = await run("ffprobe", ["-v", "error", "-show_streams", "-show_format", "-of", "json", path]);
  const j = JSON.parse(stdout) as { streams: ProbedClip["streams"]; format: { duration: string } };
  return { streams: j.streams, durationS: Number(j.format.duration) };
}

/** Decode the whole file; resolves with ffmpeg's error output (empty when it decoded cleanly). */
export async function decodeErrors(path: string): Promise<string> {
  // `-fps_mode vfr`: the null muxer's time base is one frame, so two frames of a loaded camera
  // less than a frame apart would be reported as "non monotonically increasing dts" (seen in a
  // whole-suite CI run), which is not a decoding error; the timestamps have their own check.
  const args = ["-hide_banner", "-v", "error", "-i", path, "-fps_mode", "vfr", "-f", "null", "-"];
  const { stderr } = await run("ffmpeg", args);
  return stderr.trim();
}

/** Video packet times (s) in file order. */
export async function videoPacketTimes(path: string): Promise<number[]> {
  const { stdout } = await run(
    "ffprobe",
    ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,dts_time", "-of", "csv=p=0", path],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .trim()
    .split("\n")
    .map((l) => Number(l.split(",")[1] ?? l.split(",")[0]));
}

/**
 * `pillar run` (a real process, sim hardware) with recording on and short pre/post-rolls, a
 * Mosquitto, and a node-datachannel officer who answers the alarm calls.
 */
export class RecordRig {
  mosq = new TestMosquitto();
  pillar!: PillarProcess;
  officer!: NodeOfficer;
  dir = "";
  configPath = "";
  readonly pillarId = "pillar-rec";

  constructor(private readonly record: Record<string, unknown> = {}) {}

  get clipsDir(): string {
    return join(this.dir, "data", "recordings");
  }

  async start(): Promise<this> {
    await this.mosq.start();
    this.dir = await mkdtemp(join(tmpdir(), "pillar-rec-"));
    const doc = testConfigDoc({
      pillar: { id: this.pillarId },
      dataDir: join(this.dir, "data"),
      broker: { url: this.mosq.url, reconnectMs: 200 },
      call: { bindAddress: "127.0.0.1", camera: { width: 320, height: 180, fps: 15, bitrateKbps: 300 } },
      record: { mode: "incident", preRollS: 3, postRollS: 3, fragmentMs: 500, ...this.record },
    });
    this.configPath = await PillarProcess.writeConfig(this.dir, doc);
    await this.startPillar();
    this.officer = await new NodeOfficer("officer-anna", this.mosq.url, this.pillarId).start();
    return this;
  }

  async startPillar(): Promise<void> {
    this.pillar = await new PillarProcess(this.configPath).start(40_000);
    await waitFor(async () => (await this.state()).components.uplink === "connected", "pillar connected", 20_000);
  }

  state(): Promise<Record<string, any>> {
    return this.pillar.http("GET", "/state");
  }

  recording(): Promise<Record<string, any>> {
    return this.pillar.http("GET", "/recording");
  }

  /** Wait until the pre-roll holds at least `ms` of media. */
  async preRollFilled(ms: number): Promise<void> {
    await waitFor(async () => ((await this.recording()).preRoll?.spanMs ?? 0) >= ms, "pre-roll filled", 40_000, 200);
  }

  async files(): Promise<string[]> {
    return (await readdir(this.clipsDir).catch(() => [] as string[])).filter((f) => f !== "index.json");
  }

  /** Press; the officer's peer answers the offer; pickup opens two-way audio. Returns the session id. */
  async pressAndAnswer(): Promise<string> {
    const before = this.officer.offers.length;
    await this.pillar.click();
    const offer = await waitFor(() => this.officer.offers[before], "alarm offer", 20_000);
    await waitFor(() => this.officer.received.video > 10, "video at the officer", 20_000);
    await this.officer.send("webrtc/pickup", { sessionId: offer.sessionId, officer: "officer-anna" });
    await waitFor(() => this.officer.lastState(offer.sessionId)?.state === "answered", "answered", 20_000);
    return offer.sessionId as string;
  }

  async hangup(sessionId: string): Promise<void> {
    await this.officer.send("webrtc/hangup", { sessionId, officer: "officer-anna" });
    await waitFor(() => this.officer.lastState(sessionId)?.state === "ended", "ended", 20_000);
  }

  async stop(): Promise<void> {
    await this.officer?.stop();
    await this.pillar?.kill("SIGTERM");
    await this.mosq.dispose();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
