import type { IClientOptions, IStore } from "mqtt";
import type { TlsMaterial, TlsSettings } from "../security/tls-credentials.js";
import { NullStore } from "./null-store.js";

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
  /** Mutual TLS (mqtts:// and wss://): CA, client certificate and key files, re-read on change. */
  tls?: TlsSettings;
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

/**
 * The MQTT.js options of the pillar's connection: session, resend, TLS, failover and last-will
 * policy in one pure function, apart from the connection's life (MqttUplink), because each
 * option here is a delivery guarantee that must read as one.
 */
export function uplinkClientOptions(
  s: UplinkSettings,
  m: TlsMaterial | undefined,
  will: { topic: string; payload: Buffer },
): IClientOptions {
  return {
    ...brokerList(s),
    clientId: s.clientId,
    username: s.username,
    password: s.password,
    keepalive: s.keepaliveS,
    connectTimeout: s.connectTimeoutMs,
    reconnectPeriod: s.reconnectMs,
    // A persistent session: commands (e.g. incident.ack) sent while the pillar reconnects are
    // kept by the broker and delivered; each carries issuedAt, so a stale one is refused.
    // Only the broker keeps a session: outgoing messages stay in the journal (NullStore below).
    clean: false,
    resubscribe: false,
    queueQoSZero: false,
    protocolVersion: 4,
    // Never call client.reconnect(): it swaps this for MQTT.js's default resend store.
    outgoingStore: new NullStore() as unknown as IStore,
    ...(m
      ? {
          ca: m.ca,
          cert: m.cert,
          key: m.key,
          rejectUnauthorized: true,
          ...(s.tls?.serverName ? { servername: s.tls.serverName } : {}),
        }
      : {}),
    will: { ...will, qos: 1, retain: true },
  };
}
