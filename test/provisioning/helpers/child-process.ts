import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSX_LOADER = ["--import", "tsx"];

/** A child process (node + tsx) whose output the test reads; stopped by pid. */
export class Child {
  proc: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}, loader = TSX_LOADER) {
    this.proc = spawn(process.execPath, [...loader, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    this.proc.stdout!.on("data", (d: Buffer) => (this.stdout += d.toString()));
    this.proc.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.proc.once("exit", (code) => resolve(code)));
  }

  /** `pillar …` through bin/pillar.mjs, as an installer runs it. */
  static cli(args: string[], env: Record<string, string> = {}): Child {
    return new Child([join(ROOT, "bin/pillar.mjs"), ...args], env, []);
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Wait until the output matches `re`; fails with the output if the child exits first. */
  async waitFor(re: RegExp, timeoutMs = 90_000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      if (!this.alive())
        throw new Error(`child exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${re}:\n${this.output}`);
      if (Date.now() > until) throw new Error(`timed out waiting for ${re}:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Kill by pid and wait for the exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.alive()) return;
    process.kill(this.proc.pid!, signal);
    await this.exited;
  }
}
