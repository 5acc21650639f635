import { randomUUID } from "node:crypto";
import type { Core } from "../app/feature.js";
import { type CameraCapture, grabCamera } from "./camera/frame-grab.js";
import { ReferenceStore } from "./camera/reference.js";
import type { Check, CheckContext, CheckResult, Prompter } from "./check.js";
import { analyze } from "./checks/camera-checks.js";
import { type SelftestReport, summarize, type Trigger } from "./report.js";
import { saveReport } from "./report-files.js";
import { type RunEvent, runChecks, selectChecks } from "./runner.js";
import { NOBODY } from "./session.js";

declare module "../bus/events.js" {
  interface BusEvents {
    /** A self-test run ended (any trigger). */
    "selftest.completed": { report: SelftestReport };
  }
}

export interface RunOptions {
  trigger: Trigger;
  interactive?: boolean;
  only?: readonly string[];
  /** Take the camera's reference view (commissioning) when the picture is usable. */
  setReference?: boolean;
  prompter?: Prompter;
  emit?: (e: RunEvent) => void;
  /** Cancels the run (the client went away, Ctrl-C): the check running gives up, the rest are skipped. */
  signal?: AbortSignal;
}

/** What runs: the answer to "busy" and `GET /selftest/status`. */
export interface RunInfo {
  since: string;
  trigger: Trigger;
  interactive: boolean;
  checks: number;
  /** The run is cancelled at this time at the latest (`MAX_RUN_MS`). */
  endsBy: string;
}

/**
 * A run never holds the pillar longer than this: then it is cancelled. An installer's run
 * waits for answers (a minute per prompt); the others only for the devices.
 */
export const MAX_RUN_MS = { interactive: 10 * 60_000, unattended: 2 * 60_000 } as const;

/** A self-test is already running (one at a time: the checks share the devices). */
export class SelftestBusy extends Error {}

const clock = (iso: string) => `${iso.slice(11, 19)} UTC`;

/** The fault code a failed check raises: `selftest.<check id>`, component = the check's. */
export const faultCode = (c: Pick<CheckResult, "id">) => `selftest.${c.id}`;

/**
 * Runs self-tests on the pillar, one at a time, for every trigger (the CLI, the center's
 * command, supervision). Keeps each check's last result (the health section), turns a failing
 * non-interactive check into a `fault` and its next pass into `fault.cleared`, saves the
 * report (JSON, HTML, snapshot) and publishes it on `pillar/v1/{id}/selftest`, except for the
 * quiet supervision rounds.
 */
export class SelftestService {
  private current: AbortController | undefined;
  private info: RunInfo | undefined;
  private readonly last = new Map<string, CheckResult & { at: string }>();
  private callActive = false;
  private offs: (() => void)[] = [];
  lastReport: SelftestReport | undefined;
  lastRunAt: Record<string, string> = {};

  constructor(
    private readonly core: Core,
    private readonly checks: () => readonly Check[],
  ) {}

  async start(): Promise<void> {
    this.offs.push(this.core.bus.on("call.state", (e) => (this.callActive = e.state !== "ended")));
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    this.current?.abort(new Error("the pillar is stopping"));
  }

  /** A call or an open incident owns the camera and audio. */
  busy(): boolean {
    return this.callActive || this.core.incidents.snapshot().state !== "idle";
  }

  isRunning(): boolean {
    return this.current !== undefined;
  }

  /** The run in progress, if any. */
  running(): RunInfo | undefined {
    return this.info;
  }

  /** "busy", in words: since when, what runs, and when it ends at the latest. */
  busyMessage(): string {
    const i = this.info;
    if (!i) return "no self-test is running";
    const what = `${i.trigger === "cli" ? "pillar selftest" : i.trigger}, ${i.interactive ? "interactive" : "unattended"}, ${i.checks} checks`;
    return `a self-test is already running since ${clock(i.since)} (${what}); it ends by ${clock(i.endsBy)} at the latest`;
  }

  async run(o: RunOptions): Promise<SelftestReport> {
    if (this.current) throw new SelftestBusy(this.busyMessage());
    const abort = new AbortController();
    const limitMs = o.interactive ? MAX_RUN_MS.interactive : MAX_RUN_MS.unattended;
    const since = Date.now();
    this.current = abort;
    this.info = {
      since: new Date(since).toISOString(),
      trigger: o.trigger,
      interactive: o.interactive ?? false,
      checks: selectChecks(this.checks(), o.only).length,
      endsBy: new Date(since + limitMs).toISOString(),
    };
    const cancel = (why: unknown) => {
      if (abort.signal.aborted) return;
      this.core.log.warn({ why: (why as Error)?.message ?? String(why) }, "self-test cancelled");
      abort.abort(why);
    };
    const limit = setTimeout(() => cancel(new Error(`the run's limit (${limitMs / 60_000} min) was reached`)), limitMs);
    const onSignal = () => cancel(o.signal?.reason);
    o.signal?.addEventListener("abort", onSignal, { once: true });
    if (o.signal?.aborted) onSignal();
    try {
      return await this.runNow(o, abort.signal);
    } finally {
      clearTimeout(limit);
      o.signal?.removeEventListener("abort", onSignal);
      this.current = undefined;
      this.info = undefined;
    }
  }

