import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallRig, officerVoiceWav } from "../call/helpers/call-rig.js";
import { type RunningChromium, startChromium } from "../support/chromium.js";

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

describe("calls at the console in Chromium: two consoles, one answers", () => {
  const rig = new CallRig({}, "alm-med-007");
  let chrome: RunningChromium;

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
    const anna = await open("officer-anna");
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
    await expect.poll(() => audioIn(anna), { timeout: 10_000 }).toBeGreaterThan(1000);
    expect(await annaCard.locator(".call-state").textContent()).toBe("you are talking with the caller");
    expect(await frames(ben)).toBe(0);
    // the answered alarm goes below unanswered ones, and the sound stops for it
    expect(await ben.evaluate(() => (window as any).pillarConsole.sound.timer ?? null)).toBeNull();
    await ben.close();
    await annaCard.locator("button.hangup").click();
    await expect.poll(() => rig.feature.call.snapshot(), { timeout: 10_000 }).toBeNull();
    await anna.close();
  });
});
