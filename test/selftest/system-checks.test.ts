import { appendFile, chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/validate-config.js";
import { readPrivateKey, signatureFileText } from "../../src/provisioning/config-signature.js";
import { ROOT } from "../support/child.js";
import { FirmataEmulator } from "../support/firmata-emulator.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SocatPair } from "../support/socat-pair.js";
import { waitFor } from "../support/wait.js";
import { line, SelftestRig, withSelftestRig } from "./helpers/selftest-rig.js";

/** Each system check passes on a healthy sim pillar and fails, saying why, on its injected fault. */
describe("config, clock, storage, broker, serial, tamper and button contact checks", () => {
  const { rig, broker } = withSelftestRig();
  const run = async (id: string) => line(await rig.run({ only: [id] }), id);

  it("all pass on a healthy pillar; the report is saved as JSON and HTML", async () => {
    const only = ["config", "software", "storage", "broker", "serial", "tamper", "button.contact"];
    const r = await rig.run({ only });
    for (const c of r.checks) expect(c.status, `${c.id}: ${c.detail}`).toBe("pass");
    expect(r.checks.map((c) => c.id)).toEqual([
      "config.valid",
      "config.signed",
      "software.version",
      "storage.write",
      "storage.free",
      "storage.journal",
      "broker.roundtrip",
      "serial.link",
      "tamper.state",
      "button.contact",
    ]);
    expect(r.ok).toBe(true);
    const saved = JSON.parse(await readFile(r.files!.json, "utf8"));
    expect(saved.runId).toBe(r.runId);
    expect(await readFile(r.files!.html, "utf8")).toMatch(/PASSED[\s\S]*broker: publish and receive/);
  }, 60_000);

  it("config.valid: a damaged config file (what the next boot reads) fails", async () => {
    const good = await readFile(rig.configPath, "utf8");
    await writeFile(rig.configPath, good.replace(/"id": "test-001"/, '"id": "NOT VALID"'));
    try {
      expect(await run("config.valid")).toMatchObject({
        status: "fail",
        detail: expect.stringMatching(/not valid.*pillar\/id/s),
      });
    } finally {
      await writeFile(rig.configPath, good);
    }
    expect((await run("config.valid")).status).toBe("pass");
  }, 30_000);

  it("config.signed: signed with the fleet key passes; changed after signing fails", async () => {
    const bytes = await readFile(rig.configPath);
    const key = await readPrivateKey(join(ROOT, "config/keys/fleet-dev.key"));
    await writeFile(`${rig.configPath}.sig`, signatureFileText(bytes, key));
    try {
      expect(await run("config.signed")).toMatchObject({
        status: "pass",
        detail: expect.stringMatching(/signed with fleet key/),
      });
      await writeFile(rig.configPath, Buffer.concat([bytes, Buffer.from(" ")]));
      expect(await run("config.signed")).toMatchObject({
        status: "fail",
        detail: expect.stringMatching(/changed after signing/),
      });
    } finally {
      await writeFile(rig.configPath, bytes);
      await rm(`${rig.configPath}.sig`, { force: true });
    }
  }, 30_000);

  it("clock.sync: the time daemon's answer decides (timedatectl faked at the OS boundary)", async () => {
    const bin = join(rig.dir, "bin");
    await mkdir(bin, { recursive: true });
    const fake = async (synced: string) => {
      await writeFile(join(bin, "timedatectl"), `#!/bin/sh\nprintf 'NTP=yes\\nNTPSynchronized=${synced}\\n'\n`);
      await chmod(join(bin, "timedatectl"), 0o755);
    };
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      await fake("no");
      expect(await run("clock.sync")).toMatchObject({
        status: "fail",
        detail: expect.stringMatching(/not synchronized/),
      });
      await fake("yes");
      expect(await run("clock.sync")).toMatchObject({ status: "pass", detail: expect.stringMatching(/synchronized/) });
    } finally {
      process.env.PATH = path;
    }
  }, 30_000);

  it("storage.write: a data folder that cannot take a file fails", async () => {
    const dir = join(rig.app.core.dataDir, "selftest");
    await rm(dir, { recursive: true, force: true });
    await writeFile(dir, "in the way");
    try {
      expect(await run("storage.write")).toMatchObject({
        status: "fail",
        detail: expect.stringMatching(/cannot write/),
      });
    } finally {
      await rm(dir, { force: true });
    }
    expect((await run("storage.write")).status).toBe("pass");
  }, 30_000);

  it("storage.free: less free space than selftest.minFreeMb fails", async () => {
    const doc = JSON.parse(await readFile(rig.configPath, "utf8"));
    expect(await rig.app.applyConfig(validateConfig({ ...doc, selftest: { minFreeMb: 1_000_000 } }))).toBe("live");
    try {
      expect(await run("storage.free")).toMatchObject({
        status: "fail",
        detail: expect.stringMatching(/MB free.*< 1000000 MB/),
      });
    } finally {
      await rig.app.applyConfig(validateConfig(doc));
    }
    expect((await run("storage.free")).status).toBe("pass");
  }, 30_000);

  it("storage.journal: damaged bytes in the outbox journal fail", async () => {
    await appendFile(join(rig.app.core.dataDir, "outbox.journal"), Buffer.from("torn write: not a record at all"));
    const c = await run("storage.journal");
    expect(c).toMatchObject({ status: "fail", detail: expect.stringMatching(/damaged bytes/) });
    expect(c.data!.damagedBytes as number).toBeGreaterThan(0);
  }, 30_000);

  it("serial.link: a dead co-processor link fails", async () => {
    await rig.http("POST", "/sim/serial/dead");
    try {
      expect(await run("serial.link")).toMatchObject({ status: "fail", detail: expect.stringMatching(/no answer/) });
    } finally {
      await rig.http("POST", "/sim/serial/alive");
    }
    expect((await run("serial.link")).status).toBe("pass");
  }, 30_000);

  it("tamper.state: an open door fails (an optional check: the report still passes)", async () => {
    await rig.http("POST", "/sim/tamper/open");
    try {
      const r = await rig.run({ only: ["tamper"] });
      expect(line(r, "tamper.state")).toMatchObject({
        status: "fail",
        required: false,
        detail: expect.stringMatching(/open/),
      });
      expect(r.ok).toBe(true);
    } finally {
      await rig.http("POST", "/sim/tamper/close");
    }
  }, 30_000);

  it("button.contact: a stuck contact fails, and so does a failed line", async () => {
    await rig.http("POST", "/sim/button/press");
    try {
      expect(await run("button.contact")).toMatchObject({ status: "fail", detail: expect.stringMatching(/stuck/) });
    } finally {
      await rig.http("POST", "/sim/button/release");
    }
    await rig.http("POST", "/sim/button/fail");
    try {
      expect(await run("button.contact")).toMatchObject({
        status: "fail",
        detail: expect.stringMatching(/line is failed/),
      });
    } finally {
      await rig.http("POST", "/sim/button/restore");
    }
    expect((await run("button.contact")).status).toBe("pass");
  }, 30_000);

  it("broker.roundtrip: an unreachable broker fails", async () => {
    await broker.stop();
    expect(await run("broker.roundtrip")).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(/not connected/),
    });
  }, 30_000);
});

