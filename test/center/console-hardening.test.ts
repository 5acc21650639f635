import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestMosquitto } from "../support/mosquitto.js";
import { type Answer, ConsoleRig, call, type OpenStream, openStream, sessionCookie } from "./helpers/console-rig.js";
import { loadCenterParts } from "../../center/parts.js";
import { parseConsoleConfig } from "../../center/server/console-config.js";
import { waitFor } from "../support/wait.js";

/** The headers every page and JSON answer of the console must carry. */
function expectSecurityHeaders(a: Answer, what: string): void {
  expect(a.headers["content-security-policy"], what).toMatch(/frame-ancestors 'none'/);
  expect(a.headers["content-security-policy"], what).toMatch(/script-src 'self'/);
  expect(a.headers["x-frame-options"], what).toBe("DENY");
  expect(a.headers["x-content-type-options"], what).toBe("nosniff");
}

describe("console: every malformed input a 4xx, the same security headers on every answer", () => {
  const broker = new TestMosquitto();
  let rig: ConsoleRig;
  let cookie = "";

  beforeAll(async () => {
    await broker.start();
    rig = await new ConsoleRig({
      brokerUrl: broker.url,
      officers: [["aigerim", "supervisor", "aigerim-pass-1"]],
    }).start();
    cookie = sessionCookie(await rig.login("aigerim", "aigerim-pass-1"));
  });

  afterAll(async () => {
    await rig?.stop();
    await broker.dispose();
  });

  it("a malformed session cookie is no session, never a 500: the browser can still reach the login page", async () => {
    const bad = "center_session=%E0%A4%A";
    const pages = ["/", "/history", "/api/me", "/api/history", "/api/config", "/api/stream", "/nowhere"];
    for (const path of pages) {
      const a = await call(rig.url, path, { cookie: bad, headers: { accept: "text/html" } });
      expect([303, 401], path).toContain(a.status);
    }
    expect((await call(rig.url, "/login", { cookie: bad })).status).toBe(200);
    const login = await call(rig.url, "/login", { cookie: bad, body: { user: "aigerim", password: "aigerim-pass-1" } });
    expect(login.status).toBe(200);
    // a good session next to a malformed cookie of another name still works
    expect((await call(rig.url, "/api/me", { cookie: `other=%E0%A4%A; ${cookie}` })).json).toMatchObject({
      id: "aigerim",
    });
  });

  it("a malformed incident id or path answers 400, a large publish 413", async () => {
    const id = await call(rig.url, "/api/history/%E0%A4%A", { cookie });
    expect(id.status).toBe(400);
    expect(id.json.error).toMatch(/percent-encoding|incident id/);
    const clips = await call(rig.url, "/api/history/%E0%A4%A/clips", { cookie });
    expect(clips.status).toBeGreaterThanOrEqual(400);
    expect(clips.status).toBeLessThan(500);
    const big = await call(rig.url, "/api/publish", {
      cookie,
      raw: JSON.stringify({ topic: "x", pad: "a".repeat(300_000) }),
    });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatch(/body over/);
    const notJson = await call(rig.url, "/api/publish", { cookie, raw: "{not json" });
    expect(notJson.status).toBe(400);
  });

  it("the login page, the history page and JSON answers carry CSP, framing protection and nosniff", async () => {
    expectSecurityHeaders(await call(rig.url, "/login"), "/login");
    expectSecurityHeaders(await call(rig.url, "/login.js"), "/login.js");
    expectSecurityHeaders(await call(rig.url, "/history", { cookie }), "/history");
    expectSecurityHeaders(await call(rig.url, "/", { cookie }), "/");
    expectSecurityHeaders(await call(rig.url, "/api/me", { cookie }), "/api/me");
    expectSecurityHeaders(await call(rig.url, "/api/me"), "/api/me without a session (401)");
    expectSecurityHeaders(await call(rig.url, "/api/history?closed=any", { cookie }), "/api/history");
    expectSecurityHeaders(await call(rig.url, "/api/history/%E0%A4%A", { cookie }), "a 400");
    expectSecurityHeaders(await call(rig.url, "/", { headers: { accept: "text/html" } }), "the redirect to /login");
    expectSecurityHeaders(
      await call(rig.url, "/login", { body: { user: "nobody", password: "wrong-pass-1" } }),
      "a 401 login",
    );
  });
});

describe("console: streams bounded per officer and in all", () => {
  const broker = new TestMosquitto();
  let rig: ConsoleRig;
  const open: OpenStream[] = [];

  beforeAll(async () => {
    await broker.start();
    const officers: [string, "officer", string][] = [
      ["dana", "officer", "dana-pass-12"],
      ["bolat", "officer", "bolat-pass-1"],
    ];
    rig = await new ConsoleRig({ brokerUrl: broker.url, officers }).start();
  });

  afterAll(async () => {
    for (const s of open) s.close();
    await rig?.stop();
    await broker.dispose();
  });

  it("200 streams of one session leave another officer's console served (the session keeps only its newest)", async () => {
    const dana = sessionCookie(await rig.login("dana", "dana-pass-12"));
    for (let i = 0; i < 200; i++) open.push(await openStream(rig.url, dana));
    expect(open.every((s) => s.status === 200)).toBe(true);
    await waitFor(() => open.filter((s) => !s.closed()).length <= 8, "dana's older streams cut");
    expect(open.at(-1)!.closed()).toBe(false); // the newest page is served
    const bolat = sessionCookie(await rig.login("bolat", "bolat-pass-1"));
    const other = await openStream(rig.url, bolat);
    open.push(other);
    expect(other.status).toBe(200);
    await waitFor(() => other.text().includes("event: synced"), "bolat's snapshot");
    expect(other.closed()).toBe(false);
  });
});

describe("console: plain HTTP off loopback", () => {
  it("--db with a --host other than loopback is refused without HTTPS, accepted with it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "console-host-"));
    const log = pino({ level: "silent" });
    const start = (host: string, https?: { keyFile: string; certFile: string }) =>
      loadCenterParts({
        flags: { db: join(dir, "center.db"), host },
        log,
        config: parseConsoleConfig(https ? { https } : {}),
      });
    try {
      await expect(start("0.0.0.0")).rejects.toThrow(/--host 0\.0\.0\.0.*HTTPS/);
      await expect(start("10.1.2.3")).rejects.toThrow(/HTTPS/);
      // with a certificate, or on loopback, the center's parts start
      for (const parts of [await start("0.0.0.0", { keyFile: "/k", certFile: "/c" }), await start("127.0.0.1")]) {
        expect(parts.auth).toBeDefined();
        await parts.stop?.();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
