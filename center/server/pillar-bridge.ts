import type { MqttClient } from "mqtt";
import type { Logger } from "pino";
import { connectConsoleBroker } from "./broker-session.js";
import type { BrokerTls } from "./broker-tls.js";
import type { CenterTap } from "./center-hooks.js";
import { checkPillarMessage, type PillarMsg } from "./pillar-messages.js";

export interface BridgeOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  /** Also take offers re-routed to this secondary-center topic prefix. */
  secondaryTopic?: string;
  /** A fixed client id: a persistent session (broker-session.ts). */
  clientId?: string;
  /** The console's client certificate for a mutual-TLS broker. */
  tls?: BrokerTls;
  /** The center's taps (the incident log): a message is acknowledged once they stored it. */
  taps: CenterTap[];
  /** What the center remembers (the log's open incidents): taken in before the broker's news. */
  recall?: () => Promise<{ topic: string; payload: unknown }[]>;
  log: Logger;
}

/** Bounds of what the console keeps in memory whatever the broker sends. */
const MAX_PILLARS = 5000;
const MAX_OPEN_INCIDENTS = 1000;
const MAX_EVENTS_PER_INCIDENT = 50;
const SEEN_EVENT_IDS = 20_000;
/** Press snapshots (≤ 300 kB each) kept for open incidents. */
const MAX_SNAPSHOTS = 100;

/** A warning per refused message, but at most this many per 10 s (the rest are counted). */
const WARNINGS_PER_WINDOW = 20;

/**
 * The console's link to the broker: subscribes to what the pillars publish, checks every
 * message (pillar-messages.ts) and hands the valid ones to `onMessage`. Keeps what a page that
 * opens later needs (`snapshot()`): the last status, health, self-test, call session and retained
 * incident state of each pillar and the events of incidents still open (a closed incident leaves
 * it; so does one the pillar's incident state no longer names). At start it takes in what the
 * center's log remembers of open incidents (`recall`), so a restarted console shows them at once. A malformed,
 * oversized or too-deep message is logged and dropped; nothing the broker sends can stop it.
 */
export class PillarBridge {
  private client: MqttClient | undefined;
  /** Per pillar, per kind (status, health, selftest, session): the last message. */
  private readonly latest = new Map<string, Map<string, PillarMsg>>();
  private readonly incidents = new Map<string, PillarMsg[]>();
  private readonly seen = new Set<string>();
  private readonly snapshots = new Map<string, PillarMsg>();
  private refused = { inWindow: 0, windowStart: 0, dropped: 0 };
  onMessage: (m: PillarMsg) => void = () => undefined;

