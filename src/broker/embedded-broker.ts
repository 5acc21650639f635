import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { Aedes } from "aedes";
import type { Logger } from "pino";

/**
 * An in-process MQTT broker (aedes) for demos and first runs: `pillar run --sim` uses it when
 * no broker URL is given, so a newcomer sees events flow with no set-up. Loopback only.
 * Not for production: a pillar talks to the control center's broker.
 */
export class EmbeddedBroker {
  private server: Server | undefined;
  private broker: Aedes | undefined;

  constructor(private readonly o: { port: number; log: Logger }) {}

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** The aedes instance, e.g. to attach a WebSocket listener for the console. */
  get aedes(): Aedes | undefined {
    return this.broker;
  }

  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    this.broker = broker;
    const server = createServer(broker.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "EADDRINUSE" && this.o.port !== 0) {
          this.o.log.warn({ port: this.o.port }, "port in use; embedded broker takes a free port");
          server.listen(0, "127.0.0.1", () => resolve());
        } else reject(err);
      });
      server.listen(this.o.port, "127.0.0.1", () => resolve());
    });
    this.o.log.info({ url: this.url }, "embedded MQTT broker listening (demo only)");
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    const b = this.broker;
    this.broker = undefined;
    if (b) await new Promise<void>((resolve) => b.close(() => resolve()));
  }
}
