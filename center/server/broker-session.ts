import mqtt, { type IPublishPacket, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import { parseBoundedJson } from "../../src/util/bounded-json.js";
import type { BrokerTls } from "./broker-tls.js";
import type { CenterTap } from "./center-hooks.js";

export interface BrokerSessionOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  /**
   * The log's client id: a persistent session (clean: false; the broker keeps the subscriptions
   * and queues QoS 1 messages while the console is away). Without one: a throw-away session.
   */
  clientId?: string;
  /** The console's client certificate for a mutual-TLS broker (broker-tls.ts). */
  tls?: BrokerTls;
  /** Who must have a message before the broker is told it arrived (the incident log). */
  taps: CenterTap[];
  log: Logger;
}

/** What a pillar message may be before the taps see it (larger ones are not the contract's). */
const BOUNDS = { maxBytes: 256 * 1024, maxDepth: 32 };
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

/** What the taps store (center/log): the pillars' events, call steps and command results. */
export const LOG_FILTERS = ["pillar/v1/+/event", "pillar/v1/+/webrtc/session", "pillar/v1/+/cmd/+/result"];

const logSubscribed = new WeakMap<MqttClient, Promise<void>>();

/** Resolves once the log's session (see connectConsoleBroker) has its subscriptions. */
export function logSessionReady(client: MqttClient): Promise<void> {
  return logSubscribed.get(client) ?? Promise.resolve();
}

/**
 * The console server's MQTT connections. The returned client is the live one, for the pages:
 * a throw-away session, so a page sees a message as soon as the broker has it, whatever the
 * database does. With taps, a second connection is the log's: with a fixed client id it is a
 * persistent session (clean: false, QoS 1 on LOG_FILTERS), so nothing the pillars publish is lost
 * across a console restart or crash: the broker acknowledges a pillar's event when it has it,
 * queues it for this session, and the console acknowledges it (PUBACK) only after every tap
 * stored it. mqtt.js sends the PUBACK of a QoS 1 message when `client.handleMessage` calls back
 * (its documented back-pressure hook; MQTT 3.1.1, so NATS and Mosquitto both work;
 * `customHandleAcks` is MQTT 5 only). A message whose storing fails is tried again (with a
 * growing wait) and meanwhile the broker holds the ones after it for the log — the live
 * connection goes on. A console that dies before storing gets the message again, and the log
 * de-duplicates it on `eventId`. Ending the live client ends the log's.
 */
export function connectConsoleBroker(o: BrokerSessionOptions): MqttClient {
  const base = {
    username: o.username,
    password: o.password,
    reconnectPeriod: 1000,
    protocolVersion: 4 as const,
    ...o.tls?.options(),
  };
  const id = `console-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  const client = mqtt.connect(o.brokerUrl, { ...base, clientId: id, clean: true });
  o.tls?.track(client);
  const taps = o.taps.filter((t) => t.received);
  if (!taps.length) return client;
  const log = mqtt.connect(o.brokerUrl, { ...base, clientId: o.clientId ?? `${id}-log`, clean: !o.clientId });
  o.tls?.track(log);
  const end = client.end.bind(client) as (...a: unknown[]) => MqttClient;
  client.end = ((...args: unknown[]) => {
    log.end(true);
    return end(...args);
  }) as MqttClient["end"];
  log.on("error", (err) => o.log.warn({ err: err.message }, "broker error (the log's session)"));
  logSubscribed.set(
    client,
    new Promise<void>((resolve) =>
      log.on("connect", () =>
        log.subscribeAsync(LOG_FILTERS, { qos: 1 }).then(
          () => resolve(),
          (err: Error) => o.log.error({ err: err.message }, "the log's session could not subscribe"),
        ),
      ),
    ),
  );
  // A PUBACK belongs to the connection that delivered the message: after a reconnect the broker
  // delivers it again, so a late ack of the old delivery must not go out on the new connection.
  let connection = 0;
  log.on("close", () => connection++);
  const store = async (packet: IPublishPacket, conn: number): Promise<boolean> => {
    let doc: unknown;
    try {
      doc = parseBoundedJson(packet.payload as Buffer, BOUNDS);
    } catch {
      return true; // not JSON or too large: nothing a tap could store (the console's checks log it)
    }
    for (let wait = RETRY_MIN_MS; ; wait = Math.min(wait * 2, RETRY_MAX_MS)) {
      try {
        await Promise.all(taps.map((t) => t.received!(packet.topic, doc, packet.retain)));
        return true;
      } catch (err) {
        o.log.error(
          { err: (err as Error).message, topic: packet.topic, retryMs: wait },
          "message not stored: not acknowledged, trying again",
        );
      }
      await new Promise((r) => setTimeout(r, wait));
      if (conn !== connection || log.disconnecting || log.disconnected) return false;
    }
  };
  log.handleMessage = (packet, callback) => {
    const conn = connection;
    void store(packet, conn).then((stored) => {
      if (stored && conn === connection) callback();
    });
  };
  return client;
}
