import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PeerSession } from "../../src/call/peer-session.js";
import { startChromium, type RunningChromium } from "../support/chromium.js";
import { CallRig, OUTPUT_DIR, officerVoiceWav } from "./helpers/call-rig.js";
import { childPids, commOf, pidAlive } from "../support/processes.js";
import { sleep, waitFor } from "../support/wait.js";

/** Frames the page's alarm card decoded, and the video's size. */
function videoStats(page: Page) {
  return page.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>(".card video");
    if (!v) return null;
    const c = (window as any).pillarConsole;
    return {
      rvfc: c.stats.frames as number,
      total: v.getVideoPlaybackQuality().totalVideoFrames,
      w: v.videoWidth,
      h: v.videoHeight,
    };
  });
}

describe("the call, end to end: sim pillar ↔ MQTT ↔ operator page in real Chromium", () => {
  const rig = new CallRig();
  let chrome: RunningChromium;
  // One story told in named steps: each case starts where the previous one ended (run in order).
  let page: Page;
  let card: Locator;
  let before: NonNullable<Awaited<ReturnType<typeof videoStats>>>;
  let levelsAtAnswer = 0;
  let playedAtAnswer = 0;
  const pids: { camera?: number; mic?: number; speaker?: number } = {};

  beforeAll(async () => {
    await rig.start();
    chrome = await startChromium({ fakeAudioWav: await officerVoiceWav() });
  });
  afterAll(async () => {
    await chrome?.stop();
    await rig.stop();
  });

  it("the officer's page shows the pillar online; no encoder and no alarm card before a press", async () => {
    page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${rig.console.url}?officer=officer-anna`);
    await page.locator('.fleet tr[data-pillar="pillar-e2e"][data-state="online"]').waitFor({ timeout: 15_000 });
    expect(rig.feature.feed.isRunning()).toBe(false); // onDemand: no encoder before a call
    expect(await videoStats(page)).toBeNull();
  });

  it("the page's SOS button presses the pillar: an alarm card with date, place, timeline and a waiting caller", async () => {
    await page.click("#sos");
    card = page.locator(".card.alarm");
    await card.waitFor({ timeout: 10_000 });
    expect(await card.locator("time.date").textContent()).toMatch(/\d{4}, \d\d:\d\d:\d\d GMT\+5$/);
    expect(await card.locator(".where").textContent()).toBe("Republic Square 1 · Medeu");
    expect(await card.locator(".timeline").textContent()).toContain("SOS button pressed");
    expect(await card.locator(".call-state").textContent()).toBe("caller waiting for an officer");
    // not answered yet: the caller hears the prompts and the ringback, no officer (issue 12)
    await expect.poll(() => rig.feature.prompts.packetsSent, { timeout: 10_000 }).toBeGreaterThan(10);
    expect(pidAlive(rig.speaker.pid())).toBe(true);
  });

  it("answer (claims the call): the sim camera's live video decodes in the alarm card", async () => {
    await card.locator("button.answer:enabled").click({ timeout: 15_000 });
    // how fast is the bench's business (call.bench.ts); here only that frames decode
    before = await waitFor(
      async () => {
        const s = await videoStats(page);
        return s && s.rvfc >= 10 && s.total >= 10 ? s : null;
      },
      "decoded frames",
      20_000,
    );
    expect(before.w).toBe(640);
    expect(before.h).toBe(360);
    pids.camera = rig.feature.drivers.camera.pid();
    expect(pidAlive(pids.camera)).toBe(true);
    await expect.poll(() => rig.feature.call.snapshot()?.state, { timeout: 10_000 }).toBe("answered");
    // the prompts stop at the answer: what the speaker plays from a moment later is the officer
    await sleep(500);
    levelsAtAnswer = rig.speaker.levels.length;
    playedAtAnswer = rig.speaker.played;
    await expect.poll(() => card.locator(".call-state").textContent()).toBe("you are talking with the caller");
  });

  it("two-way audio: the officer's voice on the pillar speaker, the pillar mic's Opus in the browser", async () => {
    // the browser's (fake) microphone says a known officer voice
    const loud = await waitFor(
      () => {
        const db = Math.max(-Infinity, ...rig.speaker.levels.slice(levelsAtAnswer).map((w) => w.rmsDbfs));
        return db > -35 ? db : null;
      },
      "the officer's voice on the pillar speaker",
      15_000,
    );
    console.log(`officer voice on the pillar speaker: ${loud.toFixed(1)} dBFS RMS (loudest 100 ms)`);
    await expect.poll(() => rig.speaker.played - playedAtAnswer, { timeout: 5000 }).toBeGreaterThan(20);
    pids.mic = rig.feature.drivers.mic.pid();
    pids.speaker = rig.speaker.pid();
    expect(pidAlive(pids.mic) && pidAlive(pids.speaker)).toBe(true);
    await expect
      .poll(
        () =>
          page.evaluate(async () => {
            const s = [...(window as any).pillarConsole.sessions.values()][0];
            const st = await s.pc.getStats();
            let bytes = 0;
            st.forEach((r: any) => {
              if (r.type === "inbound-rtp" && r.kind === "audio") bytes = r.bytesReceived;
            });
            return bytes;
          }),
        { timeout: 10_000 },
      )
      .toBeGreaterThan(1000);
    const during = (await videoStats(page))!;
    expect(during.total).toBeGreaterThan(before.total); // the video kept coming
    await mkdir(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUTPUT_DIR, "console-call.png") });
  });

  it("hang up from the page: camera, mic, speaker, every ffmpeg and the peer session go", async () => {
    await card.locator("button.hangup").click();
    await expect.poll(() => rig.feature.call.snapshot(), { timeout: 10_000 }).toBeNull();
    await expect
      .poll(() => [pids.camera, pids.mic, pids.speaker].filter((p) => pidAlive(p)).length, { timeout: 10_000 })
      .toBe(0);
    // Polled like the pids above: an encoder respawned under load (a new pid) is stopped too.
    await expect.poll(() => childPids().filter((p) => commOf(p) === "ffmpeg"), { timeout: 10_000 }).toEqual([]);
    expect(PeerSession.open).toBe(0);
    expect(await page.evaluate(() => (window as any).pillarConsole.sessions.size)).toBe(0);
    await expect.poll(() => card.locator(".timeline").textContent()).toContain("call ended (hangup)");
  });

  it("look in without a press; a second officer asking meanwhile is told busy; hanging up tears it down", async () => {
    const ben = await chrome.browser.newPage();
    await ben.goto(`${rig.console.url}?officer=officer-ben`);
    // the incident is still open (not acknowledged): the pillar shows as "alarm"
    await ben.locator('.fleet tr[data-pillar="pillar-e2e"][data-state="alarm"]').waitFor({ timeout: 15_000 });
    await page.locator('.fleet tr[data-pillar="pillar-e2e"] button.lookin').click();
    const look = page.locator(".card.lookin");
    await look.waitFor({ timeout: 10_000 });
    await expect.poll(() => look.locator(".overlay").textContent(), { timeout: 15_000 }).toBe("live 640×360");
    expect(rig.feature.call.snapshot()).toMatchObject({ kind: "lookin", officer: "officer-anna" });
    await ben.locator('.fleet tr[data-pillar="pillar-e2e"] button.lookin').click();
    await expect
      .poll(() => ben.evaluate(() => (window as any).pillarConsole.stats.busy?.message ?? null), { timeout: 10_000 })
      .toBe("the pillar is in a call with officer-anna");
    expect(await ben.locator(".fleet .notice").textContent()).toBe("pillar-e2e: officer-anna has the call");
    await look.locator("button.hangup").click();
    await expect.poll(() => rig.feature.call.snapshot(), { timeout: 10_000 }).toBeNull();
    await expect.poll(() => childPids().filter((p) => commOf(p) === "ffmpeg").length, { timeout: 10_000 }).toBe(0);
    expect(PeerSession.open).toBe(0);
    await ben.close();
    await page.close();
  });
});
