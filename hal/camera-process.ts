import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { createSocket, type Socket } from "node:dgram";
import type { Logger } from "pino";
import { Listeners } from "./listeners.js";

/** One command of a pipeline: `[command, args]`; `{port}` in an argument becomes the RTP port. */
export type CommandLine = readonly [string, readonly string[]];

export interface RtpProcessOptions {
  /** For messages: "camera", "mic". */
  name: string;
  /**
   * The commands to run, stdout of each piped into stdin of the next (fd to fd, no data passes
   * through Node). The last one sends RTP to 127.0.0.1:{port}.
   */
  pipeline: () => readonly CommandLine[];
  log?: Logger;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

const SETPRIV = "/usr/bin/setpriv";
const hasSetpriv = existsSync(SETPRIV);

/**
 * Spawn a helper process that dies with the pillar: through util-linux `setpriv --pdeathsig
 * KILL` (it execs the command, so the pid is the command's), the kernel kills it when the
 * pillar process dies, even by SIGKILL or a crash — no orphaned encoder keeps the camera busy.
 */
export function spawnTied(cmd: string, args: readonly string[], o: SpawnOptions): ChildProcess {
  return hasSetpriv ? spawn(SETPRIV, ["--pdeathsig", "KILL", "--", cmd, ...args], o) : spawn(cmd, [...args], o);
}

/** Put the local RTP port into an argument list. */
export function withPort(args: readonly string[], port: number): string[] {
  return args.map((a) => a.replaceAll("{port}", String(port)));
}

/**
 * A supervised encoder/capture process that sends RTP to a UDP port on 127.0.0.1 bound here.
 * Dies → `onFault` (once per outage) and a restart after a backoff (doubling up to the maximum);
 * the first packet after that → `onRecover`. Shared by the camera and microphone drivers.
 */
export class SupervisedRtpProcess {
  private socket: Socket | undefined;
  private children: ChildProcess[] = [];
  private running = false;
  private faulted = false;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stderrTail = "";
  readonly packets = new Listeners<[Buffer]>();
  readonly faults = new Listeners<[Error]>();
  readonly recovers = new Listeners<[]>();
  /** Packets received since start (tests, health). */
  received = 0;
  /** Restarts after a death since start. */
  restarts = 0;

  constructor(private readonly o: RtpProcessOptions) {
    this.backoffMs = o.initialBackoffMs ?? 250;
  }

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  pid(): number | undefined {
    return this.children[0]?.pid;
  }

  /** Every process id of the running pipeline. */
  pids(): number[] {
    return this.children.map((c) => c.pid).filter((p): p is number => typeof p === "number");
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const socket = createSocket("udp4");
    this.socket = socket;
    socket.on("message", (m) => this.onPacket(m));
    socket.on("error", (err) => this.o.log?.warn({ err: err.message }, `${this.o.name}: RTP socket error`));
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    socket.setRecvBufferSize(4 * 1024 * 1024);
    this.spawnAll();
  }

  private onPacket(m: Buffer): void {
    this.received++;
    if (this.faulted) {
      this.faulted = false;
      this.backoffMs = this.o.initialBackoffMs ?? 250;
      this.o.log?.info(`${this.o.name}: recovered`);
      this.recovers.emit();
    }
    this.packets.emit(m);
  }

  private spawnAll(): void {
    const lines = this.o.pipeline();
    const kids: ChildProcess[] = [];
    this.stderrTail = "";
    for (const [i, [cmd, args]] of lines.entries()) {
      const prev = kids[i - 1];
      const last = i === lines.length - 1;
      const child = spawnTied(cmd, withPort(args, this.port), {
        stdio: [prev?.stdout ?? "ignore", last ? "ignore" : "pipe", "pipe"],
      });
      child.stderr?.on("data", (d: Buffer) => {
        this.stderrTail = (this.stderrTail + d.toString()).slice(-600);
      });
      child.on("error", (err) => this.onExit(child, `could not run ${cmd}: ${err.message}`));
      child.on("exit", (code, signal) => this.onExit(child, `${cmd} exited (${signal ?? `code ${code}`})`));
      kids.push(child);
    }
    this.children = kids;
    this.o.log?.debug({ pids: this.pids() }, `${this.o.name}: started`);
  }

  private onExit(child: ChildProcess, why: string): void {
    if (!this.children.includes(child)) return; // already replaced or stopped
    const dead = this.children;
    this.children = [];
    for (const c of dead) if (c !== child && c.exitCode === null) c.kill("SIGKILL");
    if (!this.running) return;
    const err = new Error(
      `${this.o.name}: ${why}${this.stderrTail ? `: ${this.stderrTail.trim().split("\n").pop()}` : ""}`,
    );
    this.o.log?.error({ err: err.message, retryInMs: this.backoffMs }, `${this.o.name}: process died`);
    if (!this.faulted) {
      this.faulted = true;
      this.faults.emit(err);
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs ?? 10_000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      this.restarts++;
      this.spawnAll();
    }, delay);
  }

  /** Replace the running processes at once (new settings or source); not a fault. */
  async restart(): Promise<void> {
    if (!this.running) return;
    const old = this.children;
    this.children = [];
    await Promise.all(old.map((c) => stopChild(c)));
    if (this.running && this.children.length === 0) this.spawnAll();
  }

  /** Kill the first process as a crash would (test hook): the supervisor sees a death. */
  crash(signal: NodeJS.Signals = "SIGKILL"): number | undefined {
    const c = this.children[0];
    c?.kill(signal);
    return c?.pid;
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const old = this.children;
    this.children = [];
    await Promise.all(old.map((c) => stopChild(c)));
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** SIGTERM, then SIGKILL after 1.5 s; resolves once the process is gone. */
export function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => c.kill("SIGKILL"), 1500);
    c.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    c.kill("SIGTERM");
  });
}

/** A source (camera, microphone) whose RTP comes from one supervised process pipeline. */
export abstract class RtpProcessSource {
  protected abstract readonly proc: SupervisedRtpProcess;

  start(): Promise<void> {
    return this.proc.start();
  }
  stop(): Promise<void> {
    return this.proc.stop();
  }
  onRtp(l: (packet: Buffer) => void): () => void {
    return this.proc.packets.add(l);
  }
  onFault(l: (err: Error) => void): () => void {
    return this.proc.faults.add(l);
  }
  onRecover(l: () => void): () => void {
    return this.proc.recovers.add(l);
  }
}
