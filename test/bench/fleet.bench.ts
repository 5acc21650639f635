/**
 * Provisioning figures for `npm run bench`:
 * - fleet_build_100_ms: `fleet build` + sign of the example inventory (100 pillars);
 * - fleet_build_10000_ms: the same for a 10,000-row inventory generated at bench time;
 * - flash_ms: one signed config flashed over a socat pty pair at 115200 baud, HELLO to RESULT
 *   (verify, atomic store, apply, self-test included); median of 3. A pty does not pace bytes
 *   at the baud rate, so flash_wire_ms_115200 says what the installer's frames alone would take on a
 *   real UART at 115200 8N1 (10 bits a byte); the pillar's short answers flow the other way.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { generateInventory } from "../../scripts/gen-fleet-inventory.js";
import { LiveConfig } from "../../src/config/live-config.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { ConfigApplier } from "../../src/provisioning/config-applier.js";
import { buildFleet } from "../../src/provisioning/fleet-builder.js";
import { flashOverSerial } from "../../src/provisioning/flash-client.js";
import { generateFleetKeys } from "../../src/provisioning/fleet-keys.js";
import { ProvisioningListener } from "../../src/provisioning/provisioning-listener.js";
import { SocatPair } from "../support/socat-pair.js";
import { pillarDoc, writeConfig } from "../provisioning/helpers/fixtures.js";

const EXAMPLE = fileURLToPath(new URL("../../config/examples/fleet/", import.meta.url));

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return Math.round(performance.now() - t);
}

export async function runFleetBench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), "fleet-bench-"));
  const pair = new SocatPair();
  let listener: ProvisioningListener | undefined;
  try {
    const keys = await generateFleetKeys(join(dir, "keys"));
    const defaultsPath = join(EXAMPLE, "defaults.json");
    const small = join(dir, "sites-100.csv");
    await writeFile(small, generateInventory(100));
    const build100 = await timed(() =>
      buildFleet({
        inventoryPath: small,
        defaultsPath,
        outDir: join(dir, "out100"),
        privateKeyPath: keys.privateKeyPath,
      }),
    );
    const big = join(dir, "sites-10000.csv");
    await writeFile(big, generateInventory(10_000, 7));
    const build10k = await timed(() =>
      buildFleet({
        inventoryPath: big,
        defaultsPath,
        outDir: join(dir, "out10000"),
        privateKeyPath: keys.privateKeyPath,
      }),
    );

    await pair.start();
    const configPath = join(dir, "config.json");
    const old = await writeConfig(configPath, pillarDoc({ id: "tas-bench-0001", mode: "production" }), keys);
    const live = new LiveConfig(validateConfig(JSON.parse(old.toString())), configPath);
    const log = pino({ level: "silent" });
    const applier = new ConfigApplier({
      configPath,
      current: () => live.get(),
      applyConfig: async (c) => live.set(c),
      publicKeyPath: keys.publicKeyPath,
      log,
    });
    listener = new ProvisioningListener({
      port: pair.b,
      baudRate: 115200,
      applier,
      log,
      identity: () => ({
        pillarId: live.get().pillar.id,
        version: "bench",
        mode: live.get().pillar.mode,
        configVersion: 1,
        configSha256: null,
        keyId: null,
      }),
    });
    await listener.start();
    const runs: number[] = [];
    let wireBytes = 0;
    let configSize = 0;
    for (let i = 0; i < 3; i++) {
      const site = join(dir, `site-${i}.json`);
      await writeConfig(
        site,
        validateConfig(pillarDoc({ id: "tas-bench-0001", lat: 41.3 + i / 100, address: `Amir Temur Avenue ${i + 1}` })),
        keys,
      );
      const bytes = await readFile(site);
      configSize = bytes.length;
      const r = await flashOverSerial({
        port: pair.a,
        baudRate: 115200,
        bytes,
        signature: await readFile(`${site}.sig`, "utf8"),
      });
      if (!r.ok) throw new Error(`bench flash failed: ${r.message}`);
      runs.push(r.durationMs);
      wireBytes = r.wireBytes;
    }
    runs.sort((a, b) => a - b);
    return {
      fleet_build_100_ms: build100,
      fleet_build_10000_ms: build10k,
      flash_ms: runs[1]!,
      flash_config_bytes: configSize,
      flash_wire_ms_115200: Math.round((wireBytes * 10 * 1000) / 115200),
    };
  } finally {
    await listener?.stop();
    await pair.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(await runFleetBench()));
}
