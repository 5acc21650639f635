/** Child-process plumbing for the libgpiod tools: one-shot runs and long-running holders. */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

/** Resolves a tool name against an optional directory (else PATH). */
export function toolPath(toolDir: string | undefined, tool: string): string {
  return toolDir ? join(toolDir, tool) : tool;
}

/** Runs a tool to completion; rejects with its stderr (and an install hint if it is missing). */
export function runTool(cmd: string, args: string[], timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return reject(new Error(`${cmd} not found: install libgpiod tools (apt install gpiod)`));
      const why = (stderr || err.message).trim();
      const hint = /permission denied/i.test(why) ? " (is the user in group gpio?)" : "";
      reject(new Error(`${cmd} ${args.join(" ")} failed: ${why}${hint}`));
    });
  });
}

/** A long-running tool (gpiomon, gpioset) with its stderr kept for error messages. */
export class ToolProcess {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderrTail = "";
  private killed = false;

  constructor(
    readonly cmd: string,
    readonly args: string[],
  ) {
    this.proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.proc.stderr!.setEncoding("utf8").on("data", (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-500);
    });
    this.exited = new Promise((resolve) => {
      this.proc.once("exit", (code, signal) => resolve({ code, signal }));
      this.proc.once("error", (err) => {
        this.stderrTail +=
          (err as NodeJS.ErrnoException).code === "ENOENT" ? `${cmd} not found: apt install gpiod` : err.message;
        resolve({ code: null, signal: null });
      });
    });
  }

  get stderr(): string {
    return this.stderrTail.trim();
  }

  /** True once stop() was asked: an exit then is not a failure. */
  get stopping(): boolean {
    return this.killed;
  }

  /** Resolves if the tool is still running after `ms` (it claimed its line), rejects if it exited. */
  async settle(ms: number, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.exited,
      new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), ms))),
    ]);
    clearTimeout(timer);
    if (r) throw new Error(`${what}: ${this.describeExit(r)}`);
  }

  describeExit(r: { code: number | null; signal: NodeJS.Signals | null }): string {
    const how = r.signal ? `killed by ${r.signal}` : r.code === null ? "could not start" : `exited with code ${r.code}`;
    return `${this.cmd.split("/").pop()} ${how}${this.stderr ? `: ${this.stderr}` : ""}`;
  }

  /** SIGTERM (libgpiod releases the line), SIGKILL after `graceMs`; resolves once gone. */
  async stop(graceMs = 1_000): Promise<void> {
    this.killed = true;
    if (this.proc.exitCode !== null || this.proc.signalCode !== null || this.proc.pid === undefined) return;
    this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}
