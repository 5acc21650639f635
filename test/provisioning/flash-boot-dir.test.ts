import { access, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/validate-config.js";
import { importBootDirConfig } from "../../src/provisioning/boot-dir-config.js";
import { ConfigApplier } from "../../src/provisioning/config-applier.js";
import { verifyConfigSignature } from "../../src/provisioning/config-signature.js";
import type { GeneratedKeys } from "../../src/provisioning/fleet-keys.js";
import { Child } from "../support/child.js";
import { pillarDoc, readPair, testKeys, writeConfig } from "./helpers/fixtures.js";

describe("pillar flash --dir (boot partition)", () => {
  let dir: string;
  let keys: GeneratedKeys;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bootdir-"));
    keys = await testKeys(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes config + signature into BOOT/alarm-pillar/, and the pillar imports it once on start", async () => {
    const boot = join(dir, "boot");
    const site = join(dir, "site.json");
    const bytes = await writeConfig(
      site,
      pillarDoc({ id: "tas-boot-0001", lat: 41.2258, address: "Yangi Sergeli Street 3" }),
      keys,
    );
    const cli = Child.cli(["flash", site, "--dir", boot]);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout).toMatch(/written .*alarm-pillar\/config\.json \(\+ \.sig\)/);
    const written = join(boot, "alarm-pillar/config.json");
    expect((await readFile(written)).equals(bytes)).toBe(true);
    await verifyConfigSignature(written, keys.publicKeyPath);
    expect((await readdir(join(boot, "alarm-pillar"))).sort()).toEqual(["config.json", "config.json.sig"]);

    // The pillar, on start, with its factory config:
    const configPath = join(dir, "config.json");
    const factory = await writeConfig(configPath, pillarDoc({ id: "tas-factory-0000" }), keys);
    let running = validateConfig(JSON.parse(factory.toString()));
    const applier = new ConfigApplier({
      configPath,
      current: () => running,
      applyConfig: async (c) => void (running = c),
      publicKeyPath: keys.publicKeyPath,
      log: pino({ level: "silent" }),
    });
    const report = await importBootDirConfig(boot, applier);
    expect(report).toMatchObject({ ok: true, pillarId: "tas-boot-0001", signed: true });
    expect(running.location.address).toBe("Yangi Sergeli Street 3");
    expect((await readPair(configPath, keys.publicKeyPath)).config.pillar.id).toBe("tas-boot-0001");
    expect((await readdir(join(boot, "alarm-pillar"))).sort()).toEqual([
      "config.json.applied",
      "config.json.sig.applied",
    ]);
    expect(await importBootDirConfig(boot, applier)).toBeNull();
  });

  it("a tampered boot-partition config is refused, marked as refused, and the pillar keeps its config", async () => {
    const boot = join(dir, "boot2");
    const site = join(dir, "site2.json");
    await writeConfig(site, pillarDoc({ id: "tas-boot-0002" }), keys);
    const cli = Child.cli(["flash", site, "--dir", boot]);
    expect(await cli.exited).toBe(0);
    const written = join(boot, "alarm-pillar/config.json");
    await writeFile(written, (await readFile(written, "utf8")).replace("tas-boot-0002", "tas-evil-0002"));
    const configPath = join(dir, "config2.json");
    const factory = await writeConfig(configPath, pillarDoc({ id: "tas-factory-0000" }), keys);
    const running = validateConfig(JSON.parse(factory.toString()));
    const applier = new ConfigApplier({
      configPath,
      current: () => running,
      applyConfig: async () => undefined,
      publicKeyPath: keys.publicKeyPath,
      log: pino({ level: "silent" }),
    });
    const report = await importBootDirConfig(boot, applier);
    expect(report).toMatchObject({ ok: false, code: "tampered" });
    expect((await readFile(configPath)).equals(factory)).toBe(true);
    await expect(access(join(boot, "alarm-pillar/config.json.refused"))).resolves.toBeUndefined();
  });
});
