import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import type { PillarIo } from "../../hal/pillar-io.js";
import { SimPillarIo } from "../../hal/sim/sim-pillar-io.js";

/**
 * The composition root's driver choice: the only place that imports HAL drivers. Real drivers
 * are loaded lazily so a sim pillar never loads serialport or spawns gpio tools.
 */
export async function createPillarIo(config: PillarConfig, log: Logger): Promise<PillarIo> {
  const { hal } = config;
  switch (hal.driver) {
    case "sim":
      return new SimPillarIo();
    case "firmata": {
      const { createFirmataPillarIo } = await import("../../hal/firmata/firmata-pillar-io.js");
      const f = hal.firmata!;
      return createFirmataPillarIo({
        port: f.port,
        baudRate: f.baudRate,
        heartbeatMs: f.heartbeatMs,
        inputs: hal.inputs,
        outputs: hal.outputs,
        log,
      });
    }
    case "gpio": {
      const { createGpioPillarIo } = await import("../../hal/gpio/gpio-pillar-io.js");
      return createGpioPillarIo({ chipLabel: hal.gpio!.chipLabel, inputs: hal.inputs, outputs: hal.outputs, log });
    }
  }
}
