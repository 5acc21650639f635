import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARM64_NODE, arm64Launcher, ELF_MACHINE, elfMachine, runArm64 } from "../support/arm64.js";
import { TestCenter } from "../support/center.js";
import { ROOT } from "../support/child.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { SocatPair } from "../support/socat-pair.js";

const run = promisify(execFile);

/**
 * The production bundle as scripts/install.sh lays it out for a Pi (`--arch arm64`: npm takes the
 * arm64 prebuilt native modules), run by arm64 Node.js under qemu-user. Behaviour only: nothing
 * here measures time. What only a real Pi shows (GPIO, the CSI camera, ALSA) is in docs/arm64.md.
 */
describe("the production bundle on the Pi's architecture (arm64, emulated)", () => {
  let root = "";
  let app = "";
  let mosquitto: TestMosquitto;
  let center: TestCenter;
  let pillar: PillarProcess | undefined;

  beforeAll(async () => {
    arm64Launcher(); // fails at once, naming the set-up command, when a part is missing
    root = await mkdtemp(join(tmpdir(), "pillar-arm64-"));
    await run(
      "bash",
      [
        join(ROOT, "scripts/install.sh"),
        "--root",
        root,
        "--no-packages",
        "--arch",
        "arm64",
        "--pubkey",
        join(ROOT, "config/keys/fleet.pub"),
      ],
      { cwd: ROOT, timeout: 240_000 },
    );
    app = join(root, "opt/alarm-pillar");
    mosquitto = await new TestMosquitto().start();
    center = await new TestCenter(mosquitto.url).start();
  }, 300_000);

  afterAll(async () => {
    await pillar?.kill("SIGKILL");
    await center?.stop();
    await mosquitto?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("installs the arm64 native modules; on arm64 Node.js node-datachannel offers video and serialport moves bytes over a socat pty", async () => {
    expect(await elfMachine(ARM64_NODE)).toBe(ELF_MACHINE.aarch64);
    const datachannel = join(app, "node_modules/@node-datachannel/linux-arm64-gnu/node_datachannel.node");
    const serial = join(
      app,
      "node_modules/@serialport/bindings-cpp/prebuilds/linux-arm64/@serialport+bindings-cpp.armv8.glibc.node",
    );
    expect(await elfMachine(datachannel)).toBe(ELF_MACHINE.aarch64);
    expect(await elfMachine(serial)).toBe(ELF_MACHINE.aarch64);

    const pair = await new SocatPair().start();
    try {
      // one emulated process (each start costs seconds of emulation): the installed tree's own
      // resolution, as the bundle imports them
      const script = [
        'import { PeerConnection, Video } from "node-datachannel";',
        'import { SerialPort } from "serialport";',
        'const pc = new PeerConnection("probe", { iceServers: [] });',
        'pc.addTrack(new Video("v", "SendOnly"));',
        "pc.setLocalDescription();",
        "const video = (pc.localDescription()?.sdp ?? '').includes('m=video');",
        "pc.close();",
        // without it libdatachannel's threads hold the process for seconds at its exit
        '(await import("node-datachannel")).cleanup();',
        `const port = new SerialPort({ path: ${JSON.stringify(pair.a)}, baudRate: 57600 });`,
        'await new Promise((ok, no) => { port.once("open", ok); port.once("error", no); });',
        'port.write("ping\\n");',
        "let got = '';",
        'await new Promise((ok) => port.on("data", (d) => { got += d; if (got.includes("\\n")) ok(); }));',
        "console.log(JSON.stringify({ arch: process.arch, video, got: got.trim() }));",
        "port.close();",
      ].join("\n");
      const done = runArm64(["--input-type=module", "-e", script], app, 240_000);
      const { SerialPort } = await import("serialport");
      const other = new SerialPort({ path: pair.b, baudRate: 57600 });
      let heard = "";
      other.on("data", (d: Buffer) => {
        heard += d.toString();
        if (heard.includes("ping\n")) other.write("pong\n");
      });
      const r = await done;
      await new Promise<void>((ok) => other.close(() => ok()));
      expect(r.code, r.stderr).toBe(0);
      expect(heard).toBe("ping\n");
      expect(JSON.parse(r.stdout.trim().split("\n").pop()!)).toEqual({ arch: "arm64", video: true, got: "pong" });
    } finally {
      await pair.kill();
    }
  }, 300_000);

  it("pillar run --sim: starts, a press reaches Mosquitto, an alarm call is offered", async () => {
    const data = join(root, "var/lib/alarm-pillar");
    const launcher = { ...arm64Launcher(), cwd: app };
    pillar = new PillarProcess(
      join(app, "config/examples/sim.json"),
      ["--sim", "--broker", mosquitto.url, "--data-dir", data],
      join(app, "dist/pillar.mjs"),
      [],
      {},
      launcher,
    );
    await pillar.start(180_000);
    const health = await pillar.http("GET", "/health");
    expect(health.components.hal).toBe("sim");

    await pillar.click();
    await center.until(() => center.events("button.press").length > 0, "the press event", 60_000);
    const press = center.events("button.press")[0]!;
    expect(press.pillarId).toBe("sim-001");
    await center.until(
      () => center.received.some((m) => m.topic === "pillar/v1/sim-001/webrtc/offer"),
      "the alarm call's offer",
      60_000,
    );
    const offer = center.received.find((m) => m.topic === "pillar/v1/sim-001/webrtc/offer")!.payload;
    expect(offer.kind).toBe("alarm");
    expect(offer.incidentId).toBe(press.incidentId);
    expect(String(offer.sdp)).toContain("m=video");
  }, 300_000);

  it("pillar selftest --non-interactive (its own devices, embedded broker) passes its non-camera checks", async () => {
    const r = await runArm64(
      [
        join(app, "dist/pillar.mjs"),
        "selftest",
        "--sim",
        "--non-interactive",
        "--only",
        // not the audio loop: its tone is real-time sound analysed in JavaScript, and emulated
        // JavaScript on a loaded machine falls behind the sound (a timing artefact of qemu, not of
        // arm64; the loop runs natively in test/selftest/audio-loop.test.ts)
        "config,software,clock,storage,broker,serial,tamper,button",
        "--json",
        "--config",
        join(app, "config/examples/sim.json"),
        "--data-dir",
        join(root, "selftest-data"),
        "--control-port",
        "0",
      ],
      app,
      240_000,
    );
    const last = r.stdout.trim().split("\n").pop() ?? "";
    expect(last, `no report (exit ${r.code}):\n${r.stderr}`).toMatch(/^\{/);
    const report = JSON.parse(last) as { checks: { id: string; component: string; status: string }[] };
    const checks = report.checks;
    expect(checks.filter((c) => c.component === "camera")).toEqual([]);
    expect(checks.map((c) => c.id)).toEqual(
      expect.arrayContaining(["storage.journal", "broker.roundtrip", "serial.link"]),
    );
    expect(checks.filter((c) => c.status === "fail")).toEqual([]);
  }, 300_000);
});
