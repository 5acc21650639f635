import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fault } from "../../src/bus/events.js";
import { startChromium, type RunningChromium } from "../support/chromium.js";
import { CallRig } from "./helpers/call-rig.js";
import { pidAlive } from "../support/processes.js";
import { waitFor } from "../support/wait.js";
import { TestCenter } from "../support/center.js";

describe("camera encoder killed mid-call", () => {
  const rig = new CallRig();
  let chrome: RunningChromium;
  let center: TestCenter;

  beforeAll(async () => {
    await rig.start();
    center = await new TestCenter(rig.mosq.url).start("pillar/v1/#");
    chrome = await startChromium();
  });
  afterAll(async () => {
    await chrome?.stop();
    await center?.client?.endAsync(true);
    await rig.stop();
  });

  it("raises a camera fault, restarts the encoder, video resumes, and the button keeps working", async () => {
    const page = await chrome.browser.newPage();
    await page.goto(`${rig.console.url}?officer=officer-ben`);
    await page.locator('.fleet tr[data-state="online"]').waitFor({ timeout: 15_000 });
    await rig.press();
    await page.locator(".card.alarm button.answer:enabled").click({ timeout: 15_000 });
    const frames = () => page.evaluate(() => (window as any).pillarConsole.stats.frames as number);
    await expect.poll(frames, { timeout: 20_000 }).toBeGreaterThan(10);

    const raised: Fault[] = [];
    const cleared: string[] = [];
    rig.app.core.bus.on("fault.raised", (f) => raised.push(f));
    rig.app.core.bus.on("fault.cleared", (f) => cleared.push(`${f.component}/${f.code}`));
    const oldPid = rig.feature.drivers.camera.pid();
    const killed = await (await fetch(`${rig.controlUrl}/sim/camera/kill`, { method: "POST" })).json();
    expect(killed.killed).toBe(oldPid);
    // Press while the encoder is down: the button path does not wait for the camera.
    const pressesBefore = center.events("button.press").length;
    await rig.press();
    await center.until(
      () => center.events("button.press").length > pressesBefore,
      "the second press at the center",
      5000,
    );

    await waitFor(() => raised.some((f) => f.component === "camera"), "camera fault on the bus", 5000);
    expect(raised.find((f) => f.component === "camera")!.message).toMatch(/ffmpeg exited \(SIGKILL\)/);
    await center.until(
      () => center.events("fault").some((e) => (e.data as any)?.component === "camera"),
      "the camera fault event",
      5000,
    );

    const newPid = await waitFor(
      () => {
        const p = rig.feature.drivers.camera.pid();
        return p && p !== oldPid && pidAlive(p) ? p : null;
      },
      "a restarted encoder",
      10_000,
    );
    expect(pidAlive(oldPid)).toBe(false);
    await waitFor(
      () => cleared.includes("camera/encoder.died"),
      "fault cleared by the first packet after the restart",
      10_000,
    );
    await center.until(
      () => center.events("fault.cleared").some((e) => (e.data as any)?.component === "camera"),
      "fault.cleared at the center",
      5000,
    );

    // Video resumes in the same call (new encoder, same track: SSRC/timestamps rewritten).
    const afterRestart = await frames();
    await expect.poll(frames, { timeout: 10_000 }).toBeGreaterThan(afterRestart + 10);
    expect(rig.feature.call.snapshot()?.state).toBe("answered");
    expect(rig.feature.drivers.camera.pid()).toBe(newPid);
    const third = center.events("button.press").length;
    await rig.press();
    await center.until(() => center.events("button.press").length > third, "a press after the restart", 5000);
    await page.close();
  });
});
