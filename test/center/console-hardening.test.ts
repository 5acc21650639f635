import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestMosquitto } from "../support/mosquitto.js";
import { type Answer, ConsoleRig, call, sessionCookie } from "./helpers/console-rig.js";

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
