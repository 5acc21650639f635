import { spawn, type ChildProcess } from "node:child_process";
import { stopChild } from "./processes.js";

/**
 * A real pty pair from `socat -d -d pty,raw,echo=0 pty,raw,echo=0`: two /dev/pts devices wired
 * back to back, like the two ends of a USB serial cable. `links` adds symlinks to the two ends
 * (like /dev/serial/by-id/…); `a` and `b` are then those paths. Killing socat (by pid) pulls
 * the cable.
 */
export class SocatPair {
  proc: ChildProcess | undefined;
  a = "";
  b = "";

  constructor(private readonly links?: { a: string; b: string }) {}

  async start(): Promise<this> {
    const end = (link?: string) => `pty,raw,echo=0${link ? `,link=${link}` : ""}`;
    const proc = spawn("socat", ["-d", "-d", end(this.links?.a), end(this.links?.b)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.proc = proc;
    let err = "";
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`socat gave no pty paths:\n${err}`)), 15_000);
      proc.once("error", (e) => (clearTimeout(t), reject(e)));
      proc.once("exit", (code) => (clearTimeout(t), reject(new Error(`socat exited with ${code}:\n${err}`))));
      proc.stderr!.on("data", (d: Buffer) => {
        err += d.toString();
        const paths = [...err.matchAll(/PTY is (\/dev\/pts\/\d+)/g)].map((m) => m[1]!);
        if (paths.length >= 2 && /starting data transfer loop/.test(err)) {
          clearTimeout(t);
          this.a = this.links?.a ?? paths[0]!;
          this.b = this.links?.b ?? paths[1]!;
          resolve();
        }
      });
    });
    return this;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Kill socat by its pid (SIGKILL by default: the cable is pulled) and wait until it is gone. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    await stopChild(p, { signal });
  }
}
