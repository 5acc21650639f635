import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from "../bench/press-path.bench.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);
const SCRIPT = join(ROOT, "scripts/install.sh");
const UNIT = join(ROOT, "scripts/alarm-pillar.service");

async function install(...args: string[]): Promise<string> {
  const { stdout } = await run("bash", [SCRIPT, ...args], { cwd: ROOT, timeout: 120_000 });
  return stdout;
}

const mode = async (p: string) => ((await stat(p)).mode & 0o777).toString(8);

describe("scripts/install.sh (Raspberry Pi OS install) into a temporary root", () => {
  let target = "";
  const pubkey = join(ROOT, "config/keys/fleet.pub");

  beforeAll(async () => {
    target = await mkdtemp(join(tmpdir(), "pillar-root-"));
    // the script copies the built bundle: build it once if this checkout has none
  });
  afterAll(async () => {
    await rm(target, { recursive: true, force: true });
  });

  it("passes shellcheck", async () => {
    const { stdout, stderr } = await run("shellcheck", [SCRIPT]);
    expect(stdout + stderr).toBe("");
  });

  it("--dry-run says what it would do and changes nothing", async () => {
    const empty = await mkdtemp(join(tmpdir(), "pillar-dry-"));
    try {
      const out = await install("--dry-run", "--root", empty, "--no-npm", "--pubkey", pubkey);
      expect(out).toContain("would install /etc/systemd/system/alarm-pillar.service");
      expect(out).toContain("would create user alarm-pillar");
      expect(await readdir(empty)).toEqual([]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("installs the user, groups, udev rules, app, key and enabled unit; a second run changes nothing", async () => {
    const first = await install("--root", target, "--no-npm", "--pubkey", pubkey);
    expect(first).toContain("alarm-pillar: installed");

    const passwd = await readFile(join(target, "etc/passwd"), "utf8");
    expect(passwd).toMatch(/^alarm-pillar:x:\d+:\d+:.*:\/var\/lib\/alarm-pillar:\/usr\/sbin\/nologin$/m);
    const group = await readFile(join(target, "etc/group"), "utf8");
    for (const g of ["gpio", "video", "audio", "dialout"])
      expect(group).toMatch(new RegExp(`^${g}:x:\\d+:alarm-pillar$`, "m"));

    expect(await readFile(join(target, "etc/alarm-pillar/fleet.pub"), "utf8")).toBe(await readFile(pubkey, "utf8"));
    expect(await mode(join(target, "etc/alarm-pillar"))).toBe("750");
    expect(await mode(join(target, "var/lib/alarm-pillar"))).toBe("750");
    expect(await readFile(join(target, "etc/udev/rules.d/60-alarm-pillar.rules"), "utf8")).toContain("gpiochip");
    expect(existsSync(join(target, "opt/alarm-pillar/dist/pillar.mjs"))).toBe(true);
    expect(await readFile(join(target, "etc/systemd/system/alarm-pillar.service"), "utf8")).toBe(
      await readFile(UNIT, "utf8"),
    );
    // enabled: the wants link points at the unit inside the target root
    expect(await readlink(join(target, "etc/systemd/system/multi-user.target.wants/alarm-pillar.service"))).toBe(
      "/etc/systemd/system/alarm-pillar.service",
    );

    const second = await install("--root", target, "--no-npm", "--pubkey", pubkey);
    expect(second).toContain("already installed, nothing changed");
    expect(second).not.toMatch(/^installed /m);
  });

  it("refuses an invalid config with the field named, and installs a valid one owned by the pillar", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pillar-cfg-"));
    try {
      const bad = join(dir, "bad.json");
      const doc = JSON.parse(await readFile(join(ROOT, "config/examples/pi4-gpio.json"), "utf8"));
      await writeFile(bad, JSON.stringify({ ...doc, location: { ...doc.location, lat: 123 } }));
      const err = await install("--root", target, "--no-npm", "--config", bad).then(
        () => "",
        (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
      );
      expect(err).toContain("/location/lat");
      expect(existsSync(join(target, "etc/alarm-pillar/config.json"))).toBe(false);

      const good = join(dir, "good.json");
      await writeFile(good, JSON.stringify(doc));
      await install("--root", target, "--no-npm", "--config", good);
      expect(await mode(join(target, "etc/alarm-pillar/config.json"))).toBe("640");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the systemd unit", () => {
  it("passes systemd-analyze verify and asks for the watchdog and a read-only system", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pillar-unit-"));
    try {
      // verify checks that ExecStart's program exists: point it at this checkout's entry
      const text = (await readFile(UNIT, "utf8")).replace("/opt/alarm-pillar/bin/", `${ROOT}bin/`);
      const unit = join(dir, "alarm-pillar.service");
      await writeFile(unit, text.replace("/opt/alarm-pillar/dist/pillar.mjs", join(ROOT, "bin/pillar.mjs")));
      const { stdout, stderr } = await run("systemd-analyze", ["verify", unit]);
      expect(stdout + stderr).toBe("");
      expect(text).toMatch(/^Type=notify$/m);
      expect(text).toMatch(/^WatchdogSec=\d+$/m);
      expect(text).toMatch(/^NotifyAccess=all$/m);
      expect(text).toMatch(/^ProtectSystem=strict$/m);
      // the bench and the soak run the pillar as this unit does: the same Node flags and malloc settings
      expect(text).toContain(`/usr/bin/node ${SERVICE_NODE_FLAGS.join(" ")} `);
      for (const [k, v] of Object.entries(SERVICE_ENV))
        expect(text).toMatch(new RegExp(`^Environment=${k}=${v}$`, "m"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
