import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClockSyncProbe } from "../../src/events/clock-sync.js";
import { TestCenter } from "../support/center.js";
import { waitFor } from "../support/wait.js";
import { ConsoleRig, incidentOf, SITES } from "./helpers/console-rig.js";

const [MED, ALM, BOS] = SITES.map((s) => s.id) as [string, string, string];

/** What the page's alarm sound made so far. */
const sound = (page: Page) =>
  page.evaluate(() => {
    const s = (window as any).pillarConsole.sound;
    return { played: s.played as number, peak: s.lastPeak as number, running: s.ctx?.state === "running" };
  });

describe("the duty console's queue in Chromium: press → card, marker, sound, count; three alarms; ack and close", () => {
  const rig = new ConsoleRig({ overdueS: 5 });
  let page: Page;

  beforeAll(async () => {
    await rig.start();
    page = await rig.page();
  });
  afterAll(() => rig.stop());

  it("a press: the card and the map marker appear, the alarm sound plays, the title and header show the count", async () => {
    expect(await page.title()).toBe("SOS pillars — duty console");
    expect(await page.locator(`.pillar-marker.st-online [data-pillar="${MED}"]`).count()).toBe(1);
    await page.click("button.start-shift");
    await rig.pillar(MED).click();
    const card = page.locator(`.card[data-pillar="${MED}"]`);
    await card.waitFor({ timeout: 10_000 });
    expect(await card.getAttribute("data-incident")).toBe(incidentOf(rig.pillar(MED)).incidentId);
    await page.locator(`.pillar-marker.st-alarm [data-pillar="${MED}"]`).waitFor({ timeout: 5000 });
    await rig.screenshot(page, "console-map.png"); // every pillar by state: one alarm, two online
    await expect.poll(() => page.title()).toBe("(1) SOS pillars — duty console");
    expect(await page.locator(".top .count").textContent()).toBe("Open alarms: 1");
    // the Web Audio alarm: beeps counted, heard by the analyser in the graph, the context running
    await expect.poll(async () => (await sound(page)).played, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(async () => (await sound(page)).peak, { timeout: 10_000 }).toBeGreaterThan(0.05);
    expect((await sound(page)).running).toBe(true);
    // it repeats while nobody acknowledged
    const before = (await sound(page)).played;
    await expect.poll(async () => (await sound(page)).played, { timeout: 10_000 }).toBeGreaterThan(before);
    // the pillar's clock state as its event said it (this machine's clock may well not be NTP-synced)
    const synced = await new ClockSyncProbe().refresh();
    expect(await card.locator(".clock").textContent()).toBe(
      synced ? "pillar clock synchronised" : "pillar clock NOT synchronised: the time may be wrong",
    );
    expect(await card.locator(".where").textContent()).toContain("Достық даңғылы, 6");
    // unanswered past the configured 5 s: the card stands out
    await card.and(page.locator(".overdue")).waitFor({ timeout: 15_000 });
    expect(await card.locator(".overdue-note").textContent()).toBe("unanswered for over 5 s");
    // clicking the marker opens the pillar on the fleet board
    await page.locator(`.pillar-marker [data-pillar="${ALM}"]`).click();
    await page.locator(`.fleet tr.selected[data-pillar="${ALM}"]`).waitFor({ timeout: 5000 });
    await card.locator("button.locate").click();
    await page.locator(`.pillar-marker.selected [data-pillar="${MED}"]`).waitFor({ timeout: 5000 });
  });

  it("three simultaneous alarms are all in view at 1366×768, oldest unanswered on top", async () => {
    await rig.pillar(ALM).click();
    await rig.pillar(BOS).click();
    await expect.poll(() => page.locator(".queue .card.alarm").count(), { timeout: 10_000 }).toBe(3);
    await expect.poll(() => page.title()).toBe("(3) SOS pillars — duty console");
    const order = await page
      .locator(".queue .card")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-pillar")));
    expect(order).toEqual([MED, ALM, BOS]);
    const viewport = page.viewportSize()!;
    for (const c of await page.locator(".queue .card").all()) {
      const box = (await c.boundingBox())!;
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
    }
    // nothing scrolled: the page and the queue show everything at once
    expect(await page.evaluate(() => document.scrollingElement!.scrollTop)).toBe(0);
    expect(await page.locator(".queue").evaluate((q) => q.scrollHeight <= q.clientHeight)).toBe(true);
    await rig.screenshot(page, "console-queue.png");
  });

  it("acknowledge and close land on their own card; a closed incident leaves the queue", async () => {
    const alm = page.locator(`.card[data-pillar="${ALM}"]`);
    await alm.locator("button.ack").click();
    await expect.poll(() => incidentOf(rig.pillar(ALM)).state, { timeout: 10_000 }).toBe("acknowledged");
    await expect.poll(() => alm.locator(".badge").textContent(), { timeout: 10_000 }).toBe("ACKNOWLEDGED");
    // the others did not move
    expect(incidentOf(rig.pillar(MED)).state).toBe("alarm");
    expect(incidentOf(rig.pillar(BOS)).state).toBe("alarm");
    for (const id of [MED, BOS]) {
      const other = page.locator(`.card[data-pillar="${id}"]`);
      expect(await other.locator(".badge").textContent()).toBe("ALARM");
      expect(await other.locator("button.close").count()).toBe(0);
    }
    // buttons match the state: an acknowledged incident offers Close, not Acknowledge
    expect(await alm.locator("button.ack").count()).toBe(0);
    expect(await alm.locator(".timeline").textContent()).toContain("acknowledged by officer-aigerim");
    // acknowledged (answered) alarms go below the unanswered ones
    await expect
      .poll(() => page.locator(".queue .card").evaluateAll((els) => els.map((e) => e.getAttribute("data-pillar"))))
      .toEqual([MED, BOS, ALM]);
    await alm.locator("button.close").click();
    await expect.poll(() => incidentOf(rig.pillar(ALM)).state, { timeout: 10_000 }).toBe("idle");
    await expect.poll(() => alm.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => page.title()).toBe("(2) SOS pillars — duty console");
    // a page opened now does not replay the closed incident
    const fresh = await rig.page({ officer: "officer-bolat" });
    await expect.poll(() => fresh.locator(".queue .card").count(), { timeout: 10_000 }).toBe(2);
    expect(await fresh.locator(`.card[data-pillar="${ALM}"]`).count()).toBe(0);
    await fresh.context().close();
    // every alarm acknowledged: the sound stops
    for (const id of [MED, BOS]) await page.locator(`.card[data-pillar="${id}"] button.ack`).click();
    await waitFor(() => incidentOf(rig.pillar(BOS)).state === "acknowledged", "both acknowledged");
    await expect.poll(() => page.evaluate(() => (window as any).pillarConsole.sound.timer === undefined)).toBe(true);
  });
  it("a network blip: the page reconnects and an incident closed meanwhile leaves its queue", async () => {
    const bos = rig.pillar(BOS);
    const id = incidentOf(bos).incidentId!;
    // the page's stream is cut and cannot come back until the incident is closed
    await page.route("**/api/stream", (r) => r.abort());
    rig.console.dropStreams();
    await expect.poll(() => page.locator("#link").textContent(), { timeout: 15_000 }).toBe("reconnecting…");
    const close = await bos.app.core.commands.execute(
      "incident.close",
      JSON.stringify({ correlationId: "blip-close", incidentId: id }),
    );
    expect(close.ok).toBe(true);
    const observer = await rig.page({ officer: "officer-bolat" });
    await expect.poll(() => observer.locator(".queue .card").count(), { timeout: 10_000 }).toBe(1);
    await observer.context().close();
    expect(await page.locator(`.card[data-pillar="${BOS}"]`).count()).toBe(1); // not told yet
    await page.unroute("**/api/stream");
    await expect.poll(() => page.locator("#link").textContent(), { timeout: 15_000 }).toBe("live");
    await expect.poll(() => page.locator(`.card[data-pillar="${BOS}"]`).count(), { timeout: 15_000 }).toBe(0);
    expect(await page.locator(`.card[data-pillar="${MED}"]`).count()).toBe(1);
    await expect.poll(() => page.title()).toBe("(1) SOS pillars — duty console");
  });
});

describe("the fleet board: self-test button and report", () => {
  const rig = new ConsoleRig();
  let center: TestCenter;
  beforeAll(async () => {
    await rig.start();
    center = await new TestCenter(rig.mosq.url).start("pillar/v1/+/cmd/#");
  });
  afterAll(async () => {
    await center?.stop();
    await rig.stop();
  });

  it("“Self-test” publishes the selftest command; the pillar's report shows on its row, failed checks named", async () => {
    const page = await rig.page();
    const row = page.locator(`.fleet tr[data-pillar="${BOS}"]`);
    await row.locator("button.selftest").click();
    await center.until(() => center.received.some((r) => r.topic === `pillar/v1/${BOS}/cmd/selftest`), "the command");
    const cmd = center.received.find((r) => r.topic === `pillar/v1/${BOS}/cmd/selftest`)!.payload;
    expect(Object.keys(cmd).sort()).toEqual(["correlationId", "issuedAt"]);
    // this pillar's answer first (here a refusal: the in-process sim pillar has no self-test feature)
    await center.until(
      () => center.received.some((r) => r.topic === `pillar/v1/${BOS}/cmd/selftest/result`),
      "the command's result",
    );
    await expect.poll(() => row.locator("td.selftest").textContent()).not.toBe("self-test requested");
    // the report as issue 11's pillar publishes it (src/selftest/report.ts)
    const at = new Date().toISOString();
    const check = (id: string, title: string, status: "pass" | "fail", detail: string) => ({
      id,
      component: id.split(".")[0],
      title,
      required: true,
      status,
      detail,
      ms: 12,
    });
    const report = {
      v: 1,
      pillarId: BOS,
      runId: "r-1",
      trigger: "center",
      interactive: false,
      version: "0.0.0-test",
      startedAt: at,
      finishedAt: at,
      durationMs: 900,
      ok: false,
      summary: { pass: 1, fail: 1, skip: 0 },
      failed: ["audio.loop"],
      checks: [
        check("camera.frames", "Camera", "pass", "15 fps"),
        check("audio.loop", "Speaker → mic", "fail", "no tone heard"),
      ],
    };
    await center.send(`pillar/v1/${BOS}/selftest`, report);
    await expect
      .poll(() => row.locator("td.selftest").textContent(), { timeout: 10_000 })
      .toMatch(/^failed: Speaker → mic \(no tone heard\) \d\d:\d\d:\d\d$/);
  });

  it("a self-test's press: on the fleet board as a test; no alarm card, no sound, also for a page opened meanwhile", async () => {
    const pillar = rig.pillar(ALM);
    const incidents = pillar.app.core.incidents;
    const page = await rig.page();
    await page.click("button.start-shift"); // the alarm sound is on
    const played = (await sound(page)).played;
    incidents.expectTestPress(Date.now() + 30_000); // as the self-test's button check does
    await pillar.click();
    expect(incidents.snapshot()).toMatchObject({ state: "alarm", test: true });
    const row = page.locator(`.fleet tr[data-pillar="${ALM}"]`);
    await row.locator(".test-press").waitFor({ timeout: 10_000 });
    expect(await row.locator(".test-press").textContent()).toMatch(/test press \d\d:\d\d:\d\d/);
    // a page that opens while the test incident is open (snapshot and retained state) shows no card either
    const late = await rig.page({ officer: "officer-late" });
    await late.locator(`.fleet tr[data-pillar="${ALM}"] .test-press`).waitFor({ timeout: 10_000 });
    for (const p of [page, late]) expect(await p.locator(`.card[data-pillar="${ALM}"]`).count()).toBe(0);
    expect((await sound(page)).played).toBe(played);
    expect(await late.evaluate(() => (window as any).pillarConsole.sound.played)).toBe(0);
    incidents.closeTest();
    expect(incidents.snapshot().state).toBe("idle");
    await late.context().close();
  });
});
