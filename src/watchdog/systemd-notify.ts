import { type ChildProcess, spawn } from "node:child_process";
import type { Logger } from "pino";

/**
 * Sends sd_notify messages (`READY=1`, `WATCHDOG=1`, `STOPPING=1`) to systemd.
 *
 * Why a socat child: the notify socket is a Unix *datagram* socket, which Node cannot write to
 * without a native addon, and the pillar must not need a native build for this. `systemd-notify`
 * run once per message is racy (it exits before systemd reads its cgroup, so the message may be
 * dropped). One long-lived `socat -u STDIN UNIX-SENDTO:$NOTIFY_SOCKET` child lives in the unit's
 * cgroup for the pillar's whole life; with `NotifyAccess=all` systemd accepts what it sends. Each
 * write to its stdin becomes one datagram.
 */
export class SystemdNotifier {
  private child: ChildProcess | undefined;
  private stopped = false;
  private restarts = 0;

  constructor(
    private readonly o: {
      /** `$NOTIFY_SOCKET`: a path, or `@name` for an abstract socket. */
      socket: string;
      log: Logger;
      /** The socat binary (tests may point it elsewhere). */
      socat?: string;
    },
  ) {}

  /** The notifier for this process, or undefined when systemd did not ask for notifications. */
  static fromEnv(env: NodeJS.ProcessEnv, log: Logger): SystemdNotifier | undefined {
    const socket = env.NOTIFY_SOCKET;
    return socket ? new SystemdNotifier({ socket, log }) : undefined;
  }

  /** socat's address for the notify socket. */
  get address(): string {
    const s = this.o.socket;
    return s.startsWith("@") ? `ABSTRACT-SENDTO:${s.slice(1)}` : `UNIX-SENDTO:${s}`;
  }

  start(): void {
    this.stopped = false;
    this.spawnChild();
  }

  /** Sends one message (`KEY=value` lines). False when the child is not there to take it. */
  notify(message: string): boolean {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return false;
    stdin.write(message.endsWith("\n") ? message : `${message}\n`);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.stdin?.end(); // socat -u ends when its input ends
    const timer = setTimeout(() => child.kill("SIGKILL"), 1000);
    await exited;
    clearTimeout(timer);
  }

  private spawnChild(): void {
    const child = spawn(this.o.socat ?? "socat", ["-u", "STDIN", this.address], {
      stdio: ["pipe", "ignore", "pipe"],
    });
    this.child = child;
    child.stdin?.on("error", () => undefined); // a dead child is handled on exit
    child.stderr?.on("data", (d: Buffer) => this.o.log.warn({ socat: d.toString().trim().slice(0, 300) }, "notify"));
    child.once("error", (err) => this.o.log.error({ err: err.message }, "cannot start socat for sd_notify"));
    child.once("exit", (code) => {
      if (this.stopped || this.child !== child) return;
      // Bounded respawn: a notifier that keeps dying means systemd will restart us anyway.
      if (++this.restarts > 5) {
        this.o.log.error({ code }, "sd_notify helper keeps exiting; giving up (systemd will restart the pillar)");
        return;
      }
      this.o.log.warn({ code }, "sd_notify helper exited; restarting it");
      setTimeout(() => !this.stopped && this.spawnChild(), 200).unref();
    });
  }
}
