import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PillarConfig } from "../../config/schema.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { ConfigApplier } from "../../src/provisioning/config-applier.js";
import { keyIdOf, readPublicKey, verifyConfigSignature } from "../../src/provisioning/config-signature.js";
import {
  DEV_FLEET_PUBKEY,
  generateFleetKeys,
  resolveFleetPublicKey,
  type GeneratedKeys,
} from "../../src/provisioning/fleet-keys.js";
import { Child } from "../support/child.js";
import { configBytes, pillarDoc, readPair, writeConfig } from "./helpers/fixtures.js";

describe("fleet keys and config signatures", () => {
  let dir: string;
  let keys: GeneratedKeys;
  let other: GeneratedKeys;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sign-"));
    const cli = Child.cli(["keys", "generate", "--out", join(dir, "fleet")]);
    expect(await cli.exited).toBe(0);
    const keyId = /key id:\s+([0-9a-f]{16})/.exec(cli.stdout)![1]!;
    keys = { privateKeyPath: join(dir, "fleet/fleet.key"), publicKeyPath: join(dir, "fleet/fleet.pub"), keyId };
    other = await generateFleetKeys(join(dir, "other"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keys generate writes an Ed25519 pair, the private key with mode 0600, and never overwrites", async () => {
    expect((await stat(keys.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect(keyIdOf(await readPublicKey(keys.publicKeyPath))).toBe(keys.keyId);
    const again = Child.cli(["keys", "generate", "--out", join(dir, "fleet")]);
    expect(await again.exited).toBe(1);
    expect(again.stderr).toMatch(/already exists: refusing to overwrite a key/);
  });

  it("config validate --key accepts a signed file and fails on a tampered one", async () => {
    const path = join(dir, "p1.json");
    await writeConfig(path, pillarDoc({ id: "tas-p1-0001" }), keys);
    const ok = Child.cli(["config", "validate", path, "--key", keys.publicKeyPath]);
    expect(await ok.exited).toBe(0);
    expect(ok.stdout).toContain(`signed by key ${keys.keyId}`);
    const signed = await readFile(path, "utf8");
    const tampered = signed.replace("Гоголь көшесі, 1", "Гоголь көшесі, 2");
    expect(tampered).not.toBe(signed); // the edit really changes the signed bytes
    await writeFile(path, tampered);
    const bad = Child.cli(["config", "validate", path, "--key", keys.publicKeyPath]);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr).toMatch(/was changed after signing/);
    await expect(verifyConfigSignature(path, keys.publicKeyPath)).rejects.toMatchObject({ code: "tampered" });
  });

  it("names a signature by another key and a missing signature", async () => {
    const path = join(dir, "p2.json");
    await writeConfig(path, pillarDoc({ id: "tas-p2-0001" }), other);
    await expect(verifyConfigSignature(path, keys.publicKeyPath)).rejects.toThrow(
      `is signed with key ${other.keyId}, but this pillar trusts key ${keys.keyId}`,
    );
    const unsigned = join(dir, "p3.json");
    await writeConfig(unsigned, pillarDoc({ id: "tas-p3-0001" }));
    await expect(verifyConfigSignature(unsigned, keys.publicKeyPath)).rejects.toMatchObject({ code: "unsigned" });
  });

  describe("the applier's signature policy", () => {
    async function applierFor(running: PillarConfig, configPath: string, publicKeyPath?: string) {
      const applied: string[] = [];
      const applier = new ConfigApplier({
        configPath,
        current: () => running,
        applyConfig: async (c) => void applied.push(c.pillar.id),
        publicKeyPath,
        log: pino({ level: "silent" }),
      });
      return { applier, applied };
    }

    it("a production pillar refuses unsigned, foreign-key and tampered configs and keeps its own", async () => {
      const path = join(dir, "prod.json");
      const oldBytes = await writeConfig(path, pillarDoc({ id: "tas-prod-0001" }), keys);
      const running = validateConfig(JSON.parse(oldBytes.toString()));
      const { applier, applied } = await applierFor(running, path, keys.publicKeyPath);
      const next = configBytes(pillarDoc({ id: "tas-prod-0002", mode: "development" }));
      const unsigned = await applier.apply({ bytes: next, source: "test" });
      expect(unsigned).toMatchObject({ ok: false, stage: "verify", code: "unsigned" });
      expect(unsigned.message).toMatch(/this pillar is in production mode and the config is not signed/);
      const foreign = join(dir, "foreign.json");
      await writeConfig(foreign, pillarDoc({ id: "tas-prod-0002" }), other);
      const r2 = await applier.apply({
        bytes: await readFile(foreign),
        signature: await readFile(`${foreign}.sig`, "utf8"),
        source: "test",
      });
      expect(r2).toMatchObject({ ok: false, code: "wrong_key" });
      const good = join(dir, "good.json");
      const goodBytes = await writeConfig(good, pillarDoc({ id: "tas-prod-0002" }), keys);
      const tampered = Buffer.from(goodBytes.toString().replace("tas-prod-0002", "tas-prod-0003"));
      const r3 = await applier.apply({
        bytes: tampered,
        signature: await readFile(`${good}.sig`, "utf8"),
        source: "test",
      });
      expect(r3).toMatchObject({ ok: false, code: "tampered" });
      expect(applied).toEqual([]);
      expect((await readFile(path)).equals(oldBytes)).toBe(true);
      const r4 = await applier.apply({
        bytes: goodBytes,
        signature: await readFile(`${good}.sig`, "utf8"),
        source: "test",
      });
      expect(r4).toMatchObject({ ok: true, code: "applied", signed: true, keyId: keys.keyId, rolledBack: false });
      expect(applied).toEqual(["tas-prod-0002"]);
      expect((await readPair(path, keys.publicKeyPath)).config.pillar.id).toBe("tas-prod-0002");
    });

    it("a development pillar takes an unsigned config, but still refuses a tampered signed one", async () => {
      const path = join(dir, "dev.json");
      const oldBytes = await writeConfig(path, pillarDoc({ id: "tas-dev-0001", mode: "development" }));
      const running = validateConfig(JSON.parse(oldBytes.toString()));
      const { applier, applied } = await applierFor(running, path, keys.publicKeyPath);
      const good = join(dir, "dev-next.json");
      const bytes = await writeConfig(good, pillarDoc({ id: "tas-dev-0002", mode: "development" }), keys);
      const forged = (await readFile(`${good}.sig`, "utf8")).replace(
        / (\S)(\S+)\n$/,
        (_m, c: string, rest: string) => ` ${c === "A" ? "B" : "A"}${rest}\n`,
      );
      expect(await applier.apply({ bytes, signature: forged, source: "test" })).toMatchObject({
        ok: false,
        code: "bad_signature",
      });
      expect(await applier.apply({ bytes, source: "test" })).toMatchObject({ ok: true, signed: false });
      expect(applied).toEqual(["tas-dev-0002"]);
    });

    it("an invalid config is refused with every problem by path", async () => {
      const path = join(dir, "inv.json");
      const oldBytes = await writeConfig(path, pillarDoc({ id: "tas-inv-0001", mode: "development" }));
      const { applier } = await applierFor(validateConfig(JSON.parse(oldBytes.toString())), path, keys.publicKeyPath);
      const doc = pillarDoc({ id: "tas-inv-0002", mode: "development", lat: 95 }) as { broker: { url: string } };
      doc.broker.url = "http://wrong";
      const r = await applier.apply({ bytes: Buffer.from(JSON.stringify(doc)), source: "test" });
      expect(r).toMatchObject({ ok: false, code: "invalid_config" });
      expect(r.problems?.map((p) => p.path).sort()).toEqual(["/broker/url", "/location/lat"]);
    });

    it("a production pillar never trusts the repository's development key", async () => {
      const prod = validateConfig(pillarDoc({ id: "tas-k-0001" }));
      const dev = validateConfig(pillarDoc({ id: "tas-k-0001", mode: "development" }));
      const saved = process.env.PILLAR_FLEET_PUBKEY;
      delete process.env.PILLAR_FLEET_PUBKEY;
      try {
        expect(await resolveFleetPublicKey(dev)).toBe(DEV_FLEET_PUBKEY);
        expect(await resolveFleetPublicKey(prod)).not.toBe(DEV_FLEET_PUBKEY);
        expect(await resolveFleetPublicKey(prod, keys.publicKeyPath)).toBe(keys.publicKeyPath);
      } finally {
        if (saved !== undefined) process.env.PILLAR_FLEET_PUBKEY = saved;
      }
    });
  });
});