/** serial.link on the real Firmata driver: a co-processor on a socat pty pair (the emulator) that stops answering. */
describe("serial.link on the Firmata driver", () => {
  const broker = new TestMosquitto();
  const socat = new SocatPair();
  let emu: FirmataEmulator;
  let rig: SelftestRig;
  beforeAll(async () => {
    await broker.start();
    await socat.start();
    emu = new FirmataEmulator({ path: socat.a });
    await emu.start();
    rig = new SelftestRig({
      hal: {
        driver: "firmata",
        firmata: { port: socat.b, heartbeatMs: 200 },
        inputs: { button: { pin: 2 }, tamper: { pin: 3, activeLow: false } },
        outputs: { ready: { pin: 8 }, alarm: { pin: 9 }, answered: { pin: 10 }, strobe: { pin: 11 } },
      },
    });
    await rig.start(broker.url);
  }, 60_000);
  afterAll(async () => {
    await rig?.stop();
    await emu?.stop();
    await socat.kill();
    await broker.dispose();
  });

  it("passes while the co-processor answers its heartbeat, fails once it hangs, passes again after", async () => {
    const run = async () => line(await rig.run({ only: ["serial"] }), "serial.link");
    expect(await run()).toMatchObject({ status: "pass", detail: expect.stringMatching(/firmata .*answers/) });
    emu.freeze(true); // a hung co-processor: the port stays open, nothing comes back
    try {
      await waitFor(async () => (await run()).status === "fail", "serial.link failing");
      expect(await run()).toMatchObject({ status: "fail", detail: expect.stringMatching(/no answer/) });
    } finally {
      emu.freeze(false);
    }
    await waitFor(async () => (await run()).status === "pass", "serial.link passing again");
  }, 60_000);
});
