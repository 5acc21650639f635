import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopChild } from "../support/processes.js";
import { waitFor } from "../support/wait.js";

/**
 * Stands in for systemd's notify socket: a Unix datagram socket (socat UNIX-RECV) whose messages
 * are collected line by line. Stopped by pid.
 */
export class NotifyReceiver {
  readonly messages: string[] = [];
  path = "";
  private dir = "";
  private proc: ChildProcess | undefined;

  async start(): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), "notify-"));
    this.path = join(this.dir, "notify.sock");
    const proc = spawn("socat", ["-u", `UNIX-RECV:${this.path}`, "STDOUT"], { stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    let buf = "";
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      this.messages.push(...lines.filter(Boolean));
    });
    await waitFor(() => existsSync(this.path), "notify socket");
    return this;
  }

  count(message: string): number {
    return this.messages.filter((m) => m === message).length;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    await stopChild(p);
    await rm(this.dir, { recursive: true, force: true });
  }
}
