import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { checkPublish } from "../../center/server/page-publish.js";
import { checkPillarMessage } from "../../center/server/pillar-messages.js";
import { hostAllowed, requestProblem } from "../../center/server/request-guard.js";
import type { BridgeMsg, EventMsg } from "../../center/web/src/model.js";
import { Store } from "../../center/web/src/store.js";

const req = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as IncomingMessage;
const JSON_TYPE = { "content-type": "application/json" };

describe("request guard", () => {
  it("answers only to addresses, localhost and configured hosts (DNS rebinding)", () => {
    expect(hostAllowed("127.0.0.1:8790", [])).toBe(true);
    expect(hostAllowed("[::1]:8790", [])).toBe(true);
    expect(hostAllowed("localhost:8790", [])).toBe(true);
    expect(hostAllowed("10.1.2.3", [])).toBe(true);
    expect(hostAllowed("evil.example:8790", [])).toBe(false);
    expect(hostAllowed("console.center.local", ["https://console.center.local"])).toBe(true);
    expect(hostAllowed(undefined, [])).toBe(false);
  });

  it("a state-changing request needs its own Origin and JSON; reads need only the Host", () => {
    const host = { host: "127.0.0.1:8790" };
    expect(requestProblem(req("GET", host), [])).toBeNull();
    expect(requestProblem(req("POST", { ...host, ...JSON_TYPE, origin: "http://127.0.0.1:8790" }), [])).toBeNull();
    expect(requestProblem(req("POST", { ...host, ...JSON_TYPE }), [])).toBeNull(); // not a browser
    expect(requestProblem(req("POST", { ...host, "content-type": "text/plain" }), [])).toMatch(/application\/json/);
    expect(requestProblem(req("POST", { ...host, ...JSON_TYPE, origin: "http://cats.example" }), [])).toMatch(/origin/);
    expect(requestProblem(req("DELETE", { ...host, ...JSON_TYPE, "sec-fetch-site": "cross-site" }), [])).toMatch(
      /cross-site/,
    );
    const proxied = { host: "console.center.local", ...JSON_TYPE, origin: "https://console.center.local" };
    expect(requestProblem(req("POST", proxied), ["https://console.center.local"])).toBeNull();
  });
});

describe("what the page may publish", () => {
  const ack = { correlationId: "a-1", incidentId: "inc-1", operator: "aigerim" };
  it("an incident ack to a pillar, stamped with the server's clock", () => {
    const ok = checkPublish(JSON.stringify({ topic: "pillar/v1/alm-med-001/cmd/incident.ack", payload: ack }));
    expect(Array.isArray(ok)).toBe(false);
    expect((ok as { payload: Record<string, unknown> }).payload).toMatchObject({
      ...ack,
      issuedAt: expect.any(String),
    });
  });
  it("refuses other topics, unknown fields, non-objects and deep bodies", () => {
    const t = (topic: string, payload: unknown) => checkPublish(JSON.stringify({ topic, payload }));
    expect(t("pillar/v1/alm-med-001/cmd/config.apply", {})).toEqual([403, expect.any(String)]);
    expect(t("pillar/v1/alm-med-001/status", { state: "offline" })).toEqual([403, expect.any(String)]);
    expect(t("pillar/v1/alm-med-001/cmd/incident.ack", { ...ack, extra: 1 })).toEqual([400, expect.any(String)]);
    expect(t("pillar/v1/alm-med-001/cmd/incident.ack", [1])).toEqual([400, "payload must be an object"]);
    expect(checkPublish(`{"topic":${"[".repeat(50)}${"]".repeat(50)}}`)).toEqual([
      400,
      expect.stringMatching(/deeper/),
    ]);
    expect(checkPublish("not json")).toEqual([400, expect.stringMatching(/not valid JSON/)]);
  });
});

describe("pillar messages at the bridge", () => {
  const at = new Date().toISOString();
  const status = { state: "online", pillarId: "alm-med-001", version: "1.0.0", startedAt: at, uptimeS: 1, at };
  it("a valid status passes; another pillar's name, markup states and unknown topics do not", () => {
    const ok = checkPillarMessage("pillar/v1/alm-med-001/status", Buffer.from(JSON.stringify(status)), true);
    expect(ok).toMatchObject({ kind: "status", pillarId: "alm-med-001", retain: true });
    const as = (id: string, doc: unknown) => () =>
      checkPillarMessage(`pillar/v1/${id}/status`, Buffer.from(JSON.stringify(doc)), true);
    expect(as("alm-med-002", status)).toThrow(/not the topic's/);
    expect(as("alm-med-001", { ...status, state: "<img src=x>" })).toThrow(/state/);
    expect(checkPillarMessage("pillar/v1/alm-med-001/cmd/ping", Buffer.from("{}"), false)).toBeNull();
    // an empty retained status clears it
    expect(checkPillarMessage("pillar/v1/alm-med-001/status", Buffer.alloc(0), true)?.payload).toBeNull();
  });
});

describe("the page's store", () => {
  const loc = { lat: 43.25, lon: 76.95, address: "Абай даңғылы, 52", district: "Almaly" };
  let seq = 0;
  const event = (pillarId: string, type: string, incidentId: string, atMs: number, data = {}): BridgeMsg => ({
    kind: "event",
    pillarId,
    retain: false,
    receivedAt: new Date(atMs).toISOString(),
    payload: {
      eventId: `e-${++seq}`,
      type,
      occurredAt: new Date(atMs).toISOString(),
      clockSynced: true,
      location: loc,
      incidentId,
      data,
    } satisfies EventMsg,
  });

  it("queues open alarms oldest first, acknowledged below; a refusal lands on its own card; closed ones leave", () => {
    const s = new Store();
    const t = Date.parse("2026-11-25T20:00:00.000Z");
    s.apply(event("p-b", "button.press", "inc-b", t + 1000, { press: 1 }));
    s.apply(event("p-a", "button.press", "inc-a", t, { press: 1 }));
    s.apply(event("p-c", "button.press", "inc-c", t + 2000, { press: 1 }));
    expect(s.queue().map((i) => i.id)).toEqual(["inc-a", "inc-b", "inc-c"]);
    s.apply(event("p-a", "incident.acknowledged", "inc-a", t + 3000, { operator: "aigerim" }));
    expect(s.queue().map((i) => i.id)).toEqual(["inc-b", "inc-c", "inc-a"]);
    s.expect("c-1", { pillarId: "p-c", incidentId: "inc-c", what: "incident.close" });
    s.apply({
      kind: "result",
      pillarId: "p-c",
      command: "incident.close",
      retain: false,
      receivedAt: "",
      payload: { correlationId: "c-1", ok: false, error: { code: "not_acknowledged", message: "acknowledge first" } },
    });
    expect(s.incidents.get("inc-c")?.problem?.args).toMatchObject({ msg: "acknowledge first" });
    expect(s.incidents.get("inc-b")?.problem).toBeUndefined();
    s.apply(event("p-a", "incident.closed", "inc-a", t + 4000));
    expect(s.queue().map((i) => i.id)).toEqual(["inc-b", "inc-c"]);
    s.keepOnly(new Set(["inc-c"]));
    expect([...s.incidents.keys()]).toEqual(["inc-c"]);
  });
});
