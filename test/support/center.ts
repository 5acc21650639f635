import mqtt, { type IClientOptions, type MqttClient } from "mqtt";

export interface Received {
  topic: string;
  payload: Record<string, unknown>;
  at: number;
  retain: boolean;
}

/**
 * A stand-in for the control center: a subscriber with a persistent session (clean: false,
 * QoS 1), as the README tells real centers to use, so nothing published while it reconnects
 * is missed.
 */
export class TestCenter {
  client: MqttClient | undefined;
  readonly received: Received[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    private readonly url: string,
    private readonly clientId = `center-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    /** Extra connect options, e.g. the center's TLS certificate (`ca`, `cert`, `key`). */
    private readonly connectOptions: IClientOptions = {},
  ) {}

  async start(filter = "pillar/v1/#"): Promise<this> {
    const client = mqtt.connect(this.url, {
      clientId: this.clientId,
      clean: false,
      reconnectPeriod: 200,
      protocolVersion: 4,
      ...this.connectOptions,
    });
    this.client = client;
    client.on("message", (topic, payload, packet) => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(payload.toString()) as Record<string, unknown>;
      } catch {
        body = { raw: payload.toString() };
      }
      this.received.push({ topic, payload: body, at: performance.now(), retain: packet.retain });
      for (const w of this.waiters.splice(0)) w();
    });
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
    });
    await client.subscribeAsync(filter, { qos: 1 });
    return this;
  }

  events(type?: string): Record<string, unknown>[] {
    return this.received
      .filter((r) => r.topic.endsWith("/event") && (!type || r.payload.type === type))
      .map((r) => r.payload);
  }

  /** Wait until `pred` holds over what was received. */
  async until(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`center timed out waiting for ${what}; got ${this.received.length} messages`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /**
   * Publish as a center does: a command or signaling object gets `issuedAt` (now) unless it sets
   * one itself; a string is sent as it is.
   */
  async send(topic: string, payload: unknown): Promise<void> {
    const stamp = /\/(cmd|webrtc)\//.test(topic) && payload && typeof payload === "object" && !("issuedAt" in payload);
    const body = stamp ? { issuedAt: new Date().toISOString(), ...(payload as object) } : payload;
    await this.client!.publishAsync(topic, typeof body === "string" ? body : JSON.stringify(body), { qos: 1 });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }
}
