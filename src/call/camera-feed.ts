import type { Logger } from "pino";
import type { Camera } from "../../hal/camera.js";
import type { PillarBus } from "../bus/events.js";
import { Listeners } from "../../hal/listeners.js";
import { SerialOps } from "../../hal/serial-ops.js";
import { GopCache } from "./gop-cache.js";

/**
 * Runs the camera for the calls: started on the first `acquire()` and stopped on the last
 * `release()` (mode "onDemand"), or all the time (mode "always"). Keeps the current GOP for new
 * viewers and fans the packets out. A dying encoder raises a `camera` fault on the bus (the
 * driver restarts it); the first packet after it clears the fault. A camera that cannot start
 * raises a fault too and never stops the pillar: the button path does not depend on it.
 */
export class CameraFeed {
  readonly gop = new GopCache();
  private readonly packets = new Listeners<[Buffer]>();
  private users = 0;
  private running = false;
  private offs: (() => void)[] = [];
  private faulted: string | undefined;
  /** The camera's one owner: its start and stop never overlap. */
  private readonly ops = new SerialOps();

  constructor(private readonly o: { camera: Camera; bus: PillarBus; log: Logger; mode: () => "onDemand" | "always" }) {}

  async start(): Promise<void> {
    const { camera } = this.o;
    this.offs.push(
      camera.onRtp((p) => {
        this.gop.push(p);
        this.packets.emit(p);
      }),
      camera.onFault((err) => this.raise("encoder.died", err.message)),
      camera.onRecover(() => this.clear()),
    );
    if (this.o.mode() === "always") await this.ops.run(() => this.run());
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    await this.ops.run(() => this.halt());
  }

  /** A session needs video: start the camera if it is not running. */
  acquire(): Promise<void> {
    this.users++;
    // decided when it runs, not when asked: overlapping acquire/release settle on the last word
    return this.ops.run(async () => {
      if (this.users > 0) await this.run();
    });
  }

  /** A session ended: stop the camera if no one needs it (onDemand). */
  release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    return this.ops.run(async () => {
      if (this.users === 0 && this.o.mode() === "onDemand") await this.halt();
    });
  }

  onPacket(l: (p: Buffer) => void): () => void {
    return this.packets.add(l);
  }

  isRunning(): boolean {
    return this.running;
  }

  pid(): number | undefined {
    return this.o.camera.pid();
  }

  status(): string {
    return this.faulted ? "failed" : this.running ? "streaming" : "idle";
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.gop.clear();
    try {
      await this.o.camera.start();
    } catch (err) {
      this.running = false;
      this.raise("start.failed", (err as Error).message);
    }
  }

  private async halt(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.o.camera.stop();
    this.gop.clear();
  }

  private raise(code: string, message: string): void {
    if (this.faulted) return;
    this.faulted = code;
    this.o.log.error({ code, message }, "camera fault");
    this.o.bus.emit("fault.raised", { component: "camera", code, message, at: Date.now() });
  }

  private clear(): void {
    const code = this.faulted;
    if (!code) return;
    this.faulted = undefined;
    this.o.log.info({ code }, "camera recovered");
    this.o.bus.emit("fault.cleared", { component: "camera", code, at: Date.now() });
  }
}
