import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_PROMPTS_DIR, PROMPT_FAULT } from "../../src/call/caller-audio.js";
import { SimDigitalOutput } from "../../hal/sim/sim-digital-output.js";
import { LedService } from "../../src/leds/led-service.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { testConfigDoc } from "../support/sim-pillar.js";
import { firstRun, isTone, isVoice, median, RINGBACK_HZ, runLength } from "./helpers/heard.js";
import { NodeOfficer } from "./helpers/node-officer.js";
import { sleep, waitFor } from "../support/wait.js";
import { type CallServiceRig, withCallServiceRig } from "./helpers/service-rig.js";

/**
 * What the caller hears, measured on the sim speaker's decoded sound (real ffmpeg: Ogg Opus →
 * PCM, analysed in 100 ms windows by RMS and a Goertzel filter at the ringback's 425 Hz).
 */
describe("the caller is never left in silence (sim speaker, real ffmpeg)", () => {
  const t = withCallServiceRig();
  const officer = (name: string, auto = false) => t.officer(name, auto);
  let rig: CallServiceRig;
  let leds: LedService | undefined;
  const dirs: string[] = [];

  afterEach(async () => {
    await leds?.stop();
    leds = undefined;
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("a press: the Kazakh and Russian prompt, then the ringback; LEDs 'calling'; an answer stops the ringback", async () => {
    rig = await t.start("pillar-prompt");
    const config = validateConfig(testConfigDoc());
    const outputs = {
      ready: new SimDigitalOutput("ready"),
      alarm: new SimDigitalOutput("alarm"),
      answered: new SimDigitalOutput("answered"),
      strobe: new SimDigitalOutput("strobe"),
    };
    leds = new LedService({ outputs, bus: rig.bus, patterns: () => config.leds });
    await leds.start();
    const anna = await officer("anna");
    anna.autoRejoin = true;
    const t0 = Date.now();
    rig.alarm("inc-prompt");
    const offer = await waitFor(() => anna.offers[0], "offer at anna");
    expect(leds.pattern()).toBe("calling");

    const windows = () => rig.speaker.pcm.windows(t0, RINGBACK_HZ);
    const burstHeard = () => {
      const ws = windows();
      const at = firstRun(ws, isTone, 5);
      return at >= 0 && at + runLength(ws, at, isTone) < ws.length; // the first burst is over
    };
    await waitFor(burstHeard, "a ringback burst reaches the speaker", 40_000);
    const ws = windows();
    const ring = firstRun(ws, isTone, 5);
    const before = ws.slice(0, ring);
    const spoken = before.filter(isVoice);
    const toneRun = runLength(ws, ring, isTone);
    const figures = {
      promptWindows: before.length,
      spokenWindows: spoken.length,
      spokenMedianDbfs: median(spoken.map((w) => w.rmsDbfs)),
      spokenMedianToneShare: median(before.map((w) => w.toneShare)),
      ringbackWindows: toneRun,
      ringbackDbfs: median(ws.slice(ring, ring + toneRun).map((w) => w.rmsDbfs)),
    };
    console.info("caller heard before the answer", figures);
    // Kazakh (6.1 s) then Russian (4.3 s): more than either alone, before any tone
    expect(before.length).toBeGreaterThan(85);
    expect(before.length).toBeLessThan(140);
    expect(spoken.length).toBeGreaterThan(50);
    expect(figures.spokenMedianDbfs).toBeGreaterThan(-40);
    expect(figures.spokenMedianToneShare).toBeLessThan(0.3);
    // one ringback burst: 1 s of 425 Hz, clearly audible
    expect(toneRun).toBeGreaterThanOrEqual(8);
    expect(toneRun).toBeLessThanOrEqual(12);
    expect(figures.ringbackDbfs).toBeGreaterThan(-22);
    expect(leds.pattern()).toBe("calling");
    expect(outputs.strobe.read()).toBe(true);

    anna.answer(offer);
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "connected", "connected");
    await anna.send("webrtc/pickup", { sessionId: offer.sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "answered", "answered");
    const answeredAt = Date.now();
    const sent = rig.prompts.packetsSent;
    expect(leds.pattern()).toBe("talking");
    expect(outputs.answered.read()).toBe(true);
    // a full ringback cadence (5 s) later, nothing more of the prompts went to the speaker
    await sleep(5500);
    expect(rig.prompts.packetsSent).toBe(sent);
    expect(rig.speaker.pcm.windows(answeredAt + 200, RINGBACK_HZ).filter(isTone)).toHaveLength(0);

    await anna.send("webrtc/hangup", { sessionId: offer.sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "ended", "ended");
    rig.idle();
    await waitFor(() => leds?.pattern() === "idle", "LEDs back to idle");
  });

  it("the console drops mid-call: the caller hears 'please wait'; the same console re-joins with its token, others cannot", async () => {
    rig = await t.start("pillar-rejoin");
    rig.settings.rejoinGraceS = 60;
    const states: string[] = [];
    rig.bus.on("call.state", (e) => states.push(e.state));
    const anna = await officer("anna", true);
    anna.autoRejoin = true; // a first connection that fails is re-joined, as the console does
    rig.alarm("inc-rejoin");
    const offer = await waitFor(() => anna.offers[0], "offer at anna");
    const sessionId = offer.sessionId as string;
    await waitFor(() => anna.lastState(sessionId)?.state === "connected", "connected");
    await anna.send("webrtc/pickup", { sessionId, officer: "anna" });
    await waitFor(() => anna.received.audio > 20, "the caller's voice at anna");

    // the page reloads: its peer connection and MQTT connection are gone; the token is kept
    // (sessionStorage or the console server), a new page connects with it
    const droppedAt = Date.now();
    await anna.stop();
    await waitFor(() => states.includes("rejoining"), "the pillar keeps the caller's side: rejoining", 40_000);
    const detectedMs = Date.now() - droppedAt;
    const graceAt = Date.now();
    await waitFor(
      () => rig.speaker.pcm.windows(graceAt, RINGBACK_HZ).filter(isVoice).length >= 15,
      "'please wait' reaches the speaker",
      20_000,
    );
    expect(rig.call.snapshot()).toMatchObject({ sessionId, state: "rejoining", officer: "anna" });

    const ben = await officer("ben");
    const mallory = await officer("anna"); // the same name, not the token
    mallory.callToken = "forged-token-0123456789";
    await ben.send("webrtc/request", { officer: "ben", kind: "alarm", sessionId });
    await mallory.send("webrtc/request", { officer: "anna", kind: "alarm", sessionId });
    await waitFor(() => ben.busy[0], "ben refused");
    expect(ben.busy[0]).toMatchObject({ reason: "busy", activeOfficer: "anna", message: "answered by anna" });
    await waitFor(() => mallory.busy[0], "mallory refused");
    expect(mallory.busy[0]).toMatchObject({ reason: "not_owner" });

    // the reloaded page: same token; it reads the retained `rejoining` state and re-joins
    const again = new NodeOfficer("anna", t.mosq.url, rig.pillarId, true);
    again.callToken = anna.callToken;
    again.autoRejoin = true;
    t.officers.push(await again.start());
    const rejoinOffer = await waitFor(() => again.offers.find((o) => o.rejoin === true), "a re-join offer");
    expect(rejoinOffer).toMatchObject({ sessionId, to: "anna", kind: "alarm", incidentId: "inc-rejoin" });
    await waitFor(() => again.lastState(sessionId)?.state === "answered", "answered again, no new pickup");
    await waitFor(() => again.received.video > 20 && again.received.audio > 20, "video and the caller's voice again");
    expect(rig.call.snapshot()).toMatchObject({ sessionId, state: "answered", officer: "anna" });
    // the re-join offer is visible on the topic, but only the token's holder can take it
    mallory.answer(rejoinOffer);
    await waitFor(() => mallory.busy.length >= 2, "mallory's answer refused");
    expect(mallory.busy[1]).toMatchObject({ reason: "not_owner", sessionId });
    expect(states.filter((s) => s === "ended")).toHaveLength(0);
    console.info("re-join", { dropDetectedMs: detectedMs, states });

    await again.send("webrtc/hangup", { sessionId, officer: "anna" });
    await waitFor(() => again.lastState(sessionId)?.state === "ended", "ended");
  });

  it("a missing or broken prompt file: a fault, the call and the ringback still work; repaired → fault cleared", async () => {
    rig = await t.start("pillar-noprompt");
    const dir = await mkdtemp(join(tmpdir(), "prompts-"));
    dirs.push(dir);
    await copyFile(join(DEFAULT_PROMPTS_DIR, "ringback.opus"), join(dir, "ringback.opus"));
    await mkdir(join(dir, "kk"));
    await writeFile(join(dir, "kk", "calling.opus"), "not an ogg file"); // broken; ru/ is missing
    rig.promptSettings = { languages: ["kk", "ru"], dir };
    const faults: { code: string; message: string }[] = [];
    const cleared: string[] = [];
    rig.bus.on("fault.raised", (f) => f.component === PROMPT_FAULT.component && faults.push(f));
    rig.bus.on("fault.cleared", (f) => f.component === PROMPT_FAULT.component && cleared.push(f.code));
    const anna = await officer("anna");
    anna.autoRejoin = true;
    const t0 = Date.now();
    rig.alarm("inc-noprompt");
    const offer = await waitFor(() => anna.offers[0], "offer at anna");
    await waitFor(() => faults.length >= 2, "a fault per unusable file");
    expect(faults.map((f) => f.code)).toEqual([PROMPT_FAULT.code, PROMPT_FAULT.code]);
    expect(faults[0]!.message).toMatch(/kk\/calling\.opus unusable \(not an Ogg page/);
    expect(faults[1]!.message).toMatch(/ru\/calling\.opus unusable \(ENOENT/);
    // the caller is not left in silence: the ringback comes at once
    await waitFor(() => firstRun(rig.speaker.pcm.windows(t0, RINGBACK_HZ), isTone, 5) >= 0, "the ringback", 20_000);
    anna.answer(offer);
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "connected", "connected");
    await anna.send("webrtc/pickup", { sessionId: offer.sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "answered", "answered");
    await anna.send("webrtc/hangup", { sessionId: offer.sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "ended", "ended");
    rig.idle();

    // repaired: the next alarm finds every file
    for (const lang of ["kk", "ru"]) {
      await mkdir(join(dir, lang), { recursive: true });
      await copyFile(join(DEFAULT_PROMPTS_DIR, lang, "calling.opus"), join(dir, lang, "calling.opus"));
    }
    rig.alarm("inc-repaired");
    await waitFor(() => cleared.length >= 1, "the fault cleared");
    expect(cleared).toEqual([PROMPT_FAULT.code]);
    expect(faults).toHaveLength(2);
  });

  it("the call-limit warning is spoken over the answered call (the officer's voice waits), then the limit ends it", async () => {
    rig = await t.start("pillar-limit");
    rig.settings.callLimitS = 14;
    rig.settings.warningBeforeEndS = 8;
    rig.promptSettings = { languages: ["ru"] };
    const anna = await officer("anna", true);
    anna.autoRejoin = true;
    rig.alarm("inc-limit");
    const offer = await waitFor(() => anna.offers[0], "offer at anna");
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "connected", "connected");
    await anna.send("webrtc/pickup", { sessionId: offer.sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "answered", "answered");
    let spokeOverCall = false;
    const watch = setInterval(() => (spokeOverCall ||= rig.prompts.speaking), 20);
    try {
      await waitFor(() => anna.lastState(offer.sessionId)?.state === "warning", "warning", 20_000);
      const warnedAt = Date.now();
      await waitFor(
        () => rig.speaker.pcm.windows(warnedAt, RINGBACK_HZ).filter(isVoice).length >= 12,
        "the spoken warning on the speaker",
        10_000,
      );
      await waitFor(() => anna.lastState(offer.sessionId)?.state === "ended", "ended by the limit", 20_000);
      const ws = rig.speaker.pcm.windows(warnedAt, RINGBACK_HZ);
      expect(ws.filter(isTone)).toHaveLength(0); // answered: no ringback after the warning
      expect(rig.speaker.beeps).toHaveLength(1);
    } finally {
      clearInterval(watch);
    }
    expect(spokeOverCall).toBe(true);
    expect(anna.lastState(offer.sessionId)!.reason).toBe("limit");
  });
});
