import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./child.js";
import { childPids, pidAlive, stopChild, stopPid } from "./processes.js";
import { waitFor } from "./wait.js";

/**
 * `pillar …` in a pseudo-terminal (util-linux `script`), as an installer runs it on a terminal
 * or over `ssh -t`: stdin is a TTY, Ctrl-C is "\x03" written to it. The arguments are joined
 * with spaces for script's shell (no quoting: keep them free of spaces). Stopped by pid: script's
 * group, and the CLI itself, which runs in a session of its own under script.
 */
export class TerminalCli {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  output = "";
  private pid: number | undefined;

  constructor(args: string[]) {
    const cmd = [process.execPath, join(ROOT, "dist/pillar.mjs"), ...args].join(" ");
    this.proc = spawn("script", ["-qfec", cmd, "/dev/null"], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    this.proc.stdout!.on("data", (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr!.on("data", (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((r) => this.proc.once("exit", (code) => r(code)));
  }

  /** Type into the terminal ("y\n", "\x03" for Ctrl-C). */
  type(text: string): void {
    this.proc.stdin!.write(text);
  }

  /** Wait until the output matches `re`. */
  async waitFor(re: RegExp, timeoutMs = 60_000): Promise<void> {
    await waitFor(() => re.test(this.output), `${re} in:\n${this.output}`, timeoutMs);
  }

  /** The `pillar` process under script. */
  async cliPid(): Promise<number> {
    this.pid ??= await waitFor(() => childPids(this.proc.pid).find((p) => pidAlive(p)), "the CLI under script");
    return this.pid;
  }

  async stop(): Promise<void> {
    const pid = this.pid ?? childPids(this.proc.pid).find((p) => pidAlive(p));
    await stopChild(this.proc, { group: true, signal: "SIGKILL" });
    await stopPid(pid, "SIGKILL");
  }
}
