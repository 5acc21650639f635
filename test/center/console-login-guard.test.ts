import type { IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddressBudget } from "../../center/auth/address-budget.js";
import { CheckQueue, QueueFull } from "../../center/auth/check-queue.js";
import { clientAddress } from "../../center/auth/client-address.js";
import { LoginThrottle } from "../../center/auth/login-throttle.js";
import { safeNext } from "../../center/auth/next-path.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { type Answer, ConsoleRig, call } from "./helpers/console-rig.js";

const counts = (answers: Answer[]) =>
  answers.reduce<Record<number, number>>((c, a) => ((c[a.status] = (c[a.status] ?? 0) + 1), c), {});

function deferred(): { promise: Promise<boolean>; resolve: (v: boolean) => void } {
  let resolve!: (v: boolean) => void;
  return { promise: new Promise<boolean>((r) => (resolve = r)), resolve };
}

describe("login guard parts", () => {
  it("the throttle counts an attempt before its check and lets one check per user and address run", () => {
    const t = new LoginThrottle({ freeFailures: 3, baseMs: 1000, maxMs: 8000, maxEntries: 100 }, () => 0);
    const tries = Array.from({ length: 12 }, () => t.reserve("dana", "10.0.0.5"));
    expect(tries.filter((r) => "done" in r)).toHaveLength(1);
    expect(t.reserve("dana", "10.0.0.6")).toHaveProperty("done"); // another address is its own
    const first = tries[0]!;
    if (!("done" in first)) throw new Error("the first attempt must be let in");
    first.done(); // wrong password: already counted
    for (let i = 0; i < 3; i++) {
      const r = t.reserve("dana", "10.0.0.5");
      if (!("done" in r)) throw new Error(`attempt ${i + 2} must be let in`);
      r.done();
    }
    expect(t.reserve("dana", "10.0.0.5")).toEqual({ waitMs: 1000 }); // 4 failures: 3 free, then the wait
    // an attempt that could not be checked is not counted
    const other = t.reserve("bolat", "10.0.0.5");
    if (!("done" in other)) throw new Error("bolat must be let in");
    other.cancel();
    other.done();
    expect(t.waitMs("bolat", "10.0.0.5")).toBe(0);
  });

  it("the check queue runs a bounded number, refuses one address over its share (429) and a full queue (503)", async () => {
    const q = new CheckQueue({ concurrency: 1, maxWaiting: 2, perAddress: 2 });
    const gates = [deferred(), deferred(), deferred()];
    const runs = [q.run("a", () => gates[0]!.promise), q.run("a", () => gates[1]!.promise)];
    await expect(q.run("a", async () => true)).rejects.toEqual(new QueueFull(429));
    runs.push(q.run("b", () => gates[2]!.promise));
    expect(q.load).toEqual({ running: 1, waiting: 2 });
    await expect(q.run("c", async () => true)).rejects.toEqual(new QueueFull(503));
    for (const g of gates) g.resolve(true);
    expect(await Promise.all(runs)).toEqual([true, true, true]);
    expect(q.load).toEqual({ running: 0, waiting: 0 });
    expect(await q.run("a", async () => "again")).toBe("again");
  });

  it("waiting checks take turns by address: a login waits behind one check per other address, not per request", async () => {
    const q = new CheckQueue({ concurrency: 1, maxWaiting: 10, perAddress: 5 });
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const run = (address: string, n: number) => {
      const name = `${address}${n}`;
      gates.set(name, deferred());
      return q.run(address, () => (started.push(name), gates.get(name)!.promise));
    };
    const runs = [1, 2, 3, 4, 5].map((n) => run("flood", n));
    runs.push(run("officer", 1));
    expect(started).toEqual(["flood1"]);
    gates.get("flood1")!.resolve(true);
    await runs[0];
    gates.get("flood2")!.resolve(true);
    await runs[1];
    expect(started).toEqual(["flood1", "flood2", "officer1"]); // not behind flood3..5
    // an address without recent failures goes first
    gates.set("clean1", deferred());
    runs.push(q.run("clean", () => (started.push("clean1"), gates.get("clean1")!.promise), true));
    gates.get("officer1")!.resolve(true);
    await runs[5];
    expect(started.at(-1)).toBe("clean1");
    for (const g of gates.values()) g.resolve(true);
    await Promise.all(runs);
    expect(q.load).toEqual({ running: 0, waiting: 0 });
  });

  it("one address has a budget of wrong passwords whatever the names: refused beyond it, refilled slowly", () => {
    let now = 0;
    const b = new AddressBudget({ burst: 3, refillMs: 30_000, maxEntries: 100 }, () => now);
    expect([1, 2, 3].map(() => b.take("10.0.0.5"))).toEqual([0, 0, 0]);
    expect(b.take("10.0.0.5")).toBe(30_000);
    expect(b.take("10.0.0.6")).toBe(0); // another address has its own
    now += 15_000;
    expect(b.take("10.0.0.5")).toBe(15_000);
    now += 15_000;
    expect(b.take("10.0.0.5")).toBe(0);
    b.refund("10.0.0.5"); // a correct login costs nothing
    expect(b.take("10.0.0.5")).toBe(0);
  });

  it("the client address comes from X-Forwarded-For only when a trusted proxy sent it", () => {
    const req = (peer: string, xff?: string) =>
      ({ socket: { remoteAddress: peer }, headers: xff ? { "x-forwarded-for": xff } : {} }) as IncomingMessage;
    const proxies = ["10.9.0.1", "10.9.0.2"];
    expect(clientAddress(req("10.9.0.1", "10.0.0.7"), proxies)).toBe("10.0.0.7");
    expect(clientAddress(req("::ffff:10.9.0.1", "6.6.6.6, 10.0.0.7, 10.9.0.2"), proxies)).toBe("10.0.0.7");
    expect(clientAddress(req("10.0.0.8", "10.0.0.7"), proxies)).toBe("10.0.0.8"); // not a proxy: ignored
    expect(clientAddress(req("10.9.0.1", "not-an-address"), proxies)).toBe("10.9.0.1");
    expect(clientAddress(req("10.9.0.1"), proxies)).toBe("10.9.0.1");
    expect(clientAddress(req("10.9.0.1", "10.0.0.7"), [])).toBe("10.9.0.1");
  });

  it("`next` after a login is a path of the console only (the open-redirect payloads go to /)", () => {
    for (const bad of [
      "/\\127.0.0.1:8790/x",
      "/\t/evil.example/x",
      "//evil.example",
      "/\n/evil",
      "https://evil.example/",
      "javascript:alert(1)",
      "",
      undefined,
      5,
    ])
      expect(safeNext(bad), JSON.stringify(bad)).toBe("/");
    expect(safeNext("/history?pillar=ala-1#x")).toBe("/history?pillar=ala-1#x");
    expect(safeNext("/%5C127.0.0.1:8790/x")).toBe("/%5C127.0.0.1:8790/x"); // still encoded: a path here
  });
});

