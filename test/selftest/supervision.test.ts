import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Core } from "../../src/app/feature.js";
import { createBus, type PillarBus } from "../../src/bus/events.js";
import { LiveConfig } from "../../src/config/live-config.js";
import { validateConfig } from "../../src/config/validate-config.js";
import type { EventPublisher } from "../../src/events/event-publisher.js";
import { FaultRegistry } from "../../src/faults/fault-registry.js";
import { type Check, fail, pass } from "../../src/selftest/check.js";
import { SelftestService } from "../../src/selftest/selftest-service.js";
import { Supervision } from "../../src/selftest/supervision.js";
import { testConfigDoc } from "../support/sim-pillar.js";

const log = pino({ level: "silent" });

/**
 * Supervision's schedule with fake timers: the daily audio test at the quiet hour, postponed
 * while a call is active and run after it; its failure and repair reach the center through the
 * real FaultRegistry as exactly one `fault` and one `fault.cleared`. The audio check here is a
 * stand-in with the real check's id and component (the real one, through ffmpeg, is proven in
 * audio-loop.test.ts): fake time cannot drive ffmpeg.
 */
describe("supervision", () => {
  let dir = "";
  let bus: PillarBus;
  let faults: FaultRegistry;
  let service: SelftestService;
  let supervision: Supervision;
  const sent: { type: string; data: Record<string, unknown> }[] = [];
  let deaf = false;
  let runs = 0;
  const audio: Check = {
    id: "audio.loop",
    component: "audio",
    title: "speaker → microphone tone loop",
    required: true,
    async run() {
      runs++;
      return deaf ? fail("the microphone hears nothing at all (digital silence)") : pass("1500 Hz heard", -24, "dBFS");
    },
  };

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    vi.setSystemTime(new Date(2026, 10, 26, 3, 58, 0)); // local time, two minutes before the quiet hour
    dir = await mkdtemp(join(tmpdir(), "supervision-"));
    const config = validateConfig(
      testConfigDoc({ dataDir: dir, selftest: { intervalS: 300, audioHour: 4, audioRetryS: 600 } }),
      "t",
    );
    bus = createBus(log);
    const events = {
      publish: (type: string, _at: number, o: { data: Record<string, unknown> }) => sent.push({ type, data: o.data }),
    } as unknown as EventPublisher;
    faults = new FaultRegistry({ bus, events, log });
    let incident = "idle";
    const core = {
      config: new LiveConfig(config),
      bus,
      faults,
      incidents: { snapshot: () => ({ state: incident }) },
      uplink: { isConnected: () => false },
      dataDir: dir,
      version: "0.0.0-test",
      log,
    } as unknown as Core;
    bus.on("incident.state", (e) => (incident = e.state));
    service = new SelftestService(core, () => [audio]);
    supervision = new Supervision({ service, settings: () => core.config.get().selftest, log });
    await faults.start();
    await service.start();
    await supervision.start();
  });

  afterEach(async () => {
    await supervision.stop();
    await service.stop();
    await faults.stop();
    vi.useRealTimers();
    sent.length = 0;
    deaf = false;
    runs = 0;
    await rm(dir, { recursive: true, force: true });
  });

  const call = (state: "connected" | "ended") =>
    bus.emit("call.state", { sessionId: "s1", kind: "alarm", state, incidentId: null, officer: null, at: Date.now() });
  /** Advance fake time, then let a run that started finish its real file I/O (report files). */
  const minutes = async (m: number) => {
    await vi.advanceTimersByTimeAsync(m * 60_000);
    while (service.isRunning()) await new Promise((r) => setImmediate(r));
  };
  const faultEvents = () => sent.filter((e) => e.type === "fault" && e.data.component === "audio");
  const clearedEvents = () => sent.filter((e) => e.type === "fault.cleared" && e.data.component === "audio");

  it("the daily audio test waits for the quiet hour, is postponed by an active call and runs after it", async () => {
    await minutes(1);
    call("connected");
    await minutes(2); // 04:00: busy
    expect(runs).toBe(0);
    expect(supervision.state()).toEqual({ postponedDaily: 1 });
    await minutes(10); // 04:10: still in the call
    expect(runs).toBe(0);
    expect(supervision.state()).toEqual({ postponedDaily: 2 });
    call("ended");
    await minutes(10); // 04:20: the retry runs it
    expect(runs).toBe(1);
    expect(supervision.state()).toEqual({ postponedDaily: 0 });
    expect(service.lastReport).toMatchObject({ trigger: "daily", ok: true });
    await minutes(23 * 60); // 03:20 the next day: nothing more
    expect(runs).toBe(1);
    await minutes(60); // 04:20: once a day
    expect(runs).toBe(2);
  });

  it("a deaf microphone becomes one fault event; its repair one fault.cleared", async () => {
    deaf = true;
    await minutes(3); // 04:01: first daily run fails
    expect(runs).toBe(1);
    expect(faultEvents()).toHaveLength(1);
    expect(faultEvents()[0]!.data).toMatchObject({
      code: "selftest.audio.loop",
      message: expect.stringMatching(/hears nothing/),
    });
    expect(faults.has("audio")).toBe(true);
    expect(service.health()).toMatchObject({ components: { audio: { status: "fail" } } });
    await minutes(24 * 60); // the next day: still deaf, no second fault event
    expect(runs).toBe(2);
    expect(faultEvents()).toHaveLength(1);
    deaf = false; // repaired
    await minutes(24 * 60);
    expect(runs).toBe(3);
    expect(faultEvents()).toHaveLength(1);
    expect(clearedEvents()).toHaveLength(1);
    expect(faults.has("audio")).toBe(false);
    expect(service.health()).toMatchObject({ components: { audio: { status: "pass" } } });
  });
});
