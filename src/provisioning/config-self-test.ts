import { readdir, stat } from "node:fs/promises";
import type { PillarConfig } from "../../config/schema.js";
import { createPillarIo } from "../app/drivers.js";
import { moduleLogger } from "../log/logger.js";

/** A quick check run right after a new config is applied; throws (with a reason) to roll back. */
export type SelfTest = (config: PillarConfig) => Promise<void>;

/**
 * Default self-test: the broker settings parse into a usable URL, and the HAL can work with the
 * new config (sim: every line starts and stops; gpio: a gpiochip exists; firmata: its serial
 * device exists). The app passes a stronger one when it can check its real, restarted HAL.
 */
export async function defaultSelfTest(config: PillarConfig): Promise<void> {
  let url: URL;
  try {
    url = new URL(config.broker.url);
  } catch {
    throw new Error(`broker.url ${JSON.stringify(config.broker.url)} is not a URL`);
  }
  if (!["mqtt:", "mqtts:", "ws:", "wss:"].includes(url.protocol))
    throw new Error(`broker.url: unsupported protocol ${url.protocol}`);
  if (!url.hostname) throw new Error("broker.url has no host");
  if (url.port && (Number(url.port) < 1 || Number(url.port) > 65535))
    throw new Error(`broker.url: bad port ${url.port}`);

  switch (config.hal.driver) {
    case "sim": {
      // the composition root picks the driver (the only place that names one)
      const io = await createPillarIo(config, moduleLogger("self-test"));
      await io.start();
      await io.stop();
      return;
    }
    case "gpio": {
      const chips = (await readdir("/dev").catch(() => [] as string[])).filter((n) => n.startsWith("gpiochip"));
      if (chips.length === 0) throw new Error("hal.driver gpio: no /dev/gpiochip* on this machine");
      return;
    }
    case "firmata": {
      const port = config.hal.firmata?.port;
      if (!port) throw new Error("hal.firmata.port is not set");
      await stat(port).catch(() => {
        throw new Error(`hal.firmata.port ${port} does not exist (is the I/O co-processor connected?)`);
      });
      return;
    }
  }
}
