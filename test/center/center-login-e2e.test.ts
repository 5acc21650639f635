import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningChromium, startChromium } from "../support/chromium.js";
import { TestCenter } from "../support/center.js";
import { addOfficer, ConsoleProcess, pageFetch } from "../support/console-process.js";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SimPillar } from "../support/sim-pillar.js";

const PILLAR = "ala-medeu-0007";

/** Logs in through the login page; resolves to the response of its POST /login. */
async function loginThroughPage(page: Page, base: string, user: string, password: string) {
  if (!page.url().includes("/login")) await page.goto(`${base}login`);
  await page.fill("#user", user);
  await page.fill("#password", password);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/login") && r.request().method() === "POST"),
    page.click("#submit"),
  ]);
  const body = res.ok() ? null : ((await res.json()) as Record<string, unknown>); // a 200 navigates away
  return { status: res.status(), headers: await res.allHeaders(), body };
}

describe("center console in Chromium: officer login, sessions, acknowledgements", () => {
  const broker = new TestMosquitto();
  const pillar = new SimPillar({
    pillar: { id: PILLAR },
    location: { lat: 43.2389, lon: 76.9455, address: "Abylai Khan Ave 52", district: "Medeu" },
  });
  let center: TestCenter;
  let consoleServer: ConsoleProcess;
  let chrome: RunningChromium;
  let dir = "";
  let base = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "center-e2e-"));
    const db = join(dir, "center.db");
    await addOfficer(db, "bolat", "officer", "bolat-pass-1");
    await addOfficer(db, "dana", "officer", "dana-pass-12");
    await broker.start();
    // The throttle's first wait is a minute: a refused attempt is certain whatever the machine's speed.
    consoleServer = new ConsoleProcess([
      ...["--broker", broker.url, "--port", "0", "--db", db],
      ...["--login-free-failures", "2", "--login-backoff-ms", "60000"],
    ]);
    await consoleServer.start();
    base = consoleServer.url;
    center = await new TestCenter(broker.url).start();
    await pillar.start(broker.url);
    chrome = await startChromium();
  }, 90_000);

  afterAll(async () => {
    await chrome?.stop();
    await pillar.dispose();
    await center?.stop();
    await consoleServer?.kill();
    await broker.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const fresh = async (): Promise<[BrowserContext, Page]> => {
    const context = await chrome.browser.newContext();
    return [context, await context.newPage()];
  };

  it("sends a visitor without a session to the login page; logs in and out", async () => {
    const [context, page] = await fresh();
    await page.goto(base);
    expect(new URL(page.url()).pathname).toBe("/login");
    const login = await loginThroughPage(page, base, "bolat", "bolat-pass-1");
    expect(login.status).toBe(200);
    await page.waitForURL(`${base}`);
    expect((await pageFetch(page, "/api/me")).json).toEqual({ id: "bolat", name: "bolat", role: "officer" });
    const [session] = await context.cookies();
    expect(session).toMatchObject({ name: "center_session", httpOnly: true, sameSite: "Strict", secure: false });
    // The page's scripts cannot read the session (HttpOnly).
    expect(await page.evaluate(() => document.cookie)).not.toContain("center_session");

    expect((await pageFetch(page, "/logout", {})).status).toBe(200);
    expect((await pageFetch(page, "/api/me")).status).toBe(401);
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${base}history`);
    expect(new URL(page.url()).pathname).toBe("/login");
    // The old session token is dead on the server too, not only forgotten by the browser.
    await context.addCookies([{ ...session!, sameSite: "Strict" }]);
    expect((await pageFetch(page, "/api/me")).status).toBe(401);
    await context.close();
  });

  it("after a login the page goes only to a path of the console (the open-redirect payloads land on /)", async () => {
    // another origin that answers: this console under another loopback address
    const other = `127.0.0.2:${new URL(base).port}`;
    const cases: [string, string][] = [
      [`/%5C${other}/x`, "/"],
      [`/%09/${other}/x`, "/"],
      [`//${other}/x`, "/"],
      ["/history", "/history"],
    ];
    for (const [next, landed] of cases) {
      const [context, page] = await fresh();
      await page.goto(`${base}login?next=${next}`);
      const loginPage = page.url();
      expect((await loginThroughPage(page, base, "bolat", "bolat-pass-1")).status).toBe(200);
      await page.waitForURL((u) => u.href !== loginPage);
      expect(new URL(page.url()).origin, next).toBe(new URL(base).origin);
      expect(new URL(page.url()).pathname, next).toBe(landed);
      await context.close();
    }
  });

  it("refuses a wrong password and slows repeated failures (429 + Retry-After, even for the right password)", async () => {
    const [context, page] = await fresh();
    const first = await loginThroughPage(page, base, "dana", "wrong-pass-1");
    expect(first.status).toBe(401);
    expect(first.body).toEqual({ error: "wrong user name or password" });
    expect(await page.textContent("#error")).toBe("wrong user name or password");
    expect((await loginThroughPage(page, base, "dana", "wrong-pass-2")).status).toBe(401);
    // The third failure is past the free ones: the next attempt must wait the policy's minute.
    const third = await loginThroughPage(page, base, "dana", "wrong-pass-3");
    expect(third).toMatchObject({ status: 401, body: { retryAfterS: 60 } });
    const blocked = await loginThroughPage(page, base, "dana", "dana-pass-12");
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(blocked.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect(blocked.headers["set-cookie"]).toBeUndefined();
    expect(await page.textContent("#error")).toMatch(/too many failed attempts/);
    expect(await context.cookies()).toEqual([]);
    expect((await pageFetch(page, "/api/me")).status).toBe(401);
    // Another officer at the same address is not held up by dana's failures.
    expect((await loginThroughPage(page, base, "bolat", "bolat-pass-1")).status).toBe(200);
    await context.close();
  });

  it("an acknowledgement carries the logged-in officer into the pillar's incident.acknowledged; no session changes nothing", async () => {
    await pillar.click();
    await center.until(() => center.events("button.press").length > 0, "the press at the center");
    const incidentId = center.events("button.press")[0]!.incidentId as string;
    const ack = (who: string) => ({
      topic: `pillar/v1/${PILLAR}/cmd/incident.ack`,
      payload: { correlationId: `ack-${who}-${Date.now()}`, incidentId, operator: who },
    });
    const commands = () => center.received.filter((r) => r.topic === `pillar/v1/${PILLAR}/cmd/incident.ack`);

    // Without a session: refused, and nothing reaches the broker.
    const [anonContext, anon] = await fresh();
    await anon.goto(`${base}login`);
    expect(await pageFetch(anon, "/api/publish", ack("intruder"))).toMatchObject({ status: 401 });
    await anonContext.addCookies([{ name: "center_session", value: "forged-token", url: base }]);
    expect(await pageFetch(anon, "/api/publish", ack("intruder"))).toMatchObject({ status: 401 });
    expect((await pageFetch(anon, "/api/history?closed=any")).status).toBe(401);
    await anonContext.close();

    // Logged in as bolat: the page claims someone else, the pillar hears bolat.
    const [context, page] = await fresh();
    expect((await loginThroughPage(page, base, "bolat", "bolat-pass-1")).status).toBe(200);
    await page.waitForURL(`${base}`);
    expect(await pageFetch(page, "/api/publish", ack("someone-else"))).toMatchObject({
      status: 200,
      json: { ok: true },
    });
    await center.until(() => center.events("incident.acknowledged").length > 0, "incident.acknowledged");
    const acked = center.events("incident.acknowledged");
    expect(acked).toHaveLength(1);
    expect(acked[0]).toMatchObject({ incidentId, pillarId: PILLAR, data: { operator: "bolat" } });
    // The broker saw exactly the one command the logged-in officer sent (the refused ones never left).
    expect(commands()).toHaveLength(1);
    expect(commands()[0]!.payload.operator).toBe("bolat");

    // The log has it too: the command with its officer and the acknowledgement, in the incident's timeline.
    const timeline = await waitFor(async () => {
      const r = await pageFetch(page, `/api/history/${incidentId}`);
      const t = r.json?.timeline as { source: string; what: string; by: string | null }[] | undefined;
      return t?.some((e) => e.what === "incident.acknowledged") ? t : null;
    }, "the acknowledgement in the history");
    expect(timeline).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: "command", what: "incident.ack", by: "bolat" }),
        expect.objectContaining({ source: "event", what: "incident.acknowledged" }),
      ]),
    );
    await context.close();
  });
});
