import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBus, type PillarBus } from "../../src/bus/events.js";
import { SystemdNotifier } from "../../src/watchdog/systemd-notify.js";
import { WatchdogService } from "../../src/watchdog/watchdog-service.js";
import { waitFor } from "../support/wait.js";
import { NotifyReceiver } from "./notify-receiver.js";

const log = pino({ level: "silent" });
const INTERVAL = 1000;

describe("watchdog service → sd_notify over a real datagram socket (socat on both sides)", () => {
  let receiver: NotifyReceiver;
  let bus: PillarBus;
  let dog: WatchdogService;
  let notifier: SystemdNotifier;

  beforeEach(async () => {
    receiver = await new NotifyReceiver().start();
    bus = createBus(log);
    notifier = new SystemdNotifier({ socket: receiver.path, log });
    notifier.start();
    dog = new WatchdogService({
      bus,
      notifier,
      // a long interval: the test drives every tick itself with explicit times
      intervalMs: 3_600_000,
      settings: () => ({ maxLoopLagMs: 500, inputGraceS: 5 }),
      log,
    });
    await dog.start();
  });
  afterEach(async () => {
    await dog.stop();
    await notifier.stop();
    await receiver.stop();
  });

  it("says READY=1 at start and WATCHDOG=1 on every healthy tick", async () => {
    await waitFor(() => receiver.count("READY=1") === 1, "READY=1");
    let t = Date.now();
    for (let i = 0; i < 3; i++) dog.tick((t += 3_600_000));
    await waitFor(() => receiver.count("WATCHDOG=1") === 3, "three feeds");
    expect(dog.state()).toMatchObject({ systemd: true, feeds: 3, withheld: 0, withholding: null });
  });

  it("withholds the feed after an event-loop stall, then feeds again", async () => {
    let t = Date.now() + 3_600_000;
    dog.tick(t); // on time
    dog.tick((t += 3_600_000 + 2_000)); // 2 s late: the loop was blocked
    expect(dog.state().withholding).toMatch(/event loop stalled 2000 ms/);
    dog.tick((t += 3_600_000)); // on time again
    await waitFor(() => receiver.count("WATCHDOG=1") === 2, "two feeds");
    expect(dog.state()).toMatchObject({ feeds: 2, withheld: 1, withholding: null, longestStallMs: 2000 });
  });

  it("a dead button line stops the feed once the grace time is over; its recovery restarts it", async () => {
    let t = Date.now() + 3_600_000;
    dog.tick(t);
    const failedAt = t;
    bus.emit("fault.raised", { component: "button", code: "line.failed", message: "gone", at: failedAt });
    dog.tick((t += 3_600_000)); // an hour later: past the 5 s grace
    dog.tick((t += 3_600_000));
    expect(dog.state()).toMatchObject({ feeds: 1, withheld: 2 });
    expect(dog.state().withholding).toMatch(/^button\/line.failed for \d+ s$/);
    bus.emit("fault.cleared", { component: "button", code: "line.failed", at: t });
    dog.tick((t += 3_600_000));
    await waitFor(() => receiver.count("WATCHDOG=1") === 2, "fed again");
    expect(dog.state().withholding).toBeNull();
  });

  it("other faults (camera, uplink) do not stop the feed: only the button path does", async () => {
    let t = Date.now() + 3_600_000;
    bus.emit("fault.raised", { component: "camera", code: "exited", message: "x", at: t - 600_000 });
    bus.emit("fault.raised", { component: "uplink", code: "offline", message: "x", at: t - 600_000 });
    dog.tick(t);
    dog.tick((t += 3_600_000));
    await waitFor(() => receiver.count("WATCHDOG=1") === 2, "two feeds");
    expect(dog.state().withheld).toBe(0);
  });

  it("a message written right before the notifier stops still arrives (STOPPING=1 at shutdown)", async () => {
    await dog.stop();
    expect(notifier.notify("STOPPING=1")).toBe(true);
    await notifier.stop();
    expect(notifier.notify("WATCHDOG=1")).toBe(false);
    await waitFor(() => receiver.count("STOPPING=1") === 1, "STOPPING=1");
    expect(receiver.messages.at(-1)).toBe("STOPPING=1");
  });
});

describe("without NOTIFY_SOCKET", () => {
  it("runs its checks for the health message and sends nothing", async () => {
    expect(SystemdNotifier.fromEnv({}, log)).toBeUndefined();
    expect(WatchdogService.intervalFromEnv({ WATCHDOG_USEC: "30000000" }, INTERVAL)).toBe(15_000);
    expect(WatchdogService.intervalFromEnv({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "1" }, INTERVAL)).toBe(INTERVAL);
    const dog = new WatchdogService({
      bus: createBus(log),
      intervalMs: INTERVAL,
      settings: () => ({ maxLoopLagMs: 500, inputGraceS: 5 }),
      log,
    });
    await dog.start();
    dog.tick(Date.now() + INTERVAL);
    expect(dog.state()).toMatchObject({ systemd: false, feeds: 1 });
    await dog.stop();
  });
});
