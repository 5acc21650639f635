import type { MqttClient } from "mqtt";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectConsoleBroker } from "../../center/server/broker-session.js";
import type { CenterTap } from "../../center/server/center-hooks.js";
import { TestCenter } from "../support/center.js";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";

const log = pino({ level: "silent" });
const TOPIC = "pillar/v1/ala-medeu-0001/event";

describe("the console server's broker session: PUBACK only after the log stored", () => {
  const broker = new TestMosquitto();
  let pillar: TestCenter; // publishes as a pillar does (QoS 1)
  const clients: MqttClient[] = [];

  /** A console session with this client id whose only tap is `received`. */
  const session = async (clientId: string, received: CenterTap["received"], subscribe = true) => {
    const c = connectConsoleBroker({ brokerUrl: broker.url, clientId, taps: [{ received }], log });
    clients.push(c);
    await new Promise<void>((r) => c.once("connect", () => r()));
    if (subscribe) await c.subscribeAsync("pillar/v1/+/event", { qos: 1 });
    return c;
  };
  const send = (eventId: string) => pillar.send(TOPIC, JSON.stringify({ eventId }));
  const idOf = (doc: unknown) => (doc as { eventId: string }).eventId;

  beforeAll(async () => {
    await broker.start();
    pillar = await new TestCenter(broker.url).start("nothing/at/all");
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
  });
  afterAll(async () => {
    await pillar?.stop();
    await broker.dispose();
  });

  it("a console that dies before storing gets the message again; a stored one is not sent again", async () => {
    const seen: string[] = [];
    const first = await session("console-a", (_t, doc) => {
      seen.push(idOf(doc));
      return new Promise<void>(() => undefined); // the database never answers
    });
    await send("e1");
    await waitFor(() => seen.includes("e1"), "e1 at the first console");
    await first.endAsync(true); // it dies before e1 was stored

    const stored: string[] = [];
    const second = await session("console-a", async (_t, doc) => void stored.push(idOf(doc)), false);
    await waitFor(() => stored.includes("e1"), "e1 delivered again after the restart");
    await send("e2"); // taken after e1's store, so e1 was acknowledged by then
    await waitFor(() => stored.includes("e2"), "e2");
    await second.endAsync(true);

    const third: string[] = [];
    await session("console-a", async (_t, doc) => void third.push(idOf(doc)), false);
    await send("e3");
    await waitFor(() => third.includes("e3"), "e3");
    expect(third).toEqual(["e3"]); // e1 and e2 were acknowledged: not delivered a third time
    expect(stored).toEqual(["e1", "e2"]);
  });

  it("a failed store is tried again, and nothing after it is taken meanwhile", async () => {
    const calls: string[] = [];
    let failures = 2;
    await session("console-b", async (_t, doc) => {
      calls.push(idOf(doc));
      if (idOf(doc) === "f1" && failures-- > 0) throw new Error("database unavailable");
    });
    await send("f1");
    await send("f2");
    await waitFor(() => calls.includes("f2"), "f2 stored");
    expect(calls).toEqual(["f1", "f1", "f1", "f2"]);
  });
});
