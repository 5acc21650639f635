import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { PillarConfig } from "../../../config/schema.js";
import { PillarApp } from "../../../src/app/pillar-app.js";
import { validateConfig } from "../../../src/config/validate-config.js";
import type { CheckResult } from "../../../src/selftest/check.js";
import type { SelftestReport } from "../../../src/selftest/report.js";
import type { RunEvent } from "../../../src/selftest/runner.js";
import { selftestFeature } from "../../../src/selftest/selftest-feature.js";
import { afterAll, beforeAll } from "vitest";
import { TestMosquitto } from "../../support/mosquitto.js";
import { testConfigDoc } from "../../support/sim-pillar.js";
import { sleep } from "../../support/wait.js";

export type Prompt = Extract<RunEvent, { type: "prompt" }>;

/**
 * A sim pillar in-process with the self-test feature, its config in a file of its own (the
 * config checks read it), driven only through its control endpoint: the self-test API and the
 * sim drivers' hooks (`/sim/…`), as `pillar selftest` and an installer's laptop see it.
 */
export class SelftestRig {
  app!: PillarApp;
  dir = "";
  configPath = "";
  config!: PillarConfig;
  private runId = "";

  constructor(private readonly over: Record<string, unknown> = {}) {}

  async start(brokerUrl: string): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), "selftest-"));
    const doc = testConfigDoc({
      dataDir: join(this.dir, "data"),
      // a small camera: the checks judge 320×180 gray frames anyway
      call: { camera: { width: 640, height: 360, fps: 15, bitrateKbps: 600 } },
      ...this.over,
    });
    doc.broker = { ...doc.broker, url: brokerUrl };
    this.configPath = join(this.dir, "config.json");
    await writeFile(this.configPath, JSON.stringify(doc, null, 2));
    this.config = validateConfig(doc, this.configPath);
    this.app = new PillarApp({
      config: this.config,
      version: "0.0.0-test",
      log: pino({ level: process.env.TEST_LOG ?? "silent" }),
      features: [selftestFeature({ configPath: this.configPath })],
    });
    await this.app.start();
    return this;
  }

  get port(): number {
    return this.app.core.control.port;
  }

  async http(method: "GET" | "POST", path: string, body?: unknown): Promise<Record<string, any>> {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const json = (await res.json()) as Record<string, any>;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** Run a self-test through the control endpoint; `onPrompt` acts like the installer. */
  async run(
    body: { only?: string[]; interactive?: boolean; setReference?: boolean },
    onPrompt: (p: Prompt) => Promise<void> = async () => {},
  ): Promise<SelftestReport> {
    const { runId } = await this.http("POST", "/selftest/start", body);
    this.runId = runId;
    let after = 0;
    for (;;) {
      const a = await this.http("GET", `/selftest/events?run=${runId}&after=${after}`);
      for (const e of a.events as (RunEvent & { seq: number })[]) {
        after = e.seq;
        if (e.type === "prompt") await onPrompt(e);
      }
      if (a.error) throw new Error(a.error);
      if (a.done) return a.report as SelftestReport;
      await sleep(100);
    }
  }

  /** Answer the open prompt (the installer's y/n). */
  answer(p: Prompt, yes: boolean): Promise<Record<string, any>> {
    return this.http("POST", `/selftest/answer?run=${this.runId}`, { promptId: p.promptId, answer: yes });
  }

  async stop(): Promise<void> {
    await this.app?.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** The line of check `id` in a report. */
export function line(r: SelftestReport, id: string): CheckResult {
  const c = r.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no ${id} in the report: ${r.checks.map((x) => x.id).join(", ")}`);
  return c as CheckResult;
}

/** A Mosquitto and a rig on it for the whole describe block (started before, stopped after). */
export function withSelftestRig(over: Record<string, unknown> = {}): { rig: SelftestRig; broker: TestMosquitto } {
  const broker = new TestMosquitto();
  const rig = new SelftestRig(over);
  beforeAll(async () => {
    await broker.start();
    await rig.start(broker.url);
  }, 60_000);
  afterAll(async () => {
    await rig.stop();
    await broker.stop();
  });
  return { rig, broker };
}
