import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallRig, officerVoiceWav } from "../call/helpers/call-rig.js";
import { type RunningChromium, startChromium } from "../support/chromium.js";
import { waitFor } from "../support/wait.js";

/** Frames the page decoded since it loaded. */
const frames = (page: Page) => page.evaluate(() => (window as any).pillarConsole.stats.frames as number);

/** The inbound audio bytes of the page's call (the caller's voice reaching the officer). */
const audioIn = (page: Page) =>
  page.evaluate(async () => {
    let bytes = 0;
    for (const c of (window as any).pillarConsole.sessions.values()) {
      if (!c.pc) continue;
      (await c.pc.getStats()).forEach((r: any) => {
        if (r.type === "inbound-rtp" && r.kind === "audio") bytes += r.bytesReceived;
      });
    }
    return bytes;
  });

describe("calls at the console in Chromium: two consoles, one answers; a reload mid-call re-joins", () => {
  const rig = new CallRig({}, "alm-med-007");
  let chrome: RunningChromium;
  /** The console that answered (kept for the reload). */
  let anna: Page;

  beforeAll(async () => {
    await rig.start();
    chrome = await startChromium({ fakeAudioWav: await officerVoiceWav() });
  });
  afterAll(async () => {
    await chrome?.stop();
    await rig.stop();
  });

  const open = async (officer: string): Promise<Page> => {
    const page = await chrome.browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(`${rig.console.url}?officer=${officer}`);
    await page.locator('.fleet tr[data-pillar="alm-med-007"]').waitFor({ timeout: 15_000 });
    return page;
  };

  it("the first console to answer takes the call; the other shows “answered by …” and cannot answer", async () => {
    anna = await open("officer-anna");
    const ben = await open("officer-ben");
    await rig.press();
    const annaCard = anna.locator(".card.alarm");
    const benCard = ben.locator(".card.alarm");
    // both may answer while nobody has
    await annaCard.locator("button.answer:enabled").waitFor({ timeout: 15_000 });
    await benCard.locator("button.answer:enabled").waitFor({ timeout: 15_000 });
    await annaCard.locator("button.answer").click();
    await expect.poll(() => rig.feature.call.snapshot()?.state, { timeout: 15_000 }).toBe("answered");
    expect(rig.feature.call.snapshot()?.officer).toBe("officer-anna");
    await expect
      .poll(() => benCard.locator(".call-state").textContent(), { timeout: 10_000 })
      .toBe("answered by officer-anna");
    expect(await benCard.locator("button.answer").isDisabled()).toBe(true);
    expect(await benCard.locator("button.hangup").isDisabled()).toBe(true);
    await expect.poll(() => frames(anna), { timeout: 20_000 }).toBeGreaterThan(10);
    expect(await annaCard.locator(".call-state").textContent()).toBe("you are talking with the caller");
    expect(await frames(ben)).toBe(0);
    // the answered alarm goes below unanswered ones, and the sound stops for it
    expect(await ben.evaluate(() => (window as any).pillarConsole.sound.timer ?? null)).toBeNull();
    await ben.close();
  });

  // How fast is the bench's (console_rejoin_ms); here: the same call comes back, the deadlines are guards.
  it("a reload mid-call: the same call is back with video and audio (no new pickup)", async () => {
    const sessionId = rig.feature.call.snapshot()?.sessionId;
    expect(sessionId).toBeTruthy();
    const reloadAt = Date.now();
    await anna.reload();
    const card = anna.locator(".card.alarm");
    await card.waitFor({ timeout: 10_000 });
    await waitFor(async () => (await frames(anna)) > 5, "video again after the reload", 15_000);
    const videoBackMs = Date.now() - reloadAt;
    await expect.poll(() => audioIn(anna), { timeout: 10_000 }).toBeGreaterThan(1000);
    const backMs = Date.now() - reloadAt;
    console.log(`reload → video again in ${videoBackMs} ms, audio in ${backMs} ms`);
    // the same call: same session, still answered by anna, the officer's voice on the pillar speaker
    expect(rig.feature.call.snapshot()).toMatchObject({ sessionId, state: "answered", officer: "officer-anna" });
    expect(await card.locator(".call-state").textContent()).toBe("you are talking with the caller");
    const heardFrom = Date.now();
    await waitFor(() => rig.speaker.loudestSince(heardFrom) > -35, "the officer heard again", 15_000);
    await card.locator("button.hangup").click();
    await expect.poll(() => rig.feature.call.snapshot(), { timeout: 10_000 }).toBeNull();
    await anna.close();
  });
});
