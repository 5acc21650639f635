import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mqtt from "mqtt";
import { afterEach, describe, expect, it, vi } from "vitest";
import { UplinkWatch } from "../../src/app/uplink-watch.js";
import { createBus } from "../../src/bus/events.js";
import { TestCenter } from "../support/center.js";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { SimPillar } from "../support/sim-pillar.js";
import { SIM_CONFIG } from "../../src/cli/commands/run.js";

const run = promisify(execFile);

describe("the demo pillar, health and faults", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("`pillar run --sim` brings its own broker; `pillar sim press` makes an alarm a subscriber sees", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pillar-demo-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const proc = new PillarProcess(SIM_CONFIG, [
      "--sim",
      "--embedded-port",
      "0",
      "--console-port",
      "0",
      "--data-dir",
      join(dir, "data"),
    ]);
    cleanups.push(() => proc.kill("SIGTERM"));
    await proc.start();
    // the demo's console: the center's program, a child process of the demo
    const consoleUrl = await waitFor(
      () => /operator console: (\S+)/.exec(proc.output)?.[1],
      "the demo console",
      30_000,
    );
    expect((await fetch(new URL("/api/config", consoleUrl))).status).toBe(200);
    const url = /"url":"(mqtt:\/\/127\.0\.0\.1:\d+)"/.exec(proc.output)![1]!;
    const sub = await mqtt.connectAsync(url, { clientId: "demo-sub" });
    cleanups.push(() => sub.endAsync());
    const got: Record<string, any>[] = [];
    sub.on("message", (_t, p) => got.push(JSON.parse(p.toString()) as Record<string, any>));
    await sub.subscribeAsync("pillar/v1/sim-001/event", { qos: 1 });
    const out = await run(process.execPath, [
      "bin/pillar.mjs",
      "sim",
      "press",
      "--port",
      String(proc.controlPort),
      "--hold",
      "60",
    ]);
    expect(out.stdout).toContain("pressed");
    await waitFor(() => got.find((e) => e.type === "button.press"), "the demo press");
    expect(got[0]).toMatchObject({ pillarId: "sim-001", location: { district: "Medeu" } });
    const leds = JSON.parse(
      (await run(process.execPath, ["bin/pillar.mjs", "sim", "leds", "--port", String(proc.controlPort)])).stdout,
    );
    expect(leds.strobe.on).toBe(true);
  });

  it("sends health every heartbeat; a broken button line is a fault event, shown on the LEDs and in health", async () => {
    const broker = await new TestMosquitto().start();
    cleanups.push(() => broker.dispose());
    const center = await new TestCenter(broker.url).start();
    cleanups.push(() => center.stop());
    const pillar = await new SimPillar({ heartbeat: { intervalS: 1 } }).start(broker.url);
    cleanups.push(() => pillar.dispose());
    const health = () => center.received.filter((r) => r.topic === "pillar/v1/test-001/health").map((r) => r.payload);
    await center.until(() => health().length >= 1, "a health message");
    expect(health()[0]).toMatchObject({
      pillarId: "test-001",
      outbox: { depth: expect.any(Number) },
      components: { hal: "sim", button: "ok", tamper: "closed" },
      faults: [],
    });
    expect(health()[0]!.diskFreeBytes as number).toBeGreaterThan(0);
    expect(typeof health()[0]!.seq).toBe("number");

    pillar.io.button.failLink("cable cut");
    await center.until(() => center.events("fault").length === 1, "the fault event");
    expect(center.events("fault")[0]!.data).toMatchObject({ component: "button", code: "line.failed" });
    expect(pillar.app.core.leds.pattern()).toBe("fault");
    const n = health().length;
    await center.until(
      () => health().length > n && (health().at(-1)!.faults as unknown[]).length === 1,
      "health with the fault",
    );
    expect(health().at(-1)!.components).toMatchObject({ button: "failed" });
    // the button path still works on the other lines' behalf: a press still raises an alarm
    pillar.io.button.restoreLink();
    await center.until(() => center.events("fault.cleared").length === 1, "fault cleared");
    expect(pillar.app.core.leds.pattern()).toBe("idle");
    // the same fault raised twice is reported once
    pillar.io.button.failLink();
    pillar.io.button.failLink();
    await center.until(() => center.events("fault").length === 2, "second fault");
    await pillar.click();
    await center.until(() => center.events("button.press").length === 1, "a press during a fault");
    expect(center.events("fault")).toHaveLength(2);
  });

  it("raises an uplink fault when the broker stays unreachable, and clears it on reconnect", async () => {
    vi.useFakeTimers();
    try {
      const bus = createBus();
      const seen: string[] = [];
      bus.on("fault.raised", (f) => seen.push(`raised ${f.component}/${f.code}`));
      bus.on("fault.cleared", (f) => seen.push(`cleared ${f.component}/${f.code}`));
      const watch = new UplinkWatch({ bus, uplink: { isConnected: () => false }, afterMs: 30_000 });
      await watch.start();
      vi.advanceTimersByTime(29_999);
      expect(seen).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(seen).toEqual(["raised uplink/offline"]);
      bus.emit("uplink.connected", { at: Date.now() });
      expect(seen).toEqual(["raised uplink/offline", "cleared uplink/offline"]);
      bus.emit("uplink.disconnected", { at: Date.now() });
      bus.emit("uplink.connected", { at: Date.now() });
      vi.advanceTimersByTime(60_000);
      expect(seen).toHaveLength(2);
      await watch.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
