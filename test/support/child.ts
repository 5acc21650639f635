import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { running, stopChild } from "./processes.js";
import { waitFor } from "./wait.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
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

  /**
   * `pillar …` as installed: the production bundle dist/pillar.mjs (the run's global set-up
   * builds it fresh), which starts without tsx's compile.
   */
  static cli(args: string[], env: Record<string, string> = {}): Child {
    return new Child([join(ROOT, "dist/pillar.mjs"), ...args], env, []);
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  alive(): boolean {
    return running(this.proc);
  }

  /** Wait until the output matches `re`; fails with the output if the child exits first. */
  async waitFor(re: RegExp, timeoutMs = 90_000): Promise<RegExpMatchArray> {
    try {
      return await waitFor(
        () => {
          const m = this.output.match(re);
          if (!m && !this.alive())
            throw new Error(`child exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${re}`);
          return m;
        },
        `${re}`,
        timeoutMs,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}:\n${this.output}`);
    }
  }

  /** Kill by pid and wait for the exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await stopChild(this.proc, { signal });
  }
}
