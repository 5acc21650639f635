import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NodeLauncher } from "./arm64.js";
import { ROOT } from "./child.js";
import { stopChild } from "./processes.js";

/**
 * `pillar run` as a real child process (the installed binary, through tsx), for tests that
 * kill it. Learns the control endpoint's port from its JSON log. Stopped by pid.
 */
export class PillarProcess {
  proc: ChildProcess | undefined;
  controlPort = 0;
  output = "";
  private lines: ((line: Record<string, unknown>) => void)[] = [];

  constructor(
    private readonly configPath: string,
    private readonly extraArgs: string[] = [],
    /** The entry script: the `pillar` binary (sources through tsx) or the built dist/pillar.mjs. */
    private readonly entry = join(ROOT, "bin/pillar.mjs"),
    /** Node.js flags, e.g. the service's memory flags. */
    private readonly nodeArgs: string[] = [],
    /** Extra environment, e.g. systemd's NOTIFY_SOCKET and WATCHDOG_USEC. */
    private readonly env: Record<string, string> = {},
    /** How Node.js is started (this Node, or arm64 Node under qemu) and in which folder. */
    private readonly launcher: NodeLauncher & { cwd?: string } = { command: process.execPath, args: [], env: {} },
  ) {}

  static async writeConfig(dir: string, doc: object): Promise<string> {
    const path = join(dir, "config.json");
    await writeFile(path, JSON.stringify(doc, null, 2));
    return path;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(timeoutMs = 20_000): Promise<this> {
    const l = this.launcher;
    const proc = spawn(
      l.command,
      [
        ...l.args,
        ...this.nodeArgs,
        this.entry,
        "run",
        "--config",
        this.configPath,
        "--control-port",
        "0",
        ...this.extraArgs,
      ],
      {
        cwd: l.cwd ?? ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PILLAR_LOG_LEVEL: "debug", ...l.env, ...this.env },
        // its own process group: a kill reaches the pillar's children (camera, audio) too, as
        // systemd's KillMode=control-group does on a Pi, and a power cut does
        detached: true,
      },
    );
    this.proc = proc;
    let buf = "";
    proc.stdout!.on("data", (d: Buffer) => {
      this.output += d.toString();
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const j = JSON.parse(line) as Record<string, unknown>;
          for (const l of this.lines) l(j);
        } catch {
          // not a log line
        }
      }
    });
    proc.stderr!.on("data", (d: Buffer) => (this.output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`pillar did not start in time:\n${this.output}`)), timeoutMs);
      proc.once("exit", (code) => {
        clearTimeout(t);
        reject(new Error(`pillar exited with ${code}:\n${this.output}`));
      });
      this.lines.push((j) => {
        if (j.msg === "control endpoint listening") this.controlPort = Number(new URL(j.url as string).port);
        if (j.msg === "pillar running") {
          clearTimeout(t);
          resolve();
        }
      });
    });
    return this;
  }

  async http(method: "GET" | "POST", path: string): Promise<Record<string, any>> {
    const res = await fetch(`http://127.0.0.1:${this.controlPort}${path}`, { method });
    return (await res.json()) as Record<string, any>;
  }

  /** A press held `holdMs` by the pillar's own clock (one request, see /sim/button/click). */
  async click(holdMs = 80): Promise<void> {
    await this.http("POST", `/sim/button/click?holdMs=${holdMs}`);
  }

  /**
   * Kill with `signal` and wait for the exit. SIGKILL goes to the whole process group (nothing
   * survives, as after a power cut); SIGTERM to the pillar, which stops its own children, then
   * anything left in the group is killed.
   */
  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (signal !== "SIGKILL") await stopChild(p, { signal });
    await stopChild(p, { signal: "SIGKILL", group: true });
  }
}
