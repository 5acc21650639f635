import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { TerminalCli } from "../support/terminal-cli.js";
import { sleep, waitFor } from "../support/wait.js";
import { TestCenter } from "../support/center.js";
import { line, type Prompt, withSelftestRig } from "./helpers/selftest-rig.js";

/**
 * The installer's checks over the self-test API: each LED pattern looked at, a real press (it
 * opens a test incident, closed once seen: so the patterns come first).
 */
describe("interactive checks", () => {
  const { rig, broker } = withSelftestRig();

  it("leds.patterns: each pattern is shown while asked; a pattern the installer does not see fails", async () => {
    const shown: Record<string, boolean> = {};
    const answer = (deny: string) => async (p: Prompt) => {
      const name = /pattern "(\w+)"/.exec(p.text)![1]!;
      const leds = await rig.http("GET", "/sim/leds");
      shown[name] = leds.strobe.on; // the strobe relay is on in the alarm, acknowledged and call patterns only
      await rig.answer(p, name !== deny);
    };
    const ok = await rig.run({ only: ["leds"], interactive: true }, answer("none"));
    expect(line(ok, "leds.patterns")).toMatchObject({ status: "pass", value: 6 });
    expect(shown).toEqual({ idle: false, alarm: true, acknowledged: true, fault: false, calling: true, talking: true });
    const bad = await rig.run({ only: ["leds"], interactive: true }, answer("alarm"));
    expect(line(bad, "leds.patterns")).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(/did not confirm: alarm/),
    });
    expect((await rig.http("GET", "/sim/leds")).strobe.on).toBe(false); // back to the idle pattern
  }, 60_000);

  it("button.press: the prompt appears, a press answers it as a test press (closed, the audio loop runs); no press fails it", async () => {
    const center = await new TestCenter(broker.url).start();
    const seen: string[] = [];
    const r = await rig.run({ only: ["button.press", "audio"], interactive: true }, async (p) => {
      seen.push(p.text);
      await rig.http("POST", "/sim/button/press");
      await sleep(60);
      await rig.http("POST", "/sim/button/release");
    });
    expect(seen).toEqual(["Press the SOS button now"]);
    expect(line(r, "button.press")).toMatchObject({
      status: "pass",
      unit: "ms",
      detail: expect.stringMatching(/press detected .* as a test press/),
    });
    // at the center: a press marked as a test, and its incident closed by the self-test
    await center.until(() => center.events("incident.closed").length === 1, "the test incident closed");
    const [press] = center.events("button.press");
    expect(press!.data).toMatchObject({ press: 1, test: true });
    expect(center.events("incident.closed")[0]).toMatchObject({
      incidentId: press!.incidentId,
      data: { reason: "self-test press", test: true },
    });
    expect(rig.app.core.incidents.snapshot().state).toBe("idle");
    // the test press's incident did not make the audio loop skip
    expect(line(r, "audio.loop").status).not.toBe("skip");
    await center.stop();
    // the installer gives up (no press): the prompt closes with no
    const nobody = await rig.run({ only: ["button.press"], interactive: true }, (p) =>
      rig.answer(p, false).then(() => {}),
    );
    expect(line(nobody, "button.press")).toMatchObject({ status: "fail", detail: expect.stringMatching(/no press/) });
  }, 60_000);

  it("non-interactive runs skip the installer's checks", async () => {
    const r = await rig.run({ only: ["button", "leds"] });
    expect(line(r, "button.press")).toMatchObject({ status: "skip", detail: expect.stringMatching(/installer/) });
    expect(line(r, "leds.patterns").status).toBe("skip");
    expect(line(r, "button.contact").status).toBe("pass");
  }, 30_000);
});

/** `pillar selftest --sim` in a pseudo-terminal (util-linux `script`), answered like an installer. */
describe("pillar selftest in a terminal", () => {
  let cli: TerminalCli | undefined;
  let dir = "";
  afterEach(async () => {
    await cli?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("shows the prompts, takes a simulated press and the y/n answers, writes the report, exits 0", async () => {
    dir = await mkdtemp(join(tmpdir(), "selftest-pty-"));
    const port = await freePort();
    cli = new TerminalCli([
      ...["selftest", "--sim", "--data-dir", join(dir, "data"), "--control-port", String(port)],
      ...["--only", "config,storage,broker,button,leds"],
    ]);
    const term = cli;
    const post = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { method: "POST" });

    // the LED patterns first (y to each), then the press
    for (let answered = 0; answered < 6; answered++) {
      await waitFor(
        () => term.output.split("[y/n]").length - 1 > answered,
        `LED prompt ${answered + 1}:\n${term.output}`,
        90_000,
      );
      term.type("y\n");
    }
    await term.waitFor(/Press the SOS button now/, 30_000);
    await post("/sim/button/press");
    await sleep(60);
    await post("/sim/button/release");
    expect(await term.exited).toBe(0);
    const out = term.output;
    expect(out).toMatch(/button: press detected … PASS/);
    expect(out).toMatch(/LED pattern "alarm": .*strobe on/);
    expect(out).toMatch(/LEDs and strobe relay … PASS/);
    const json = /report: .*\r?\n\s+(\S+\.json)/.exec(out)![1]!;
    const report = JSON.parse(await readFile(json, "utf8"));
    expect(report).toMatchObject({ ok: true, interactive: true, trigger: "cli" });
    await access(report.files.html);
  }, 120_000);
});
