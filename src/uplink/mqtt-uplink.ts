import mqtt, { type MqttClient } from "mqtt";
import type { Logger } from "pino";
import type { PillarBus } from "../bus/events.js";
import { maskUrl } from "../log/logger.js";
import { CertExpiryWatch } from "../security/cert-expiry.js";
import { loadTlsMaterial, TlsFileWatcher, type CertInfo, type TlsMaterial } from "../security/tls-credentials.js";
import { isPlaintextUrl } from "../security/transport-policy.js";
import { PillarTopics, topicMatches } from "./topics.js";
import { type UplinkSettings, uplinkClientOptions } from "./uplink-client-options.js";

export type { UplinkSettings } from "./uplink-client-options.js";

/** Said once per process, not at every restart of the services. */
let plaintextNoted = false;

export interface UplinkOptions {
  pillarId: string;
  settings: UplinkSettings;
  /** Software version, announced in the retained `online` status. */
  version: string;
  /** Where the pillar stands (the config's `location`), announced in the status for the center's map. */
  location?: () => { lat: number; lon: number; address: string; district: string };
  bus: PillarBus;
  log: Logger;
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
  private material: TlsMaterial | undefined;
  private watcher: TlsFileWatcher | undefined;
  private expiry: CertExpiryWatch | undefined;
  private lastTlsError = "";

  constructor(private readonly opts: UplinkOptions) {
    this.topics = new PillarTopics(opts.pillarId);
  }

  isConnected(): boolean {
    return this.connected;
  }

  async start(): Promise<void> {
    const { settings: s, log } = this.opts;
    const tls = s.tls && !isPlaintextUrl(s.url) ? s.tls : undefined;
    if (tls) {
      this.material = await loadTlsMaterial(tls);
      log.info({ clientCert: this.material.info }, "mutual TLS: client certificate loaded");
      this.expiry = new CertExpiryWatch({ bus: this.opts.bus, warnDays: () => tls.expiryWarningDays });
      this.expiry.check(this.material.info);
      this.watcher = new TlsFileWatcher({
        settings: () => tls,
        current: () => this.material?.digest,
        onChange: (m) => void this.rotate(m),
        onError: (err) => {
          if (err.message === this.lastTlsError) return;
          this.lastTlsError = err.message;
          log.warn({ err: err.message }, "changed TLS files not usable (yet); keeping the current ones");
        },
      });
      this.watcher.start();
    } else if (isPlaintextUrl(s.url) && !plaintextNoted) {
      plaintextNoted = true;
      log.warn({ url: maskUrl(s.url) }, "plaintext MQTT, no TLS: for development only (production mode refuses it)");
    }
    log.info({ url: maskUrl(s.url), clientId: s.clientId, tls: !!tls }, "connecting to broker");
    this.connect();
  }

  /** The client certificate in use (for health), or null without TLS. */
  certInfo(): CertInfo | null {
    if (!this.material) return null;
    const i = this.material.info;
    return { ...i, daysLeft: Math.floor((Date.parse(i.notAfter) - Date.now()) / 86_400_000) };
  }

  private connect(): void {
    const { settings: s } = this.opts;
    const client = mqtt.connect(
      s.url,
      uplinkClientOptions(s, this.material, {
        topic: this.topics.status,
        payload: Buffer.from(JSON.stringify(this.statusPayload("offline", "connection lost"))),
      }),
    );
    this.client = client;
    client.on("connect", () => client === this.client && this.onConnect());
    client.on("close", () => client === this.client && this.onClose());
    client.on("error", (err) => this.opts.log.warn({ err: err.message }, "broker connection error"));
    client.on("message", (topic, payload) => client === this.client && this.dispatch(topic, payload));
  }

  /** New certificate files: leave the broker cleanly (no last will) and connect with them. */
  private async rotate(m: TlsMaterial): Promise<void> {
    const old = this.client;
    if (!old) return;
    this.lastTlsError = "";
    this.material = m;
    this.expiry?.check(m.info);
    this.opts.log.info({ clientCert: m.info }, "TLS files changed: reconnecting with the new client certificate");
    this.client = undefined;
    this.onClose();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => old.end(true, {}, () => resolve()), 2000);
      old.end(false, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
    if (this.stopped) return;
    this.connect();
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
      ...(this.opts.location ? { location: this.opts.location() } : {}),
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

  private stopped = false;

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
    this.stopped = true;
    this.watcher?.stop();
    this.expiry?.stop();
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
