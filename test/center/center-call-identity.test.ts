import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCenterParts } from "../../center/parts.js";
import type { CenterParts } from "../../center/server/center-hooks.js";
import { parseConsoleConfig } from "../../center/server/console-config.js";
import { ConsoleServer } from "../../center/server/console-server.js";
import { CallRig, officerVoiceWav } from "../call/helpers/call-rig.js";
import { type RunningChromium, startChromium } from "../support/chromium.js";
import { addOfficer, pageFetch } from "../support/console-process.js";

const PILLAR = "alm-med-019";
const frames = (page: Page) => page.evaluate(() => (window as any).pillarConsole.stats.frames as number);

describe("call tokens kept per login: the officer's second tab re-joins the call, another officer's cannot", () => {
  const rig = new CallRig({}, PILLAR);
  let chrome: RunningChromium;
  let server: ConsoleServer;
  let parts: CenterParts;
  let dir = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "center-calltoken-"));
    const db = join(dir, "center.db");
    await addOfficer(db, "bolat", "officer", "bolat-pass-1");
    await addOfficer(db, "aigerim", "officer", "aigerim-pass-1");
    await rig.start();
    const log = pino({ level: "silent" });
    const config = parseConsoleConfig({ mqttClientId: `calltoken-${process.pid}` });
    parts = await loadCenterParts({ flags: { db }, log, config });
    server = new ConsoleServer({ brokerUrl: rig.mosq.url, port: 0, config, parts, log });
    await server.start();
    chrome = await startChromium({ fakeAudioWav: await officerVoiceWav() });
  }, 90_000);

  afterAll(async () => {
    await chrome?.stop();
    await server?.stop();
    await parts?.stop?.();
    await rig.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const loggedIn = async (user: string, password: string): Promise<BrowserContext> => {
    const res = await fetch(new URL("/login", server.url), {
      method: "POST",
      headers: { "content-type": "application/json", origin: new URL(server.url).origin },
      body: JSON.stringify({ user, password }),
    });
    const [name, value] = /center_session=[^;]+/.exec(res.headers.get("set-cookie") ?? "")![0].split("=") as [
      string,
      string,
    ];
    const context = await chrome.browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "en-GB" });
    await context.addCookies([{ name, value, url: server.url }]);
    return context;
  };
  const open = async (context: BrowserContext): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(server.url);
    await page.locator(`.fleet tr[data-pillar="${PILLAR}"]`).waitFor({ timeout: 15_000 });
    return page;
  };

  it("bolat answers in one tab, his second tab takes the same call over; aigerim's cannot", async () => {
    const bolat = await loggedIn("bolat", "bolat-pass-1");
    const first = await open(bolat);
    await rig.press();
    await first.locator(".card.alarm button.answer:enabled").waitFor({ timeout: 15_000 });
    await first.locator(".card.alarm button.answer").click();
    await expect.poll(() => rig.feature.call.snapshot()?.state, { timeout: 15_000 }).toBe("answered");
    const { sessionId } = rig.feature.call.snapshot()!;
    expect(rig.feature.call.snapshot()?.officer).toBe("bolat");
    await expect.poll(() => frames(first), { timeout: 20_000 }).toBeGreaterThan(5);

    // His second tab (no token of its own: the server keeps bolat's) re-joins the same call.
    const second = await open(bolat);
    await expect.poll(() => frames(second), { timeout: 20_000 }).toBeGreaterThan(5);
    expect(rig.feature.call.snapshot()).toMatchObject({ sessionId, state: "answered", officer: "bolat" });
    expect(await second.locator(".card.alarm .call-state").textContent()).toBe("you are talking with the caller");
    // the first tab let go (it does not take the call back)
    await expect
      .poll(() => first.locator(".card.alarm .call-state").textContent(), { timeout: 10_000 })
      .toBe("answered by bolat");

    // aigerim sees whose call it is; a re-join in her session (naming bolat, any token) is refused.
    const aigerim = await open(await loggedIn("aigerim", "aigerim-pass-1"));
    const card = aigerim.locator(".card.alarm");
    await expect.poll(() => card.locator(".call-state").textContent(), { timeout: 10_000 }).toBe("answered by bolat");
    expect(await card.locator("button.answer").isDisabled()).toBe(true);
    const forged = { officer: "bolat", kind: "alarm", sessionId, callToken: "x".repeat(32) };
    const sent = await pageFetch(aigerim, "/api/publish", {
      topic: `pillar/v1/${PILLAR}/webrtc/request`,
      payload: forged,
    });
    expect(sent.status).toBe(200);
    await expect
      .poll(() => aigerim.evaluate(() => (window as any).pillarConsole.stats.busy?.to ?? null), { timeout: 10_000 })
      .toBe("aigerim");
    expect(rig.feature.call.snapshot()).toMatchObject({ sessionId, state: "answered", officer: "bolat" });
    await second.locator(".card.alarm button.hangup").click();
    await expect.poll(() => rig.feature.call.snapshot(), { timeout: 10_000 }).toBeNull();
    for (const p of [first, second, aigerim])
      await p
        .context()
        .close()
        .catch(() => undefined);
  }, 120_000);
});