describe("console logins under attack", () => {
  const broker = new TestMosquitto();
  let rig: ConsoleRig;

  beforeAll(async () => {
    await broker.start();
    rig = await new ConsoleRig({
      brokerUrl: broker.url,
      officers: [
        ["aigerim", "supervisor", "aigerim-pass-1"],
        ["dana", "officer", "dana-pass-12"],
        ["bolat", "officer", "bolat-pass-1"],
      ],
      // the first wait is a minute: a refused attempt is certain whatever the machine's speed
      flags: { "login-free-failures": "3", "login-backoff-ms": "60000" },
      config: { trustedProxies: ["127.0.0.9"] },
    }).start();
  });

  afterAll(async () => {
    await rig?.stop();
    await broker.dispose();
  });

  it("12 simultaneous wrong passwords for one officer: at most the free failures are checked", async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => rig.login("dana", `wrong-pass-${i}`, "127.0.0.2")),
    );
    const c = counts(answers);
    expect((c[401] ?? 0) + (c[429] ?? 0)).toBe(12);
    expect(c[401]).toBeGreaterThanOrEqual(1);
    expect(c[401]).toBeLessThanOrEqual(3);
    for (const a of answers.filter((x) => x.status === 429))
      expect(Number(a.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("400 concurrent wrong logins from 20 addresses: refused beyond a bounded queue, while the login page and a correct login are served", async () => {
    const flood = Promise.all(
      Array.from({ length: 400 }, (_, i) => rig.login(`intruder${i}`, "wrong-pass-1", `127.0.3.${1 + (i % 20)}`)),
    );
    const page = await call(rig.url, "/login", { from: "127.0.0.4" });
    const correct = await rig.login("aigerim", "aigerim-pass-1", "127.0.0.4");
    const answers = await flood;
    expect(page.status).toBe(200);
    expect(correct.status).toBe(200);
    const c = counts(answers);
    expect((c[401] ?? 0) + (c[429] ?? 0) + (c[503] ?? 0)).toBe(400);
    expect(c[429]).toBeGreaterThan(0); // one address's share of the checks is bounded
    expect(c[401]).toBeLessThan(400);
  });

  it("login redirects: the open-redirect payloads send the browser to the console's own /", async () => {
    for (const next of ["/\\127.0.0.1:1/x", "/\t/127.0.0.1:1/x", "//127.0.0.1:1/x"]) {
      const a = await call(rig.url, "/login", {
        body: { user: "bolat", password: "bolat-pass-1", next },
        from: "127.0.0.5",
      });
      expect(a.status).toBe(200);
      expect(a.json.next, JSON.stringify(next)).toBe("/");
    }
    const ok = await call(rig.url, "/login", {
      body: { user: "bolat", password: "bolat-pass-1", next: "/history" },
      from: "127.0.0.5",
    });
    expect(ok.json.next).toBe("/history");
  });

  it("behind the trusted proxy the throttle is per client address; nobody else can lock an officer out", async () => {
    const viaProxy = (xff: string, password: string) =>
      call(rig.url, "/login", {
        body: { user: "bolat", password },
        from: "127.0.0.9",
        headers: { "x-forwarded-for": xff },
      });
    for (let i = 0; i < 6; i++) await viaProxy("10.0.0.66", `wrong-pass-${i}`);
    expect((await viaProxy("10.0.0.66", "bolat-pass-1")).status).toBe(429); // the guesser waits
    expect((await viaProxy("10.0.0.7", "bolat-pass-1")).status).toBe(200); // bolat's own address is not held up
    // a client that is not the proxy cannot pick its address with the header
    const spoof = (password: string) =>
      call(rig.url, "/login", {
        body: { user: "bolat", password },
        from: "127.0.0.6",
        headers: { "x-forwarded-for": "10.0.0.8" },
      });
    for (let i = 0; i < 6; i++) await spoof(`wrong-pass-${i}`);
    expect((await spoof("bolat-pass-1")).status).toBe(429);
    expect((await viaProxy("10.0.0.8", "bolat-pass-1")).status).toBe(200);
    expect((await rig.login("bolat", "bolat-pass-1", "127.0.0.7")).status).toBe(200);
  });
});
