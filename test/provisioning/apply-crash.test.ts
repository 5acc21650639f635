import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recoverConfigDir } from "../../src/provisioning/config-recovery.js";
import { sha256Hex } from "../../src/provisioning/config-signature.js";
import type { GeneratedKeys } from "../../src/provisioning/fleet-keys.js";
import { bundleScript } from "../support/bundle.js";
import { Child } from "../support/child.js";
import { pillarDoc, readPair, testKeys, writeConfig } from "./helpers/fixtures.js";

/**
 * SIGKILL during an apply, at every named step ($PILLAR_APPLY_PAUSE_AT stops the applying
 * process there): the folder must hold the old or the new config with a signature valid for
 * it, never a mix; and after the start-up recovery the config that never passed its self-test
 * is rolled back, temp files are gone.
 */
const SUCCESS_POINTS = [
  "verified",
  "prev:sig-temp-written",
  "prev:sig-merged",
  "prev:config-temp-written",
  "prev:config-renamed",
  "prev:sig-final-temp-written",
  "prev:sig-final",
  "trial-temp-written",
  "trial-marked",
  "config:sig-temp-written",
  "config:sig-merged",
  "config:config-temp-written",
  "config:config-renamed",
  "config:sig-final-temp-written",
  "config:sig-final",
  "applying",
  "self-test",
  "committed",
];
/** Steps of the rollback after a failed self-test. */
const ROLLBACK_POINTS = [
  "rollback:sig-merged",
  "rollback:config-temp-written",
  "rollback:config-renamed",
  "rollback:sig-final",
];

describe("SIGKILL at any step of an apply leaves a whole config", () => {
  let root: string;
  let keys: GeneratedKeys;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "apply-crash-"));
    keys = await testKeys(root);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function crashAt(point: string, failing: boolean) {
    const dir = await mkdtemp(join(root, "case-"));
    const configPath = join(dir, "config.json");
    const oldBytes = await writeConfig(configPath, pillarDoc({ id: "tas-old-0001", lat: 41.3 }), keys);
    const candidate = join(dir, "candidate.json");
    const newDoc = failing
      ? pillarDoc({ id: "tas-new-0002", lat: 41.36, missingFirmataPort: join(dir, "no-tty") })
      : pillarDoc({ id: "tas-new-0002", lat: 41.36 });
    const newBytes = await writeConfig(candidate, newDoc, keys);
    const script = await bundleScript("test/provisioning/helpers/apply-child.ts");
    const child = new Child([script, configPath, candidate, keys.publicKeyPath], { PILLAR_APPLY_PAUSE_AT: point }, []);
    try {
      await child.waitFor(new RegExp(`PILLAR_APPLY_PAUSED ${point.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\n`));
      await child.kill("SIGKILL");
    } finally {
      await child.kill("SIGKILL");
    }
    expect(child.proc.signalCode).toBe("SIGKILL");
    expect(child.stdout).not.toContain("REPORT");

    // Right after the kill: a whole pair, old or new.
    const afterKill = await readPair(configPath, keys.publicKeyPath);
    expect([sha256Hex(oldBytes), sha256Hex(newBytes)]).toContain(afterKill.sha256);
    expect(afterKill.signatureValid).toBe(true);

    // Next start: recovery. Only a committed config survives; nothing temporary is left.
    const recovered = await recoverConfigDir(configPath, pino({ level: "silent" }));
    if (point.endsWith("temp-written")) expect(recovered.removedTemps).toHaveLength(1);
    const afterBoot = await readPair(configPath, keys.publicKeyPath);
    expect(afterBoot.signatureValid).toBe(true);
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith(".tmp") || n.endsWith(".trial"))).toEqual([]);
    const sigLines = (await readFile(`${configPath}.sig`, "utf8")).trim().split("\n");
    expect(sigLines).toHaveLength(1);
    // A .prev left behind is a whole pair too (or absent).
    if (names.includes("config.json.prev"))
      expect((await readPair(`${configPath}.prev`, keys.publicKeyPath)).signatureValid).toBe(true);
    else expect(names).not.toContain("config.json.prev.sig");
    return {
      afterKill: afterKill.sha256,
      afterBoot: afterBoot.sha256,
      oldSha: sha256Hex(oldBytes),
      newSha: sha256Hex(newBytes),
    };
  }

  // Each case has its own folder and child process: they run side by side (the child's start-up
  // is the cost, not the CPU).
  it.concurrent.for(SUCCESS_POINTS)("while applying a good config, killed at %s", async (point) => {
    const r = await crashAt(point, false);
    const renamed = SUCCESS_POINTS.indexOf(point) >= SUCCESS_POINTS.indexOf("config:config-renamed");
    expect(r.afterKill).toBe(renamed ? r.newSha : r.oldSha);
    // Committed only once the self-test passed; before that the next start rolls back.
    expect(r.afterBoot).toBe(point === "committed" ? r.newSha : r.oldSha);
  });

  it.concurrent.for(ROLLBACK_POINTS)(
    "while rolling back a config that failed its self-test, killed at %s",
    async (point) => {
      const r = await crashAt(point, true);
      expect([r.oldSha, r.newSha]).toContain(r.afterKill);
      expect(r.afterBoot).toBe(r.oldSha);
    },
  );
});
