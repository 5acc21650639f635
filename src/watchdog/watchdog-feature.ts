import type { Logger } from "pino";
import type { Feature } from "../app/feature.js";
import { moduleLogger } from "../log/logger.js";
import { SystemdNotifier } from "./systemd-notify.js";
import { WatchdogService } from "./watchdog-service.js";

/** Feed period when systemd set no WATCHDOG_USEC: the checks still run for the health message. */
const DEFAULT_INTERVAL_MS = 10_000;

/**
 * systemd integration: READY=1 once the services run, WATCHDOG=1 while the pillar is healthy
 * (see WatchdogService), STOPPING=1 at shutdown. Registered last in the feature list, so "ready"
 * means every other service started. In simulation it adds `POST /sim/debug/stall?ms=N`, which
 * blocks the event loop (to prove the feed stops).
 */
export function watchdogFeature(o: { env: NodeJS.ProcessEnv; log: Logger }): Feature {
  const log = moduleLogger("watchdog", o.log);
  const notifier = SystemdNotifier.fromEnv(o.env, log);
  const intervalMs = WatchdogService.intervalFromEnv(o.env, DEFAULT_INTERVAL_MS);
  // Children (encoders, gpio tools…) must not inherit the socket: with NotifyAccess=all systemd
  // would take their messages as the pillar's (a child's stray "ERRNO=…" was seen in a test).
  for (const k of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) delete o.env[k];
  return {
    name: "watchdog",
    async open() {
      notifier?.start();
    },
    attach(core) {
      const service = new WatchdogService({
        bus: core.bus,
        notifier,
        intervalMs,
        settings: () => core.config.get().watchdog,
        log,
      });
      core.health.addSection("watchdog", () => service.state());
      if (core.config.get().hal.driver === "sim") {
        core.control.route("POST", "/sim/debug/stall", (_req, _body, url) => {
          const ms = Math.min(60_000, Math.max(0, Number(url.searchParams.get("ms") ?? 0) || 0));
          const until = Date.now() + ms;
          while (Date.now() < until) {
            // deliberately blocking: this is the stall under test
          }
          return { stalledMs: ms };
        });
      }
      return [service];
    },
    async close() {
      notifier?.notify("STOPPING=1");
      await notifier?.stop();
    },
  };
}
