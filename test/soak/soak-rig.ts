import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST_ENTRY, SERVICE_ENV, SERVICE_NODE_FLAGS } from "../bench/press-path.bench.js";
import { rssMb } from "../bench/proc-stats.js";
import { NodeOfficer } from "../call/helpers/node-officer.js";
import { TestCenter } from "../support/center.js";
import { sleep } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { testConfigDoc } from "../support/sim-pillar.js";

export interface SoakSample {
  at: number;
  /** Seconds since the start. */
  tS: number;
  rssMb: number;
  /** V8 heap in use and memory outside it (buffers, native), from the pillar's last health message. */
  heapMb?: number;
  externalMb?: number;
  fds: number;
  children: number;
  cycles: number;
  errors: number;
}

export interface SoakResult {
  pillarPid: number;
  minutes: number;
  cycles: number;
  errors: number;
  rss_start_mb: number;
  rss_end_mb: number;
  /** Least-squares slope of RSS after warm-up, in MB per hour. */
  rss_growth_mb_per_h: number;
  fds_min: number;
  fds_max: number;
  fds_growth_per_h: number;
  children_max: number;
  /** Clicks made, and clicks whose press event never reached the center (goal 0). */
  clicks: number;
  presses_lost: number;
}

async function fdCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** Descendants of `pid` (encoders, audio, socat…): the pillar's children and theirs. */
async function descendants(pid: number): Promise<number> {
  const parent = new Map<number, number>();
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const stat = await readFile(`/proc/${d}/stat`, "utf8").catch(() => "");
    if (stat) parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
  }
  let n = 0;
  for (const [child] of parent) {
    let p = parent.get(child);
    while (p !== undefined && p > 1) {
      if (p === pid) {
        n++;
        break;
      }
      p = parent.get(p);
    }
  }
  return n;
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : 0;
}

/**
 * Runs the soak: one pillar process (production bundle, service flags) on its own Mosquitto, a
 * center and a Node officer; cycles press → offer answered → pickup → hang-up → ack → close
 * (→ self-test when the pillar has it) until `durationMs` is over. Stops everything it started.
 */