  private async runNow(o: RunOptions, signal: AbortSignal): Promise<SelftestReport> {
    const { core } = this;
    const c = core.config.get();
    const startedAt = new Date();
    let capture: Promise<CameraCapture> | undefined;
    const reference = new ReferenceStore(`${core.dataDir}/selftest`);
    const ctx: CheckContext = {
      config: c,
      drivers: core.drivers,
      bus: core.bus,
      uplink: core.uplink,
      incidents: core.incidents,
      faults: core.faults,
      leds: core.leds,
      dataDir: core.dataDir,
      version: core.version,
      interactive: o.interactive ?? false,
      prompter: cancellable(o.prompter ?? NOBODY, signal),
      camera: () => {
        const fps = core.drivers.camera.settings.fps;
        capture ??= grabCamera(core.drivers.camera, {
          frames: fps + 1,
          timeoutMs: 6000,
          busy: () => this.busy(),
          signal,
        });
        return capture;
      },
      reference,
      busy: () => this.busy(),
      signal,
      log: core.log,
    };
    const emit = o.emit ?? (() => {});
    const selected = selectChecks(this.checks(), o.only);
    // the camera's second of video is grabbed while the first checks run
    if (selected.some((k) => k.component === "camera")) ctx.camera().catch(() => undefined);
    const checks = await runChecks(selected, ctx, emit);
    const finishedAt = new Date();
    let report: SelftestReport = {
      v: 1,
      pillarId: c.pillar.id,
      runId: randomUUID(),
      trigger: o.trigger,
      interactive: ctx.interactive,
      version: core.version,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      ...summarize(checks),
      checks,
    };
    const jpeg = capture
      ? await capture.then(
          (cap) => cap.jpeg,
          () => undefined,
        )
      : undefined;
    if (o.setReference) report.referenceSaved = await this.saveReference(capture, reference, checks);
    this.record(report);
    if (o.trigger !== "supervision") {
      try {
        report = { ...report, files: await saveReport(core.dataDir, report, jpeg) };
      } catch (err) {
        core.log.warn({ err: (err as Error).message }, "self-test report not saved");
      }
      this.lastReport = report;
      await this.publish(report);
    }
    core.bus.emit("selftest.completed", { report });
    emit({ type: "done", report });
    return report;
  }

  /** The reference view, when the picture was usable (not black, covered, frozen or blurred). */
  private async saveReference(
    capture: Promise<CameraCapture> | undefined,
    store: ReferenceStore,
    checks: CheckResult[],
  ): Promise<boolean> {
    const cap = await capture?.catch(() => undefined);
    const bad = checks.some((r) => r.component === "camera" && r.id !== "camera.moved" && r.status === "fail");
    if (!cap || bad) return false;
    const p = analyze(cap);
    await store.save(
      { at: new Date().toISOString(), thumb: p.thumb, sharpness: p.sharpness, meanLuma: p.meanLuma },
      cap.jpeg,
    );
    return true;
  }

  /** Keep the last results; a failing non-interactive check raises its fault, a pass clears it. */
  private record(r: SelftestReport): void {
    const { bus } = this.core;
    const interactive = new Set(
      this.checks()
        .filter((c) => c.interactive)
        .map((c) => c.id),
    );
    this.lastRunAt[r.trigger] = r.finishedAt;
    const at = Date.parse(r.finishedAt);
    for (const c of r.checks) {
      if (c.status === "skip") continue;
      this.last.set(c.id, { ...c, at: r.finishedAt });
      // the installer's answers and optional checks (tamper, clock) raise no fault
      if (interactive.has(c.id) || !c.required) continue;
      if (c.status === "fail")
        bus.emit("fault.raised", { component: c.component, code: faultCode(c), message: c.detail, at });
      else bus.emit("fault.cleared", { component: c.component, code: faultCode(c), at });
    }
  }

  private async publish(r: SelftestReport): Promise<void> {
    const { uplink, log } = this.core;
    if (!uplink.isConnected()) return;
    await uplink
      .publish(uplink.topics.sub("selftest"), JSON.stringify(r), { qos: 1 })
      .catch((err: Error) => log.warn({ err: err.message }, "self-test report not published"));
  }

  /** For every health message: the last run per trigger and each component's last result. */
  health(): Record<string, unknown> {
    const components: Record<string, { status: string; at: string; failed: string[] }> = {};
    for (const c of this.last.values()) {
      const e = (components[c.component] ??= { status: "pass", at: c.at, failed: [] });
      if (c.at > e.at) e.at = c.at;
      if (c.status === "fail") {
        e.status = "fail";
        e.failed.push(`${c.id}: ${c.detail}`);
      }
    }
    return { running: this.isRunning(), lastRun: this.lastRunAt, components };
  }
}

/** A prompt open when the run is cancelled closes at once (answered "no"). */
function cancellable(p: Prompter, signal: AbortSignal): Prompter {
  return {
    info: (text) => p.info(text),
    ask: (prompt, done) => {
      if (signal.aborted) return Promise.resolve(false);
      const ended = new Promise<unknown>((resolve, reject) => {
        done?.then(resolve, reject);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
      ended.catch(() => undefined);
      return p.ask(prompt, ended);
    },
  };
}
