import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/config-errors.js";
import { loadConfigFile, migrateConfigFile } from "../../src/config/load-config.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { configReferenceMarkdown, schemaJsonText } from "../../scripts/gen-config-docs.js";
import { testConfigDoc } from "../support/sim-pillar.js";

const run = promisify(execFile);
const pillar = (...args: string[]) =>
  run(process.execPath, ["bin/pillar.mjs", ...args]).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );

function problemsOf(doc: unknown): { path: string; message: string }[] {
  try {
    validateConfig(doc, "t");
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

describe("config validation", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "config-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("accepts every example config and fills defaults", async () => {
    const files = (await readdir("config/examples")).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const raw = JSON.parse(await readFile(join("config/examples", f), "utf8")) as Record<string, any>;
      const c = await loadConfigFile(join("config/examples", f));
      // what the file says is kept; what it leaves out is the schema's default
      expect(c.pillar.id).toBe(raw.pillar.id);
      expect(c.location).toMatchObject(raw.location);
      expect(c.button.debounceMs).toBe(raw.button?.debounceMs ?? 20);
      expect(c.heartbeat.intervalS).toBe(raw.heartbeat?.intervalS ?? 30);
    }
    const sim = await loadConfigFile("config/examples/sim.json");
    expect(sim.button).toEqual({ debounceMs: 20, stuckAfterS: 60 });
  });

  it("lists every schema error with its JSON path", () => {
    const doc = testConfigDoc({
      pillar: { id: "Bad Id" },
      location: { lat: 91, lon: -181, address: "", district: "x" },
      colour: "red",
    });
    doc.broker.url = "http://nope";
    doc.hal.driver = "usb";
    const p = problemsOf(doc);
    const paths = p.map((x) => x.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "/pillar/id",
        "/location/lat",
        "/location/lon",
        "/location/address",
        "/broker/url",
        "/hal/driver",
        "/colour",
      ]),
    );
    expect(p.find((x) => x.path === "/location/lat")!.message).toContain("<= 90");
    expect(p.find((x) => x.path === "/colour")!.message).toBe("is not a known field");
  });

  it("names a missing required field", () => {
    const doc = testConfigDoc();
    delete doc.location;
    expect(problemsOf(doc)).toContainEqual({ path: "/location", message: "is required" });
  });

  it("refuses a pin used twice and a driver without its settings", () => {
    const doc = testConfigDoc();
    doc.hal.outputs.strobe.pin = 17;
    doc.hal.driver = "firmata";
    const p = problemsOf(doc);
    expect(p).toContainEqual({
      path: "/hal/outputs/strobe/pin",
      message: "pin 17 is already used by /hal/inputs/button/pin",
    });
    expect(p.map((x) => x.path)).toContain("/hal/firmata");
  });

  it("refuses a version newer than the software and names a JSON syntax error's line", async () => {
    expect(problemsOf(testConfigDoc({ version: 7 }))[0]).toMatchObject({ path: "/version" });
    const f = join(dir, "syntax.json");
    await writeFile(f, '{\n  "version": 1,\n  "pillar": { "id": "x" ,, }\n}\n');
    await expect(loadConfigFile(f)).rejects.toThrow(/line 3/);
  });

  it("migrates a version-0 file, keeping a backup", async () => {
    const f = join(dir, "old.json");
    const v1 = testConfigDoc({ dataDir: dir });
    const { version: _v, pillar, location, ...rest } = v1;
    const old = {
      ...rest,
      pillarId: pillar.id,
      lat: location.lat,
      lon: location.lon,
      address: location.address,
      district: location.district,
    };
    await writeFile(f, JSON.stringify(old));
    const backup = await migrateConfigFile(f);
    expect(backup).toBe(`${f}.v0.bak`);
    expect(JSON.parse(await readFile(backup!, "utf8"))).toEqual(old);
    const migrated = await loadConfigFile(f);
    expect(migrated.version).toBe(1);
    expect(migrated.location.district).toBe(location.district);
    expect(await migrateConfigFile(f)).toBeNull();
  });

  it("`pillar config validate` prints every error with its path and exits non-zero", async () => {
    const f = join(dir, "bad.json");
    const doc = testConfigDoc({ location: { lat: 100, lon: 69, address: "a", district: "" } });
    doc.hal.inputs.tamper.pin = 17;
    await writeFile(f, JSON.stringify(doc));
    const bad = await pillar("config", "validate", f);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("/location/lat: must be <= 90");
    expect(bad.err).toContain("/location/district");
    const ok = await pillar("config", "validate", "config/examples/sim.json");
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("valid");
  });

  it("the cross-field check runs once the schema passes (pin clash via the CLI)", async () => {
    const f = join(dir, "clash.json");
    const doc = testConfigDoc();
    doc.hal.inputs.tamper.pin = 17;
    await writeFile(f, JSON.stringify(doc));
    const r = await pillar("config", "validate", f);
    expect(r.code).toBe(1);
    expect(r.err).toContain("/hal/inputs/tamper/pin: pin 17 is already used by /hal/inputs/button/pin");
  });

  it("the checked-in JSON Schema and config reference match config/schema.ts", async () => {
    expect(await readFile("config/pillar-config.schema.json", "utf8")).toBe(schemaJsonText());
    expect(await readFile("docs/config-reference.md", "utf8")).toBe(configReferenceMarkdown());
  });
});
