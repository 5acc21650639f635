import { readFile } from "node:fs/promises";
import { writeConfigToBootDir } from "../../provisioning/boot-dir-config.js";
import { flashOverMqtt } from "../../provisioning/config-apply-command.js";
import { FlashError, flashOverSerial } from "../../provisioning/flash-client.js";
import { parseCliArgs } from "../args.js";
import { flagLines } from "../flag-help.js";
import { UsageError, type CliCommand } from "../cli-command.js";

const options = {
  port: { type: "string" },
  baud: { type: "string" },
  dir: { type: "string" },
  mqtt: { type: "boolean" },
  broker: { type: "string" },
  id: { type: "string" },
  sig: { type: "string" },
  unsigned: { type: "boolean" },
  timeout: { type: "string" },
} as const;

export const command: CliCommand = {
  name: "flash",
  summary: "send a config to a pillar: serial cable, boot partition or MQTT",
  usage:
    "pillar flash CONFIG (--port DEV [--baud N] | --dir BOOT_DIR | --mqtt --broker URL --id PILLAR_ID) [--sig FILE | --unsigned] [--timeout MS]\n" +
    "  one of --port, --dir, --mqtt says how the config reaches the pillar\n" +
    flagLines([
      ["--port DEV", "the serial device of the USB cable, e.g. /dev/ttyUSB0 (no default)"],
      ["--baud N", "with --port: the serial speed (default: 115200)"],
      ["--dir BOOT_DIR", "a mounted boot partition: BOOT_DIR/alarm-pillar/config.json + .sig, atomically (no default)"],
      ["--mqtt", "send config.apply to a live pillar through the broker (default: off)"],
      ["--broker URL", "with --mqtt: the fleet's broker (required with --mqtt, no default)"],
      ["--id PILLAR_ID", "with --mqtt: the pillar to send to (required with --mqtt, no default)"],
      ["--sig FILE", "the signature file (default: CONFIG.sig)"],
      ["--unsigned", "send no signature: development pillars only (default: off)"],
      [
        "--timeout MS",
        "how long to wait for the pillar: per frame on serial, for the answer on MQTT (default: 2000 per serial frame, 60000 for MQTT)",
      ],
    ]),
  async run(argv) {
    const { values: v, positionals } = parseCliArgs(argv, options);
    if (positionals.length !== 1) throw new UsageError("name one config file");
    const modes = [v.port !== undefined, v.dir !== undefined, v.mqtt === true].filter(Boolean).length;
    if (modes !== 1) throw new UsageError("choose one of --port, --dir, --mqtt");
    const file = positionals[0]!;
    const bytes = await readFile(file);
    let signature: string | undefined;
    if (!v.unsigned) {
      const sigPath = v.sig ?? `${file}.sig`;
      signature = await readFile(sigPath, "utf8").catch(() => undefined);
      if (signature === undefined && v.sig) throw new UsageError(`cannot read ${v.sig}`);
      if (signature === undefined)
        console.error(`note: ${sigPath} not found; sending the config unsigned (a production pillar refuses it)`);
    }
    const timeout = v.timeout !== undefined ? Number(v.timeout) : undefined;
    if (timeout !== undefined && !(timeout > 0))
      throw new UsageError("--timeout must be a positive number of milliseconds");

    if (v.dir !== undefined) {
      const path = await writeConfigToBootDir(v.dir, bytes, signature);
      console.log(`written ${path}${signature ? " (+ .sig)" : ""}; the pillar applies it on its next start`);
      return 0;
    }
    if (v.mqtt) {
      if (!v.broker || !v.id) throw new UsageError("--mqtt needs --broker URL and --id PILLAR_ID");
      const r = await flashOverMqtt({ brokerUrl: v.broker, pillarId: v.id, bytes, signature, timeoutMs: timeout });
      if (r.ok) {
        console.log(`pillar ${v.id}: ${(r.result as { message?: string } | null)?.message ?? "applied"}`);
        return 0;
      }
      console.error(`pillar ${v.id} did not apply the config: ${r.error?.code}: ${r.error?.message}`);
      return 1;
    }
    const baudRate = v.baud !== undefined ? Number(v.baud) : 115200;
    if (!Number.isInteger(baudRate) || baudRate <= 0) throw new UsageError("--baud must be a baud rate, e.g. 115200");
    try {
      const r = await flashOverSerial({
        port: v.port!,
        baudRate,
        bytes,
        signature,
        ...(timeout ? { frameTimeoutMs: timeout } : {}),
        progress: (m) => console.log(m),
      });
      if (r.ok) {
        console.log(
          `RESULT ok: ${r.message} (${r.durationMs} ms${r.retransmits ? `, ${r.retransmits} frames resent` : ""})`,
        );
        return 0;
      }
      console.error(
        `RESULT failed at ${r.stage}: ${r.message}${r.rolledBack ? " (the pillar runs its previous config again)" : ""}`,
      );
      return 1;
    } catch (err) {
      if (err instanceof FlashError) {
        console.error(`flash failed: ${err.message}`);
        return 1;
      }
      throw err;
    }
  },
};
