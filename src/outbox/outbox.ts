import type { Logger } from "pino";
import type { PillarBus } from "../bus/events.js";
import { describeDamage, type Journal } from "./journal.js";
import type { JournalMessage, MessageClass } from "./journal-codec.js";

/** What the outbox needs of the uplink. */
export interface Publisher {
  isConnected(): boolean;
  publish(topic: string, payload: string, o: { qos: 1 }): Promise<void>;
}

export interface OutboxOptions {
  journal: Journal;
  publisher: Publisher;
  bus: PillarBus;
  log: Logger;
  /** Size bound of pending message bodies; above 80% telemetry is dropped and an alarm raised. */
  maxBytes: number;
}

interface Entry {
  msg: JournalMessage;
  /** Connection generation this entry was last published on (0: never). */
  gen: number;
}

/**
 * The pillar's outbox. Every message gets the next `seq`, goes to the fsync'd journal and, in
 * parallel, to the broker when connected. It leaves the journal only on the broker's PUBACK.
 * On start and on every reconnect everything pending is published again in seq order.
 */
export class Outbox {
  private readonly entries = new Map<number, Entry>();
  private gen = 0;
  private offs: (() => void)[] = [];
  private fullAlarm = false;

  constructor(private readonly opts: OutboxOptions) {}

  async start(): Promise<void> {
    const { pending, damage, rewritten } = await this.opts.journal.open();
    if (damage) {
      const lost = describeDamage(damage);
      this.opts.bus.emit("fault.raised", {
        component: "outbox",
        code: "journal.damaged",
        message: `journal damaged at start: ${lost}`,
        at: Date.now(),
      });
      // Once the journal is rewritten clean the damage is over; what it cost stays in the report.
      if (rewritten) {
        this.opts.bus.emit("fault.cleared", {
          component: "outbox",
          code: "journal.damaged",
          message: `journal rewritten clean; lost: ${lost}`,
          at: Date.now(),
        });
      }
    }
    for (const msg of pending) this.entries.set(msg.seq, { msg, gen: 0 });
    this.opts.log.info({ pending: pending.length }, "outbox opened");
    this.offs.push(this.opts.bus.on("uplink.connected", () => this.replay()));
    if (this.opts.publisher.isConnected()) this.replay();
    this.changed();
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    await this.opts.journal.close();
  }

  get depth(): number {
    return this.entries.size;
  }

  get pendingBytes(): number {
    return this.opts.journal.pendingBytes;
  }

  /**
   * Queue a message. `build(seq)` makes its JSON body with the seq it was given. Returns the
   * seq and a promise that resolves once the message is safe on disk.
   */
  submit(topic: string, cls: MessageClass, build: (seq: number) => object): { seq: number; durable: Promise<boolean> } {
    const seq = this.opts.journal.takeSeq();
    const msg: JournalMessage = { k: "m", seq, topic, cls, body: JSON.stringify(build(seq)) };
    const written = this.opts.journal.appendMessage(msg).then(
      () => true,
      (err: Error) => {
        this.opts.log.error({ err, seq }, "journal write failed; message kept in memory only");
        this.opts.bus.emit("fault.raised", {
          component: "outbox",
          code: "journal.write",
          message: err.message,
          at: Date.now(),
        });
        return false;
      },
    );
    const entry: Entry = { msg, gen: 0 };
    this.entries.set(seq, entry);
    if (this.opts.publisher.isConnected()) this.send(entry);
    this.enforceBound();
    this.changed();
    return { seq, durable: written };
  }

  private replay(): void {
    this.gen++;
    const todo = [...this.entries.values()].sort((a, b) => a.msg.seq - b.msg.seq);
    if (todo.length) this.opts.log.info({ count: todo.length, gen: this.gen }, "replaying outbox");
    for (const e of todo) this.send(e);
  }

  private send(e: Entry): void {
    if (e.gen === this.gen && this.gen !== 0) return;
    e.gen = this.gen;
    this.opts.publisher.publish(e.msg.topic, e.msg.body, { qos: 1 }).then(
      () => this.acked(e),
      () => {
        // not acknowledged: stays pending and goes out again on the next reconnect
        e.gen = -1;
      },
    );
  }

  private acked(e: Entry): void {
    if (!this.entries.delete(e.msg.seq)) return;
    // The journal writes in order, so the ack always lands after the message it names.
    this.opts.journal.appendRemoval("a", e.msg.seq).catch((err: Error) => {
      this.opts.log.warn({ err, seq: e.msg.seq }, "could not record ack; the message may be sent twice");
    });
    this.changed();
    if (this.fullAlarm && this.pendingBytes < this.opts.maxBytes * 0.5) {
      this.fullAlarm = false;
      this.opts.bus.emit("fault.cleared", { component: "outbox", code: "outbox.full", at: Date.now() });
    }
  }

  /** Keep pending bytes under 80% of the bound by dropping the oldest telemetry; never alarms. */
  private enforceBound(): void {
    const high = this.opts.maxBytes * 0.8;
    if (this.pendingBytes <= high) return;
    for (const e of [...this.entries.values()]) {
      if (this.pendingBytes <= high) break;
      if (e.msg.cls !== "telemetry") continue;
      this.entries.delete(e.msg.seq);
      this.opts.journal.appendRemoval("d", e.msg.seq).catch(() => undefined);
    }
    if (this.pendingBytes > high && !this.fullAlarm) {
      this.fullAlarm = true;
      this.opts.log.error(
        { pendingBytes: this.pendingBytes, maxBytes: this.opts.maxBytes },
        "outbox nearly full of alarms",
      );
      this.opts.bus.emit("fault.raised", {
        component: "outbox",
        code: "outbox.full",
        message: `outbox holds ${this.pendingBytes} bytes of undelivered alarms (bound ${this.opts.maxBytes})`,
        at: Date.now(),
      });
    }
  }

  private changed(): void {
    this.opts.bus.emit("outbox.changed", { depth: this.entries.size, bytes: this.pendingBytes });
  }
}