export async function startSoak(o: {
  durationMs: number;
  warmupMs: number;
  sampleMs: number;
  onSample?: (s: SoakSample) => void;
}): Promise<SoakResult> {
  const mosq = await new TestMosquitto().start();
  const dir = await mkdtemp(join(tmpdir(), "soak-"));
  const id = "soak-001";
  const doc = testConfigDoc({
    pillar: { id },
    dataDir: join(dir, "data"),
    heartbeat: { intervalS: 5 },
    call: { bindAddress: "127.0.0.1" },
  });
  doc.broker = { ...doc.broker, url: mosq.url };
  const pillar = new PillarProcess(
    await PillarProcess.writeConfig(dir, doc),
    [],
    DIST_ENTRY,
    SERVICE_NODE_FLAGS,
    SERVICE_ENV,
  );
  const center = new TestCenter(mosq.url);
  const officer = new NodeOfficer("soak-officer", mosq.url, id);
  const samples: SoakSample[] = [];
  let cycles = 0;
  let errors = 0;
  const clicks = { n: 0 };
  const t0 = Date.now();
  try {
    await pillar.start();
    await center.start(`pillar/v1/${id}/#`);
    await officer.start();
    const pid = pillar.pid!;
    let nextSample = 0;
    const sample = async () => {
      const s: SoakSample = {
        at: Date.now(),
        tS: (Date.now() - t0) / 1000,
        rssMb: await rssMb(pid),
        ...lastHealthMemory(center),
        fds: await fdCount(pid),
        children: await descendants(pid),
        cycles,
        errors,
      };
      samples.push(s);
      o.onSample?.(s);
    };
    while (Date.now() - t0 < o.durationMs) {
      try {
        await cycle(pillar, center, officer, id, clicks);
        cycles++;
      } catch (err) {
        errors++;
        console.error(`cycle ${cycles + errors} failed: ${(err as Error).message}`);
        await sleep(1000);
      }
      if (Date.now() - t0 >= nextSample) {
        await sample();
        nextSample = Date.now() - t0 + o.sampleMs;
      }
    }
    await sample();
    // Every click is one press event at the center, late or not: none may be missing.
    const pressIds = () => new Set(center.events("button.press").map((e) => e.eventId)).size;
    await center.until(() => pressIds() >= clicks.n, "every press", 20_000).catch(() => undefined);
    const pressesLost = Math.max(0, clicks.n - pressIds());
    const after = samples.filter((s) => s.at - t0 >= o.warmupMs);
    const use = after.length >= 2 ? after : samples;
    const hours = use.map((s) => s.tS / 3600);
    return {
      pillarPid: pid,
      minutes: Math.round((Date.now() - t0) / 600) / 100,
      cycles,
      errors,
      rss_start_mb: use[0]!.rssMb,
      rss_end_mb: use.at(-1)!.rssMb,
      rss_growth_mb_per_h:
        Math.round(
          slope(
            hours,
            use.map((s) => s.rssMb),
          ) * 100,
        ) / 100,
      fds_min: Math.min(...use.map((s) => s.fds)),
      fds_max: Math.max(...use.map((s) => s.fds)),
      fds_growth_per_h:
        Math.round(
          slope(
            hours,
            use.map((s) => s.fds),
          ) * 100,
        ) / 100,
      children_max: Math.max(...use.map((s) => s.children)),
      clicks: clicks.n,
      presses_lost: pressesLost,
    };
  } finally {
    await officer.stop();
    await center.stop();
    await pillar.kill("SIGTERM");
    await mosq.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The heap and external figures of the pillar's last health message, when one came. */
function lastHealthMemory(center: TestCenter): { heapMb?: number; externalMb?: number } {
  const h = center.received.findLast((r) => r.topic.endsWith("/health"));
  const m = h?.payload.memoryMb as { heapUsed?: number; external?: number } | undefined;
  return m ? { heapMb: m.heapUsed, externalMb: m.external } : {};
}

/** One press → call → close cycle, each step waiting for the pillar's answer. */
async function cycle(
  pillar: PillarProcess,
  center: TestCenter,
  officer: NodeOfficer,
  id: string,
  clicks: { n: number },
): Promise<void> {
  const before = center.events("button.press").length;
  const offersBefore = officer.offers.length;
  clicks.n++;
  await pillar.click();
  await center.until(() => center.events("button.press").length > before, "press event");
  const press = center.events("button.press").at(-1)!;
  const incidentId = press.incidentId as string;
  await center.until(() => officer.offers.length > offersBefore, "call offer");
  const sessionId = officer.offers.at(-1)!.sessionId as string;
  await center.until(() => officer.received.video > 0, "video on the officer's side");
  await officer.send("webrtc/pickup", { sessionId, officer: officer.name, issuedAt: new Date().toISOString() });
  await sleep(2000); // two seconds of two-way audio
  await officer.send("webrtc/hangup", { sessionId, officer: officer.name, issuedAt: new Date().toISOString() });
  for (const name of ["incident.ack", "incident.close"]) {
    const correlationId = randomUUID();
    await center.send(`pillar/v1/${id}/cmd/${name}`, {
      correlationId,
      incidentId,
      issuedAt: new Date().toISOString(),
    });
    await center.until(
      () => center.received.some((r) => r.topic.endsWith("/result") && r.payload.correlationId === correlationId),
      `${name} result`,
    );
  }
  officer.received.video = 0;
  await selfTestIfPresent(center, id);
}

/** The `selftest` command when the pillar has it (unknown_command otherwise: then never again). */
let selfTestAvailable: boolean | undefined;
async function selfTestIfPresent(center: TestCenter, id: string): Promise<void> {
  if (selfTestAvailable === false) return;
  const correlationId = randomUUID();
  await center.send(`pillar/v1/${id}/cmd/selftest`, { correlationId, issuedAt: new Date().toISOString() });
  await center.until(
    () => center.received.some((r) => r.topic.endsWith("/result") && r.payload.correlationId === correlationId),
    "selftest result",
    60_000,
  );
  const res = center.received.find((r) => r.topic.endsWith("/result") && r.payload.correlationId === correlationId)!;
  const err = res.payload.error as { code?: string } | undefined;
  selfTestAvailable = err?.code !== "unknown_command";
}
