import { spawn, type ChildProcess } from "node:child_process";

/**
 * A real pty pair from `socat -d -d pty,raw,echo=0 pty,raw,echo=0`: two /dev/pts devices wired
 * back to back, like the two ends of a USB serial cable. Killing socat (by pid) pulls the cable.
 */
export class SocatPair {
  proc: ChildProcess | undefined;
  a = "";
  b = "";

  async start(): Promise<this> {
    const proc = spawn("socat", ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.proc = proc;
    let err = "";
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`socat gave no pty paths:\n${err}`)), 5000);
      proc.once("exit", (code) => reject(new Error(`socat exited with ${code}:\n${err}`)));
      proc.stderr!.on("data", (d: Buffer) => {
        err += d.toString();
        const paths = [...err.matchAll(/PTY is (\/dev\/pts\/\d+)/g)].map((m) => m[1]!);
        if (paths.length >= 2 && /starting data transfer loop/.test(err)) {
          clearTimeout(t);
          [this.a, this.b] = paths as [string, string];
          resolve();
        }
      });
    });
    return this;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Kill socat by its pid (SIGKILL) and wait until it is gone. */
  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once("exit", () => r()));
    process.kill(p.pid!, "SIGKILL");
    await gone;
  }
}
