import type { MqttClient } from "mqtt";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectConsoleBroker, logSessionReady } from "../../center/server/broker-session.js";
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

  /** A console with this client id for its log session, whose only tap is `received`; `live` gets what its pages would. */
  const session = async (clientId: string, received: CenterTap["received"], live: string[] = []) => {
    const c = connectConsoleBroker({ brokerUrl: broker.url, clientId, taps: [{ received }], log });
    clients.push(c);
    c.on("message", (_t, payload) => live.push(idOf(JSON.parse(payload.toString()))));
    await new Promise<void>((r) => c.once("connect", () => r()));
    await c.subscribeAsync("pillar/v1/+/event", { qos: 1 });
    await logSessionReady(c);
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
    const second = await session("console-a", async (_t, doc) => void stored.push(idOf(doc)));
    await waitFor(() => stored.includes("e1"), "e1 delivered again after the restart");
    await send("e2"); // taken after e1's store, so e1 was acknowledged by then
    await waitFor(() => stored.includes("e2"), "e2");
    await second.endAsync(true);

    const third: string[] = [];
    await session("console-a", async (_t, doc) => void third.push(idOf(doc)));
    await send("e3");
    await waitFor(() => third.includes("e3"), "e3");
    expect(third).toEqual(["e3"]); // e1 and e2 were acknowledged: not delivered a third time
    expect(stored).toEqual(["e1", "e2"]);
  });

  it("a failed store is tried again and nothing after it is taken meanwhile; the pages still get everything live", async () => {
    const calls: string[] = [];
    const live: string[] = [];
    let databaseUp = false;
    await session(
      "console-b",
      async (_t, doc) => {
        calls.push(idOf(doc));
        if (!databaseUp) throw new Error("database unavailable");
      },
      live,
    );
    await send("f1");
    await send("f2");
    await waitFor(() => live.includes("f2") && calls.length >= 2, "f2 live while f1 is not stored");
    expect(new Set(calls)).toEqual(new Set(["f1"])); // f2 waits in the broker for the log
    databaseUp = true;
    await waitFor(() => calls.includes("f2"), "f2 stored");
    expect(calls.filter((c) => c === "f2")).toEqual(["f2"]);
    expect(calls.indexOf("f2")).toBe(calls.length - 1);
  });
});
