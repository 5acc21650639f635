import { Readable } from "node:stream";
import type { IStore } from "mqtt";

/**
 * An MQTT.js outgoing store that keeps nothing. The pillar's own fsync'd journal is the outbox
 * and is replayed on every reconnect; letting MQTT.js also resend its in-memory copies would
 * send messages twice and out of seq order.
 */
export class NullStore {
  put(_packet: Parameters<IStore["put"]>[0], cb: Parameters<IStore["put"]>[1]): IStore {
    cb?.();
    return this;
  }
  createStream(): ReturnType<IStore["createStream"]> {
    // MQTT.js reads this with read()/"readable"/"end": a Node stream that ends at once will do.
    return Readable.from([], { objectMode: true }) as unknown as ReturnType<IStore["createStream"]>;
  }
  del(packet: Parameters<IStore["del"]>[0], cb: Parameters<IStore["del"]>[1]): IStore {
    cb(undefined, packet as Parameters<Parameters<IStore["del"]>[1]>[1]);
    return this;
  }
  get(_packet: Parameters<IStore["get"]>[0], cb: Parameters<IStore["get"]>[1]): IStore {
    cb(new Error("NullStore keeps no packets"));
    return this;
  }
  close(cb: Parameters<IStore["close"]>[0]): void {
    cb?.();
  }
}
