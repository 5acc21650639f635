import mqtt, { type IPublishPacket, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import { parseBoundedJson } from "../../src/util/bounded-json.js";
import type { CenterTap } from "./center-hooks.js";

export interface BrokerSessionOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  /**
   * A fixed client id: a persistent session (clean: false; the broker keeps the subscriptions
   * and queues QoS 1 messages while the console is away). Without one: a throw-away session
   * (the demo console, which keeps nothing anyway).
   */
  clientId?: string;
  /** Who must have a message before the broker is told it arrived (the incident log). */
  taps: CenterTap[];
  log: Logger;
}

/** What a pillar message may be before the taps see it (larger ones are not the contract's). */
const BOUNDS = { maxBytes: 256 * 1024, maxDepth: 32 };
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

/**
 * The console server's MQTT connection. With taps and a fixed client id, nothing the pillars
 * publish is lost across a console restart or crash: the broker acknowledges a pillar's event
 * when it has it, queues it for the console's persistent session, and the console acknowledges
 * it (PUBACK) only after every tap stored it. mqtt.js sends the PUBACK of a QoS 1 message when
 * `client.handleMessage` calls back (its documented back-pressure hook; MQTT 3.1.1, so NATS and
 * Mosquitto both work; `customHandleAcks` is MQTT 5 only), and emits 'message' before that, so
 * pages see a message live while it is being stored. A message whose storing fails is tried
 * again (with a growing wait) and meanwhile nothing else is acknowledged; a console that dies
 * before storing gets it again from the broker, and the log de-duplicates it on `eventId`.
 */
export function connectConsoleBroker(o: BrokerSessionOptions): MqttClient {
  const client = mqtt.connect(o.brokerUrl, {
    clientId: o.clientId ?? `console-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    clean: !o.clientId,
    username: o.username,
    password: o.password,
    reconnectPeriod: 1000,
    protocolVersion: 4,
  });
  const taps = o.taps.filter((t) => t.received);
  if (!taps.length) return client;
  // A PUBACK belongs to the connection that delivered the message: after a reconnect the broker
  // delivers it again, so a late ack of the old delivery must not go out on the new connection.
  let connection = 0;
  client.on("close", () => connection++);
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
      if (conn !== connection || client.disconnecting || client.disconnected) return false;
    }
  };
  client.handleMessage = (packet, callback) => {
    const conn = connection;
    void store(packet, conn).then((stored) => {
      if (stored && conn === connection) callback();
    });
  };
  return client;
}
