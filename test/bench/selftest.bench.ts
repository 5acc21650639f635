import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { testConfigDoc } from "../support/sim-pillar.js";
import { sleep } from "../support/wait.js";
import { DIST_ENTRY, SERVICE_ENV, SERVICE_NODE_FLAGS } from "./press-path.bench.js";
import { cpuSeconds, round } from "./proc-stats.js";

const CLK_TCK = 100;
/** CPU seconds of the children a process has reaped (cutime + cstime): its short-lived helpers. */
async function reapedChildrenCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

/** `pillar selftest --sim --json --non-interactive` (the bundle), from spawn to exit. */
async function noninteractiveRun(dir: string): Promise<Record<string, number>> {
  const t0 = performance.now();
  const args = [DIST_ENTRY, "selftest", "--sim", "--json", "--non-interactive", "--data-dir", join(dir, "cli")];
  const child = spawn(process.execPath, [...args, "--control-port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`pillar selftest exited ${code}:\n${out}\n${err}`);
  const report = JSON.parse(out.trim().split("\n").at(-1)!) as { durationMs: number; summary: { pass: number } };
  return {
    selftest_noninteractive_ms: Math.round(ms),
    selftest_checks_ms: report.durationMs,
    selftest_checks_passed: report.summary.pass,
  };
}

/**
 * A sim pillar (`pillar run`, the bundle, the service's Node flags) with supervision every 30 s,
 * camera on demand (recording off: the camera runs only for the check): the pillar process's CPU
 * over two supervision cycles, and its helpers' (the camera encoder started for the check, the
 * decoding ffmpeg), which exit within the cycle and are reaped by it.
 */
async function supervisionCpu(dir: string): Promise<Record<string, number>> {
  const broker = await new TestMosquitto().start();
  const intervalS = 30;
  const config = await PillarProcess.writeConfig(
    dir,
    testConfigDoc({
      pillar: { id: "bench-supervision" },
      dataDir: join(dir, "supervision"),
      broker: { url: broker.url },
      heartbeat: { intervalS: 30 },
      selftest: { intervalS },
    }),
  );
  const proc = new PillarProcess(config, [], DIST_ENTRY, SERVICE_NODE_FLAGS, SERVICE_ENV);
  try {
    await proc.start();
    const pid = proc.pid!;
    await sleep(5000);
    const [c0, h0, w0] = [await cpuSeconds(pid), await reapedChildrenCpuSeconds(pid), performance.now()];
    await sleep(2 * intervalS * 1000); // two rounds (at 30 s and 60 s after the start)
    const wall = (performance.now() - w0) / 1000;
    const health = await proc.http("GET", "/health");
    const rounds = health.selftest?.lastRun?.supervision ? 1 : 0;
    if (!rounds) throw new Error(`no supervision round ran: ${JSON.stringify(health.selftest)}`);
    return {
      supervision_idle_cpu_pct: round((((await cpuSeconds(pid)) - c0) / wall) * 100, 2),
      supervision_helpers_cpu_pct: round((((await reapedChildrenCpuSeconds(pid)) - h0) / wall) * 100, 2),
    };
  } finally {
    await proc.kill("SIGTERM");
    await broker.dispose();
  }
}

/** `selftest_noninteractive_ms` (goal ≤ 8,000) and `supervision_idle_cpu_pct` (goal ≤ 1). */
export async function runSelftestBench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), "bench-selftest-"));
  try {
    return { ...(await noninteractiveRun(dir)), ...(await supervisionCpu(dir)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
