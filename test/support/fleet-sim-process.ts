import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./child.js";
import { stopChild } from "./processes.js";

/** `pillar fleet simulate` as a child process; its JSON lines are collected. Stopped by pid. */
export class FleetSimProcess {
  proc: ChildProcess | undefined;
  output = "";
  readonly lines: Record<string, unknown>[] = [];
  readonly exited: Promise<number | null>;
  private resolveExit!: (code: number | null) => void;

  constructor(readonly args: string[]) {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  start(): this {
    const proc = spawn(process.execPath, [join(ROOT, "bin/pillar.mjs"), "fleet", "simulate", ...this.args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
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
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not JSON
        }
      }
    });
    proc.stderr!.on("data", (d: Buffer) => (this.output += d.toString()));
    proc.once("exit", (code) => this.resolveExit(code));
    return this;
  }

  line(msg: string): Record<string, unknown> | undefined {
    return this.lines.find((l) => l.msg === msg);
  }

  async kill(): Promise<void> {
    await stopChild(this.proc, { signal: "SIGKILL" });
  }
}
