import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DISTRICTS, generateAlmatyFleet } from "../../scripts/gen-fleet-inventory.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { sha256Hex, verifyConfigSignature } from "../../src/provisioning/config-signature.js";
import { buildFleet, readManifest, signFleet } from "../../src/provisioning/fleet-builder.js";
import { buildInventory, InventoryError } from "../../src/provisioning/fleet-inventory.js";
import { parseCsv } from "../../src/provisioning/csv-parser.js";
import type { GeneratedKeys } from "../../src/provisioning/fleet-keys.js";
import { Child, ROOT } from "../support/child.js";
import { testKeys } from "./helpers/fixtures.js";

const SITES = join(ROOT, "config/examples/fleet/sites.csv");
const DEFAULTS = join(ROOT, "config/examples/fleet/defaults.json");

describe("pillar fleet build", () => {
  let dir: string;
  let keys: GeneratedKeys;
  let sitesText: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fleet-"));
    keys = await testKeys(dir);
    sitesText = await readFile(SITES, "utf8");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The example inventory with line `line` (1-based) rewritten. */
  async function variant(name: string, edit: (lines: string[]) => void): Promise<string> {
    const lines = sitesText.split("\r\n");
    edit(lines);
    const path = join(dir, name);
    await writeFile(path, lines.join("\r\n"));
    return path;
  }

  it("the committed example inventories are what scripts/gen-fleet-inventory.ts makes: Almaty, 250 + 100 planned", async () => {
    const { current, planned } = generateAlmatyFleet();
    expect(sitesText).toBe(current);
    const plannedText = await readFile(join(ROOT, "config/examples/fleet/planned-sites.csv"), "utf8");
    expect(plannedText).toBe(planned);
    const defaults = JSON.parse(await readFile(DEFAULTS, "utf8"));
    const now = buildInventory(sitesText, defaults, "sites.csv");
    const later = buildInventory(plannedText, defaults, "planned-sites.csv");
    expect(now).toHaveLength(250);
    expect(later).toHaveLength(100);
    expect(new Set([...now, ...later].map((r) => r.id)).size).toBe(350);
    for (const d of DISTRICTS) {
      const here = now.filter((r) => r.config.location.district === d.name);
      expect(here.length).toBeGreaterThanOrEqual(30);
      for (const r of [...here, ...later.filter((x) => x.config.location.district === d.name)]) {
        expect(r.id).toMatch(new RegExp(`^ala-${d.code}-\\d{4}$`));
        // inside the district's circle (docs in the script): km from its centre
        const { lat, lon } = r.config.location;
        const km = Math.hypot((lat - d.lat) * 111.32, (lon - d.lon) * 111.32 * Math.cos((d.lat * Math.PI) / 180));
        expect(km).toBeLessThanOrEqual(d.radiusKm + 0.01);
        // Kazakh / Russian
        expect(r.config.location.address).toMatch(/[әғқңөұүһі].* \/ .*[а-я]/i);
      }
    }
  });

  it("builds and signs 250 valid configs from the example, with a manifest of their sha256", async () => {
    const out = join(dir, "out-example");
    const cli = Child.cli([
      "fleet",
      "build",
      "--inventory",
      SITES,
      "--defaults",
      DEFAULTS,
      "--out",
      out,
      "--key",
      keys.privateKeyPath,
    ]);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout).toMatch(/^250 configs written to .*, signed with key [0-9a-f]{16}/);
    const rows = parseCsv(sitesText).slice(1);
    const manifest = await readManifest(out);
    expect(manifest.count).toBe(rows.length);
    expect(manifest.pillars.map((p) => p.id)).toEqual(rows.map((r) => r.fields[0]));
    for (const [i, p] of manifest.pillars.entries()) {
      const path = join(out, p.file);
      const bytes = await readFile(path);
      expect(sha256Hex(bytes)).toBe(p.sha256);
      const config = validateConfig(JSON.parse(bytes.toString("utf8")));
      const f = rows[i]!.fields;
      expect(config.pillar.id).toBe(f[0]);
      expect(config.location).toEqual({ lat: Number(f[2]), lon: Number(f[3]), address: f[4], district: f[5] });
      expect(config.broker.clientId).toBe(f[6]);
      expect(config.heartbeat.intervalS).toBe(f[7] ? Number(f[7]) : 30);
      expect(config.pillar.mode).toBe("production");
      expect((await verifyConfigSignature(path, keys.publicKeyPath)).keyId).toBe(manifest.keyId);
      expect(p.line).toBe(rows[i]!.line);
    }
    await verifyConfigSignature(join(out, "manifest.json"), keys.publicKeyPath);
    const verify = Child.cli(["fleet", "verify", "--key", keys.publicKeyPath, out]);
    expect(await verify.exited).toBe(0);
    expect(verify.stdout).toContain("251 of 251 files carry a valid signature");
  });

  it("a bad coordinate fails the build naming the CSV line and column; nothing is written", async () => {
    const inv = await variant("sites.csv", (l) => {
      l[16] = l[16]!.replace(/,(43\.\d+),/, ",123.4,");
    });
    const out = join(dir, "out-bad-lat");
    const cli = Child.cli([
      "fleet",
      "build",
      "--inventory",
      inv,
      "--defaults",
      DEFAULTS,
      "--out",
      out,
      "--key",
      keys.privateKeyPath,
    ]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toContain('sites.csv:17: column "lat": 123.4 is not between -90 and 90');
    expect(cli.stderr).toContain(`nothing was written to ${out}`);
    await expect(access(out)).rejects.toThrow();
    expect((await readdir(dir)).filter((n) => n.includes("staging"))).toEqual([]);
  });

  it("a duplicate id fails naming both lines", async () => {
    const firstId = parseCsv(sitesText)[1]!.fields[0]!;
    const inv = await variant("dup.csv", (l) => {
      l[41] = l[41]!.replace(/^[^,]+/, firstId);
    });
    const out = join(dir, "out-dup");
    await expect(buildFleet({ inventoryPath: inv, defaultsPath: DEFAULTS, outDir: out })).rejects.toThrow(
      `dup.csv:42: column "id": "${firstId}" is already used on line 2`,
    );
    await expect(access(out)).rejects.toThrow();
  });

  it("counts lines through quoted line breaks and reports every problem of every row", async () => {
    const inv = join(dir, "multi.csv");
    await writeFile(
      inv,
      `${[
        "id,name,lat,lon,address,district,heartbeat.intervalS",
        'tas-a-01,"Two-line\nname",41.3,69.2,"Navoi Street 1",Shaykhontohur,',
        "tas-a-02,ok,abc,69.2,Navoi Street 2,Shaykhontohur,",
        "tas-a-03,ok,41.3,200,Navoi Street 3,,",
        "Bad_Id,ok,41.3,69.2,Navoi Street 4,Shaykhontohur,0",
        "tas-a-05,ok,41.3,69.2",
      ].join("\n")}\n`,
    );
    const err = await buildFleet({ inventoryPath: inv, defaultsPath: DEFAULTS, outDir: join(dir, "out-multi") }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InventoryError);
    const text = (err as InventoryError).message.split("\n");
    expect(text).toEqual([
      'multi.csv:4: column "lat": "abc" is not a number',
      'multi.csv:5: column "lon": 200 is not between -180 and 180',
      'multi.csv:5: column "district": is empty',
      'multi.csv:6: column "id": "Bad_Id" must be 2 to 63 characters of lower-case letters a-z, digits 0-9 and hyphens, not starting with a hyphen',
      'multi.csv:6: column "heartbeat.intervalS": "0" must be >= 1',
      "multi.csv:7: has 4 fields, the header has 7",
    ]);
  });

  it("prints five different bad rows in one run, each rule in words", async () => {
    const inv = join(dir, "five.csv");
    await writeFile(
      inv,
      `${[
        "id,name,lat,lon,address,district,broker_client_id",
        "ala-med-0001,ok,43.23,76.95,Dostyk Avenue 1,Medeu,",
        "Ala_Med_2,bad id,43.23,76.95,Dostyk Avenue 2,Medeu,",
        "ala-med-0003,bad lat,43.2x,76.95,Dostyk Avenue 3,Medeu,",
        "ala-med-0004,no district,43.23,76.95,Dostyk Avenue 4,,",
        "ala-med-0001,same id,43.23,76.95,Dostyk Avenue 5,Medeu,",
        "ala-med-0006,same client,43.23,76.95,Dostyk Avenue 6,Medeu,pillar-ala-med-0001",
        "ala-med-0007,ok,43.23,76.95,Dostyk Avenue 7,Medeu,",
      ].join("\n")}\n`,
    );
    const out = join(dir, "out-five");
    const cli = Child.cli(["fleet", "build", "--inventory", inv, "--defaults", DEFAULTS, "--out", out]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr.trim().split("\n")).toEqual([
      'five.csv:3: column "id": "Ala_Med_2" must be 2 to 63 characters of lower-case letters a-z, digits 0-9 and hyphens, not starting with a hyphen',
      'five.csv:4: column "lat": "43.2x" is not a number',
      'five.csv:5: column "district": is empty',
      'five.csv:6: column "id": "ala-med-0001" is already used on line 2',
      'five.csv:7: column "broker_client_id": "pillar-ala-med-0001" is already used on line 2',
      `5 problem(s); nothing was written to ${out}`,
    ]);
    await expect(access(out)).rejects.toThrow();
  });

  it("a missing inventory or defaults file is a one-line error", async () => {
    const cli = Child.cli([
      "fleet",
      "build",
      "--inventory",
      join(dir, "nope.csv"),
      "--defaults",
      DEFAULTS,
      "--out",
      join(dir, "o"),
    ]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr.trim()).toBe(`pillar fleet: cannot read the inventory ${join(dir, "nope.csv")}: no such file`);
  });

  it("refuses an unknown column and a missing required one, at the header line", async () => {
    const inv = join(dir, "header.csv");
    await writeFile(inv, "id,name,lat,address,district,colour\ntas-a-01,x,41.3,Navoi 1,Mirabad,red\n");
    await expect(
      buildFleet({ inventoryPath: inv, defaultsPath: DEFAULTS, outDir: join(dir, "out-h") }),
    ).rejects.toThrow(
      /header\.csv:1: column "colour": unknown column[^\n]*\nheader\.csv:1: column "lon": required column is missing/,
    );
  });

  it("does not write into a folder that is not empty", async () => {
    const out = join(dir, "out-full");
    await mkdir(out);
    await writeFile(join(out, "keep.txt"), "x");
    await expect(buildFleet({ inventoryPath: SITES, defaultsPath: DEFAULTS, outDir: out })).rejects.toThrow(
      /not an empty folder/,
    );
    expect(await readdir(out)).toEqual(["keep.txt"]);
  });

  it("fleet sign signs an unsigned build, and refuses a config edited after the build", async () => {
    const out = join(dir, "out-unsigned");
    const m = await buildFleet({ inventoryPath: SITES, defaultsPath: DEFAULTS, outDir: out });
    expect(m.keyId).toBeNull();
    await expect(access(join(out, `${m.pillars[0]!.file}.sig`))).rejects.toThrow();
    const r = await signFleet(out, keys.privateKeyPath);
    expect(r.signed).toHaveLength(m.count);
    await verifyConfigSignature(join(out, m.pillars[5]!.file), keys.publicKeyPath);
    const edited = join(out, m.pillars[7]!.file);
    await writeFile(edited, (await readFile(edited, "utf8")).replace('"lat": 4', '"lat": 5'));
    await expect(verifyConfigSignature(edited, keys.publicKeyPath)).rejects.toThrow(/was changed after signing/);
    await expect(signFleet(out, keys.privateKeyPath)).rejects.toThrow(
      new RegExp(`changed since the build.*${m.pillars[7]!.file}`),
    );
  });
});
