import type { ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import type { Writable } from "node:stream";
import type { Logger } from "pino";
import { settleWithin, withDeadline } from "./deadline.js";
import { Listeners } from "./listeners.js";
import { SerialOps } from "./serial-ops.js";
import { spawnTied, stopChild } from "./tied-process.js";

/**
 * One command of a pipeline: `[command, args, env?]`; `{port}` in an argument becomes the RTP
 * port; `env` is added to the pillar's environment (e.g. `TZ` for a clock drawn on the picture).
 */
export type CommandLine = readonly [string, readonly string[], Readonly<Record<string, string>>?];

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
  /** Feeds the first process's stdin (a simulated capsule's sound) while it runs; returns a detach. */
  feedStdin?: (stdin: Writable) => () => void;
}

/** Put the local RTP port into an argument list. */
export function withPort(args: readonly string[], port: number): string[] {
  return args.map((a) => a.replaceAll("{port}", String(port)));
}

/**
 * A supervised encoder/capture process that sends RTP to a UDP port on 127.0.0.1 bound here.
 * Dies → `onFault` (once per outage) and a restart after a backoff (doubling up to the maximum);
 * the first packet after that → `onRecover`. Shared by the camera and microphone drivers.
 *
 * This object is the one owner of its device: `start`, `stop`, `restart` and the respawn after a
 * death run one after another (SerialOps), and a new pipeline is spawned only once every process
 * of the previous one has exited, so at most one pipeline ever runs. Nothing is spawned without a
 * bound port (never `rtp://127.0.0.1:0`), and every wait has a deadline.
 */
export class SupervisedRtpProcess {
  private socket: Socket | undefined;
  private boundPort = 0;
  private children: ChildProcess[] = [];
  /** Every process spawned and not yet exited (the current pipeline and any dying one). */
  private readonly alive = new Set<ChildProcess>();
  private readonly ops = new SerialOps();
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
    return this.boundPort;
  }

  pid(): number | undefined {
    return this.children[0]?.pid;
  }

  /** Every process id of the running pipeline. */
  pids(): number[] {
    return this.children.map((c) => c.pid).filter((p): p is number => typeof p === "number");
  }

  /** Processes alive now, the current pipeline and any still dying (never more than one pipeline). */
  aliveCount(): number {
    return this.alive.size;
  }

  start(): Promise<void> {
    return this.ops.run(async () => {
      if (this.running) return;
      const socket = createSocket("udp4");
      socket.on("message", (m) => this.onPacket(m));
      socket.on("error", (err) => this.o.log?.warn({ err: err.message }, `${this.o.name}: RTP socket error`));
      try {
        await withDeadline(
          new Promise<void>((resolve, reject) => {
            socket.once("error", reject);
            socket.bind(0, "127.0.0.1", () => {
              socket.off("error", reject);
              resolve();
            });
          }),
          SOCKET_DEADLINE_MS,
          `${this.o.name}: bind RTP port`,
        );
        socket.setRecvBufferSize(4 * 1024 * 1024);
      } catch (err) {
        await closeSocket(socket);
        throw err;
      }
      this.socket = socket;
      this.boundPort = socket.address().port;
      this.running = true;
      this.backoffMs = this.o.initialBackoffMs ?? 250;
      this.spawnAll();
    });
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
    if (!this.running || this.boundPort === 0 || this.alive.size > 0) {
      this.o.log?.error({ port: this.boundPort, alive: this.alive.size }, `${this.o.name}: not spawned (no port)`);
      return;
    }
    const lines = this.o.pipeline();
    const kids: ChildProcess[] = [];
    this.stderrTail = "";
    for (const [i, [cmd, args, env]] of lines.entries()) {
      const prev = kids[i - 1];
      const last = i === lines.length - 1;
      const feed = i === 0 ? this.o.feedStdin : undefined;
      const child = spawnTied(cmd, withPort(args, this.boundPort), {
        stdio: [prev?.stdout ?? (feed ? "pipe" : "ignore"), last ? "ignore" : "pipe", "pipe"],
        ...(env ? { env: { ...process.env, ...env } } : {}),
      });
      this.alive.add(child);
      const detach = feed && child.stdin ? feed(child.stdin) : undefined;
      if (detach) child.once("exit", detach).once("error", detach);
      child.stderr?.on("data", (d: Buffer) => {
        this.stderrTail = (this.stderrTail + d.toString()).slice(-600);
      });
      child.on("error", (err) => {
        this.alive.delete(child);
        this.onExit(child, `could not run ${cmd}: ${err.message}`);
      });
      child.on("exit", (code, signal) => {
        this.alive.delete(child);
        this.onExit(child, `${cmd} exited (${signal ?? `code ${code}`})`);
      });
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.ops.run(async () => {
        if (!this.running || this.children.length > 0) return;
        await this.killAll();
        this.restarts++;
        this.spawnAll();
      });
    }, delay);
  }

  /** Stop every process still alive (a dying pipeline included) and wait for them, bounded. */
  private async killAll(): Promise<void> {
    this.children = [];
    await Promise.all([...this.alive].map((c) => stopChild(c)));
    for (const c of this.alive) {
      // gone without an exit event (never started), or stuck past SIGKILL (uninterruptible sleep)
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined)
        this.o.log?.error({ pid: c.pid }, `${this.o.name}: process did not exit after SIGKILL`);
      this.alive.delete(c);
    }
  }

  /** Replace the running processes at once (new settings or source); not a fault. */
  restart(): Promise<void> {
    return this.ops.run(async () => {
      if (!this.running) return;
      await this.killAll();
      if (this.running) this.spawnAll();
    });
  }

  /** Kill the first process as a crash would (test hook): the supervisor sees a death. */
  crash(signal: NodeJS.Signals = "SIGKILL"): number | undefined {
    const c = this.children[0];
    c?.kill(signal);
    return c?.pid;
  }

  stop(): Promise<void> {
    return this.ops.run(async () => {
      this.running = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      await this.killAll();
      const s = this.socket;
      this.socket = undefined;
      this.boundPort = 0;
      if (s) await closeSocket(s);
    });
  }
}

const SOCKET_DEADLINE_MS = 2000;

/** Close a UDP socket; resolves on its close or, at the latest, after a deadline. */
export async function closeSocket(s: Socket): Promise<void> {
  await settleWithin(
    new Promise<void>((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    }),
    SOCKET_DEADLINE_MS,
    undefined,
  );
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
