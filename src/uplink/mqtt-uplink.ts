import mqtt, { type IStore, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import type { PillarBus } from "../bus/events.js";
import { maskUrl } from "../log/logger.js";
import { NullStore } from "./null-store.js";
import { PillarTopics, topicMatches } from "./topics.js";

export interface UplinkSettings {
  url: string;
  /** Other nodes of a clustered broker, tried in turn after `url` (docs/scale.md). */
  failoverUrls?: string[];
  clientId: string;
  username?: string;
  password?: string;
  keepaliveS: number;
  connectTimeoutMs: number;
  reconnectMs: number;
}

export interface UplinkOptions {
  pillarId: string;
  settings: UplinkSettings;
  /** Software version, announced in the retained `online` status. */
  version: string;
  bus: PillarBus;
  log: Logger;
}

/**
 * MQTT.js's `servers` option for a broker with failover nodes: on each new connection attempt
 * the client takes the next entry (url first), so a pillar whose node died lands on another.
 */
function brokerList(s: UplinkSettings): { servers?: { host: string; port: number; protocol: "mqtt" | "mqtts" }[] } {
  if (!s.failoverUrls?.length) return {};
  return {
    servers: [s.url, ...s.failoverUrls].map((u) => {
      const url = new URL(u);
      const protocol = url.protocol === "mqtts:" ? "mqtts" : "mqtt";
      return { host: url.hostname, port: Number(url.port || (protocol === "mqtts" ? 8883 : 1883)), protocol };
    }),
  };
}

type Handler = (topic: string, payload: Buffer) => void;

/**
 * The pillar's MQTT connection to the control center. Announces `online` (retained) on every
 * connect with a last will of `offline`, keeps subscriptions across reconnects, and offers a
 * publish that resolves on the broker's PUBACK and rejects when the link drops first.
 * Emits `uplink.connected` / `uplink.disconnected` on the bus.
 */
export class MqttUplink {
  readonly topics: PillarTopics;
  private client: MqttClient | undefined;
  private readonly subs = new Map<string, Set<Handler>>();
  private inflight = new Set<(err: Error) => void>();
  private readonly startedAt = Date.now();
  private connected = false;

  constructor(private readonly opts: UplinkOptions) {
    this.topics = new PillarTopics(opts.pillarId);
  }

  isConnected(): boolean {
    return this.connected;
  }

  async start(): Promise<void> {
    const { settings: s, log } = this.opts;
    log.info({ url: maskUrl(s.url), clientId: s.clientId }, "connecting to broker");
    const client = mqtt.connect(s.url, {
      ...brokerList(s),
      clientId: s.clientId,
      username: s.username,
      password: s.password,
      keepalive: s.keepaliveS,
      connectTimeout: s.connectTimeoutMs,
      reconnectPeriod: s.reconnectMs,
      clean: true,
      resubscribe: false,
      queueQoSZero: false,
      protocolVersion: 4,
      outgoingStore: new NullStore() as unknown as IStore,
      will: {
        topic: this.topics.status,
        payload: Buffer.from(JSON.stringify(this.statusPayload("offline", "connection lost"))),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    client.on("connect", () => this.onConnect());
    client.on("close", () => this.onClose());
    client.on("error", (err) => log.warn({ err: err.message }, "broker connection error"));
    client.on("message", (topic, payload) => this.dispatch(topic, payload));
  }

  /**
   * For simulations and drills: cut the connection the way a dead link does (no DISCONNECT, so
   * the broker publishes the last will), stay away `awayMs`, then reconnect as usual.
   */
  interrupt(awayMs: number): void {
    const client = this.client;
    if (!client) return;
    const period = this.opts.settings.reconnectMs;
    client.options.reconnectPeriod = Math.max(period, awayMs);
    client.once("connect", () => {
      client.options.reconnectPeriod = period;
    });
    client.stream.destroy();
  }

  private statusPayload(state: "online" | "offline", reason?: string): Record<string, unknown> {
    return {
      state,
      pillarId: this.opts.pillarId,
      version: this.opts.version,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      at: new Date().toISOString(),
      ...(reason ? { reason } : {}),
    };
  }

  private onConnect(): void {
    this.connected = true;
    this.opts.log.info("broker connected");
    const filters = [...this.subs.keys()];
    if (filters.length) this.client?.subscribe(filters, { qos: 1 });
    void this.publish(this.topics.status, JSON.stringify(this.statusPayload("online")), { qos: 1, retain: true }).catch(
      () => undefined,
    );
    this.opts.bus.emit("uplink.connected", { at: Date.now() });
  }

  private onClose(): void {
    const failed = this.inflight;
    this.inflight = new Set();
    for (const reject of failed) reject(new Error("connection to broker closed before PUBACK"));
    if (!this.connected) return;
    this.connected = false;
    this.opts.log.warn("broker connection lost");
    this.opts.bus.emit("uplink.disconnected", { at: Date.now(), reason: "closed" });
  }

  private dispatch(topic: string, payload: Buffer): void {
    for (const [filter, handlers] of this.subs) {
      if (!topicMatches(filter, topic)) continue;
      for (const h of handlers) {
        try {
          h(topic, payload);
        } catch (err) {
          this.opts.log.error({ err, topic }, "message handler failed");
        }
      }
    }
  }

  /**
   * Publish now. QoS 1 resolves on PUBACK; rejects when not connected or when the connection
   * drops before the PUBACK (callers that must not lose the message use the outbox).
   */
  publish(topic: string, payload: string | Buffer, o: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) return Promise.reject(new Error("not connected to broker"));
    return new Promise((resolve, reject) => {
      this.inflight.add(reject);
      client.publish(topic, payload, { qos: o.qos ?? 1, retain: o.retain ?? false }, (err) => {
        this.inflight.delete(reject);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /** Subscribe (QoS 1) now and after every reconnect. Returns an unsubscribe function. */
  subscribe(filter: string, handler: Handler): () => void {
    let set = this.subs.get(filter);
    if (!set) {
      set = new Set();
      this.subs.set(filter, set);
      if (this.connected) this.client?.subscribe(filter, { qos: 1 });
    }
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0) {
        this.subs.delete(filter);
        if (this.connected) this.client?.unsubscribe(filter);
      }
    };
  }

  /** Say `offline` (retained) if connected, then close. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    if (this.connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        client.publish(
          this.topics.status,
          JSON.stringify(this.statusPayload("offline", "shutdown")),
          { qos: 1, retain: true },
          () => {
            clearTimeout(t);
            resolve();
          },
        );
      });
    }
    this.connected = false;
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
}
