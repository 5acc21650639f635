import { randomUUID } from "node:crypto";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SelftestReportSchema } from "../../src/selftest/report.js";
import { TestCenter } from "../support/center.js";
import { Child } from "../support/child.js";
import { waitFor } from "../support/wait.js";
import { withSelftestRig } from "./helpers/selftest-rig.js";

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validReport = ajv.compile(SelftestReportSchema);

/** The center's side: the `selftest` command, the published report, supervision's faults and health. */
describe("selftest from the center and around the clock", () => {
  const { rig, broker } = withSelftestRig();
  let center: TestCenter;
  const id = "test-001";
  beforeAll(async () => {
    center = await new TestCenter(broker.url).start();
  });
  afterAll(async () => {
    await center.stop();
  });

  const command = async (args: Record<string, unknown>) => {
    const correlationId = randomUUID();
    await center.send(`pillar/v1/${id}/cmd/selftest`, { correlationId, issuedAt: new Date().toISOString(), ...args });
    const mine = (r: { topic: string; payload: Record<string, unknown> }) =>
      r.topic === `pillar/v1/${id}/cmd/selftest/result` && r.payload.correlationId === correlationId;
    await center.until(() => center.received.some(mine), "result", 60_000);
    return center.received.find(mine)!.payload;
  };

  it("the selftest command answers with the report, which is also published on pillar/v1/{id}/selftest", async () => {
    const res = await command({ only: ["storage", "broker"] });
    expect(res).toMatchObject({ command: "selftest", ok: true });
    const report = res.result as Record<string, any>;
    expect(validReport(report), JSON.stringify(validReport.errors)).toBe(true);
    expect(report).toMatchObject({ trigger: "center", interactive: false, ok: true, pillarId: id });
    expect(report.checks.map((c: { id: string }) => c.id)).toEqual([
      "storage.write",
      "storage.free",
      "storage.journal",
      "broker.roundtrip",
    ]);
    await center.until(
      () => center.received.some((r) => r.topic === `pillar/v1/${id}/selftest` && r.payload.runId === report.runId),
      "the published report",
    );
    const published = center.received.find((r) => r.topic === `pillar/v1/${id}/selftest`)!.payload;
    expect(validReport(published), JSON.stringify(validReport.errors)).toBe(true);
  }, 60_000);

  it("bad arguments are refused before any check runs", async () => {
    const res = await command({ only: ["../etc"], extra: 1 });
    expect(res).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
  }, 30_000);

  it("pillar selftest asks the running pillar (one owner of the hardware) and prints the report as JSON", async () => {
    const cli = Child.cli([
      "selftest",
      ...["--config", rig.configPath, "--control-port", String(rig.port)],
      ...["--only", "storage,config", "--non-interactive", "--json"],
    ]);
    try {
      expect(await cli.exited).toBe(0);
    } finally {
      await cli.kill();
    }
    expect(cli.stderr).toMatch(/a pillar is running on 127\.0\.0\.1:\d+: it runs the self-test/);
    const report = JSON.parse(cli.stdout.trim().split("\n").at(-1)!);
    expect(validReport(report)).toBe(true);
    await waitFor(
      async () => (await rig.http("GET", "/selftest/last")).runId === report.runId,
      "the pillar's last report",
    );
  }, 90_000);
});

/** Supervision rounds on their own pillar: a round must not meet the commands above (one runs at a time). */
describe("selftest supervision around the clock", () => {
  // supervision every 5 s (its smallest interval), so rounds come quickly within the test
  const { rig, broker } = withSelftestRig({ selftest: { intervalS: 5 } });
  let center: TestCenter;
  beforeAll(async () => {
    center = await new TestCenter(broker.url).start();
  });
  afterAll(async () => {
    await center.stop();
  });

  it("a supervision round turns a black camera into one fault, the fault LED pattern and health; live again clears it", async () => {
    await rig.http("POST", "/sim/camera/black");
    const faultOf = (type: string) =>
      center.events(type).filter((e) => (e.data as Record<string, unknown>).code === "selftest.camera.black");
    await center.until(() => faultOf("fault").length > 0, "the camera fault event", 90_000);
    const state = await rig.http("GET", "/state");
    expect(state.components.leds).toBe("fault");
    const health = await rig.http("GET", "/health");
    expect(health.selftest.components.camera).toMatchObject({
      status: "fail",
      failed: [expect.stringMatching(/black/)],
    });
    expect(health.selftest.components.storage).toMatchObject({ status: "pass" });
    expect(health.selftest.lastRun.supervision).toBeTypeOf("string");
    await rig.http("POST", "/sim/camera/live");
    await center.until(() => faultOf("fault.cleared").length > 0, "the camera fault cleared", 90_000);
    expect(faultOf("fault")).toHaveLength(1);
    expect((await rig.http("GET", "/state")).components.leds).toBe("idle");
  }, 200_000);
});