  constructor(private readonly o: BridgeOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(): Promise<void> {
    for (const m of (await this.o.recall?.()) ?? [])
      this.receive(m.topic, Buffer.from(JSON.stringify(m.payload)), true);
    const client = connectConsoleBroker({
      brokerUrl: this.o.brokerUrl,
      username: this.o.username,
      password: this.o.password,
      clientId: this.o.clientId,
      tls: this.o.tls,
      taps: this.o.taps,
      log: this.o.log,
    });
    this.client = client;
    client.on("message", (topic, payload, packet) => this.receive(topic, payload, packet.retain));
    client.on("error", (err) => this.o.log.warn({ err: err.message }, "broker error"));
    const filters = [
      "pillar/v1/+/status",
      "pillar/v1/+/health",
      "pillar/v1/+/event",
      "pillar/v1/+/incident",
      "pillar/v1/+/selftest",
      "pillar/v1/+/snapshot",
      "pillar/v1/+/webrtc/#",
      "pillar/v1/+/cmd/+/result",
    ];
    if (this.o.secondaryTopic) filters.push(`${this.o.secondaryTopic}/offer`);
    client.on("connect", () => {
      this.o.log.info("connected to the broker");
      client.subscribe(filters, { qos: 1 });
    });
    // Not waited for beyond 2 s: the page is served at once and the bridge (re)connects on its
    // own, so the console may start before the broker (e.g. beside `pillar run --sim`).
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      client.once("connect", () => (clearTimeout(t), resolve()));
    });
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.endAsync(true);
  }

  async publish(topic: string, payload: string): Promise<void> {
    const c = this.client;
    if (!c?.connected) throw new Error("console is not connected to the broker");
    await c.publishAsync(topic, payload, { qos: 1 });
  }

  /** What a page that just opened is sent before the live stream: state, then open incidents. */
  snapshot(): PillarMsg[] {
    const out: PillarMsg[] = [];
    for (const kinds of this.latest.values()) out.push(...kinds.values());
    for (const events of this.incidents.values()) out.push(...events);
    out.push(...this.snapshots.values());
    return out;
  }

  private receive(topic: string, payload: Buffer, retain: boolean): void {
    let msg: PillarMsg | null;
    try {
      msg = checkPillarMessage(
        topic,
        payload,
        retain,
        this.o.secondaryTopic ? `${this.o.secondaryTopic}/offer` : undefined,
      );
    } catch (err) {
      this.warnRefused(topic, payload.length, (err as Error).message);
      return;
    }
    if (!msg) return;
    if (msg.kind === "event" && !this.keepEvent(msg)) return;
    if (msg.kind === "snapshot") this.keepSnapshot(msg);
    if (msg.kind === "incident") this.forgetStale(msg);
    if (["status", "health", "selftest", "session", "incident"].includes(msg.kind)) this.keepLatest(msg);
    try {
      this.onMessage(msg);
    } catch (err) {
      this.o.log.error({ err: (err as Error).message, topic }, "console could not pass a message on");
    }
  }

  private keepLatest(msg: PillarMsg): void {
    let kinds = this.latest.get(msg.pillarId);
    if (!kinds) {
      if (this.latest.size >= MAX_PILLARS) return void this.o.log.warn({ pillarId: msg.pillarId }, "too many pillars");
      this.latest.set(msg.pillarId, (kinds = new Map()));
    }
    if (msg.payload === null) kinds.delete(msg.kind);
    else kinds.set(msg.kind, msg);
  }

  /** De-duplicate (delivery is at least once) and keep the events of open incidents. */
  private keepEvent(msg: PillarMsg): boolean {
    const e = msg.payload as { eventId: string; type: string; incidentId?: string };
    if (this.seen.has(e.eventId)) return false;
    this.seen.add(e.eventId);
    if (this.seen.size > SEEN_EVENT_IDS) this.seen.delete(this.seen.values().next().value!);
    if (!e.incidentId) return true;
    if (e.type === "incident.closed") {
      this.incidents.delete(e.incidentId);
      this.snapshots.delete(e.incidentId);
      return true;
    }
    let list = this.incidents.get(e.incidentId);
    if (!list) {
      if (this.incidents.size >= MAX_OPEN_INCIDENTS) this.incidents.delete(this.incidents.keys().next().value!);
      this.incidents.set(e.incidentId, (list = []));
    }
    if (list.length < MAX_EVENTS_PER_INCIDENT) list.push(msg);
    return true;
  }

  /**
   * A pillar has one open incident at a time: its incident state (at `at`) makes any other
   * incident of that pillar opened before then stale (closed while this console was away, its
   * close not seen). One opened later is newer news than the state and is kept.
   */
  private forgetStale(msg: PillarMsg): void {
    const s = msg.payload as { incidentId: string | null; at: string } | null;
    if (!s) return;
    for (const [id, events] of this.incidents) {
      const first = events[0]?.payload as { pillarId: string; occurredAt: string } | undefined;
      if (id === s.incidentId || first?.pillarId !== msg.pillarId || first.occurredAt >= s.at) continue;
      this.incidents.delete(id);
      this.snapshots.delete(id);
    }
  }

  private keepSnapshot(msg: PillarMsg): void {
    const id = (msg.payload as { incidentId: string }).incidentId;
    this.snapshots.delete(id);
    this.snapshots.set(id, msg);
    if (this.snapshots.size > MAX_SNAPSHOTS) this.snapshots.delete(this.snapshots.keys().next().value!);
  }

  private warnRefused(topic: string, bytes: number, why: string): void {
    const now = Date.now();
    const r = this.refused;
    if (now - r.windowStart > 10_000) {
      if (r.dropped) this.o.log.warn({ count: r.dropped }, "more pillar messages refused (not logged one by one)");
      this.refused = { inWindow: 0, windowStart: now, dropped: 0 };
    }
    if (this.refused.inWindow++ < WARNINGS_PER_WINDOW)
      this.o.log.warn({ topic: topic.slice(0, 200), bytes, err: why.slice(0, 300) }, "pillar message refused");
    else this.refused.dropped++;
  }
}
