import { unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import type { ConfigProblem } from "../config/config-errors.js";
import { fsyncDir } from "../fsutil/atomic-write.js";
import { moduleLogger } from "../log/logger.js";
import { sha256Hex } from "./config-signature.js";
import { defaultSelfTest, type SelfTest } from "./config-self-test.js";
import {
  type ConfigCandidate,
  type ProvisioningError,
  type VerifiedCandidate,
  verifyCandidate,
} from "./config-verifier.js";
import { pausePoint, readIfExists, replaceSignedPair, writeVerified } from "./signed-pair-store.js";

export { type ConfigCandidate, ProvisioningError, type VerifiedCandidate } from "./config-verifier.js";

export type ApplyStage = "verify" | "write" | "apply" | "self-test" | "done";

export interface ApplyReport {
  ok: boolean;
  /** The stage reached; on failure the one that failed. */
  stage: ApplyStage;
  code: string;
  message: string;
  pillarId?: string;
  sha256: string;
  previousSha256?: string;
  signed: boolean;
  keyId?: string;
  rolledBack: boolean;
  problems?: ConfigProblem[];
  durationMs: number;
}

export interface ConfigApplierDeps {
  /** The config file the pillar boots from; `.sig`, `.prev`, `.prev.sig`, `.trial` live beside it. */
  configPath: string;
  /** The running config. */
  current(): PillarConfig;
  /**
   * Make the running pillar use `next` (restart what the change needs). When `signal` aborts
   * (the apply timed out) it must stop at the next safe point and settle: the rollback waits.
   */
  applyConfig(next: PillarConfig, signal?: AbortSignal): Promise<void>;
  selfTest?: SelfTest;
  /** Fleet public key; default: resolveFleetPublicKey(current config). */
  publicKeyPath?: string;
  log?: Logger;
  /** Give up on applyConfig + self-test after this long (then roll back). */
  applyTimeoutMs?: number;
}

/**
 * Run `task` with a deadline. On timeout the task is told to stop (its signal aborts) and is
 * waited for, so nothing it does overlaps what the caller does next (the rollback).
 */
async function withTimeout<T>(task: (signal: AbortSignal) => Promise<T>, ms: number, what: string): Promise<T> {
  const ac = new AbortController();
  const running = task(ac.signal);
  let t: NodeJS.Timeout | undefined;
  const expired = new Promise<"expired">((resolve) => (t = setTimeout(() => resolve("expired"), ms)));
  try {
    const first = await Promise.race([running.then((v) => ({ v })), expired]);
    if (first !== "expired") return first.v;
  } finally {
    clearTimeout(t);
  }
  const reason = new Error(`${what} did not finish within ${ms} ms`);
  ac.abort(reason);
  await running.catch(() => undefined); // really abandoned before the caller goes on
  throw reason;
}

/**
 * Verifies, stores and applies a new config on the running pillar, atomically, with rollback.
 *
 * 1. verify: JSON, schema (validateConfig), signature (required when the running or the new
 *    config is in production mode; always checked when present). Nothing is written on failure.
 * 2. keep the running config as FILE.prev (+ .prev.sig); mark FILE.trial with the new sha256.
 * 3. replace FILE (+ .sig) crash-safely (signed-pair-store).
 * 4. applyConfig(new), then the self-test. On success FILE.trial is removed: committed.
 * 5. on failure: put FILE.prev back, applyConfig(previous), remove FILE.trial; report.
 * A crash between 2 and 4 leaves FILE.trial: `recoverConfigDir` (config-recovery.ts) rolls back
 * on the next start.
 */
export class ConfigApplier {
  /** Applies run one at a time, in arrival order (serial, MQTT, boot partition). */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly deps: ConfigApplierDeps) {
    this.log = deps.log ?? moduleLogger("config-applier");
  }

  /** Check a candidate without touching anything; throws ProvisioningError (config-verifier.ts). */
  async verify(c: ConfigCandidate): Promise<VerifiedCandidate> {
    return verifyCandidate(c, { running: this.deps.current(), publicKeyPath: this.deps.publicKeyPath, log: this.log });
  }

  /**
   * Verify, store, apply, self-test, roll back on failure. Never throws; reports either way.
   * A second candidate arriving meanwhile waits its turn (never interleaved, each answered).
   */
  apply(c: ConfigCandidate): Promise<ApplyReport> {
    const run = this.queue.then(() => this.applyNow(c));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(c: ConfigCandidate): Promise<ApplyReport> {
    const t0 = Date.now();
    this.log.info({ source: c.source }, "applying a config");
    const sha = sha256Hex(c.bytes);
    const base = { sha256: sha, signed: false, rolledBack: false };
    const done = (r: Omit<ApplyReport, "durationMs" | "sha256">): ApplyReport => {
      const report = { sha256: sha, ...r, durationMs: Date.now() - t0 };
      this.log[report.ok ? "info" : "warn"](
        { source: c.source, ...report },
        report.ok ? "config applied" : "config not applied",
      );
      return report;
    };
    let v: VerifiedCandidate;
    try {
      v = await this.verify(c);
    } catch (err) {
      const e = err as ProvisioningError;
      return done({
        ...base,
        ok: false,
        stage: "verify",
        code: e.code ?? "failed",
        message: e.message,
        ...(e.problems ? { problems: e.problems } : {}),
      });
    }
    await pausePoint("verified");
    return await this.store(c, v, done);
  }

  private async store(
    c: ConfigCandidate,
    v: VerifiedCandidate,
    done: (r: Omit<ApplyReport, "durationMs" | "sha256">) => ApplyReport,
  ): Promise<ApplyReport> {
    const path = this.deps.configPath;
    const info = { pillarId: v.config.pillar.id, signed: v.signed, ...(v.keyId ? { keyId: v.keyId } : {}) };
    const oldBytes = await readIfExists(path);
    const oldSig = (await readIfExists(`${path}.sig`))?.toString("utf8");
    const previousSha256 = oldBytes ? sha256Hex(oldBytes) : undefined;
    const prevInfo = previousSha256 ? { previousSha256 } : {};
    if (previousSha256 === v.sha256) {
      return done({
        ok: true,
        stage: "done",
        code: "unchanged",
        message: "the pillar already runs this config",
        rolledBack: false,
        ...info,
        ...prevInfo,
      });
    }
    try {
      if (oldBytes) await replaceSignedPair(`${path}.prev`, oldBytes, oldSig, "prev");
      await writeVerified(`${path}.trial`, Buffer.from(`${v.sha256}\n`), "trial");
      await pausePoint("trial-marked");
      await replaceSignedPair(path, c.bytes, c.signature, "config");
    } catch (err) {
      return done({
        ok: false,
        stage: "write",
        code: "write_failed",
        message: `could not store the config: ${(err as Error).message}`,
        rolledBack: false,
        ...info,
        ...prevInfo,
      });
    }
    const previous = this.deps.current();
    let stage: ApplyStage = "apply";
    try {
      await pausePoint("applying");
      await withTimeout(
        (signal) => this.deps.applyConfig(v.config, signal),
        this.deps.applyTimeoutMs ?? 30_000,
        "applying the config",
      );
      stage = "self-test";
      await pausePoint("self-test");
      await withTimeout(
        // the config as the pillar now runs it (the run's flags laid over it)
        () => (this.deps.selfTest ?? defaultSelfTest)(this.deps.current()),
        this.deps.applyTimeoutMs ?? 30_000,
        "the self-test",
      );
      await unlink(`${path}.trial`);
      await fsyncDir(dirname(path));
      await pausePoint("committed");
      return done({
        ok: true,
        stage: "done",
        code: "applied",
        message: `applied config for ${v.config.pillar.id}`,
        rolledBack: false,
        ...info,
        ...prevInfo,
      });
    } catch (err) {
      const reason = (err as Error).message;
      this.log.warn({ stage, reason }, "new config failed, rolling back");
      const back = await this.rollback(oldBytes, oldSig, previous);
      return done({
        ok: false,
        stage,
        code: stage === "apply" ? "apply_failed" : "self_test_failed",
        message: `${stage} failed: ${reason}; ${back}`,
        rolledBack: back.startsWith("rolled back"),
        ...info,
        ...prevInfo,
      });
    }
  }

  private async rollback(
    oldBytes: Buffer | undefined,
    oldSig: string | undefined,
    previous: PillarConfig,
  ): Promise<string> {
    const path = this.deps.configPath;
    try {
      if (oldBytes) await replaceSignedPair(path, oldBytes, oldSig, "rollback");
      await unlink(`${path}.trial`).catch(() => undefined);
      await fsyncDir(dirname(path));
      await this.deps.applyConfig(previous);
      return "rolled back to the previous config";
    } catch (err) {
      this.log.error({ err: (err as Error).message }, "rollback failed");
      return `ROLLBACK FAILED: ${(err as Error).message}`;
    }
  }
}
