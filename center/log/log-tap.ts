import { Ajv } from "ajv";
import type { Logger } from "pino";
import { PillarEventSchema, type PillarEventMessage } from "../../src/events/event-schema.js";
import type { CenterTap, Officer } from "../server/center-hooks.js";
import type { IncidentLog } from "./incident-log.js";

const validEvent = new Ajv({ allErrors: true }).compile<PillarEventMessage>(PillarEventSchema);
const PILLAR = /^pillar\/v1\/([a-z0-9][a-z0-9-]{1,62})\/(.+)$/;
const withoutHeaders = ({ headers: _h, ...rest }: Record<string, unknown>) => rest;
const str = (v: unknown, max = 200): string | null => (typeof v === "string" && v.length <= max ? v : null);

/**
 * Puts what the console server sees into the incident log: the pillars' events, the steps of
 * their calls (retained `webrtc/session`), the results of commands, and the commands officers
 * send. `received` resolves once the message is stored, so the server can acknowledge it to the
 * broker only then (a crash in between means a re-delivery, which the log de-duplicates).
 * A message that does not fit the contract is logged and skipped, never stored.
 */
export class LogTap implements CenterTap {
  private pending = new Set<Promise<unknown>>();

  constructor(
    private readonly incidents: IncidentLog,
    private readonly log: Logger,
  ) {}

  /** Resolves once stored (or skipped as off contract); rejects when the database failed. */
  received(topic: string, payload: unknown): Promise<void> {
    return this.track(this.store(topic, payload), true);
  }

  published(topic: string, payload: unknown, officer: Officer | null): Promise<void> {
    const m = PILLAR.exec(topic);
    const p = payload as Record<string, unknown> | null;
    const name = m?.[2]?.startsWith("cmd/") ? m[2].slice(4) : null;
    if (!m || !name || !p || typeof p !== "object") return Promise.resolve();
    const correlationId = str(p.correlationId, 128);
    if (!correlationId) return Promise.resolve();
    return this.track(
      this.incidents.appendCommand({
        correlationId,
        pillarId: m[1]!,
        name,
        incidentId: str(p.incidentId, 64),
        officer: officer?.id ?? null,
        payload: withoutHeaders(p), // clips.upload's headers may carry the storage's token
        sentAt: new Date().toISOString(),
      }),
    );
  }

  /** Waits for the stores under way (before the database is closed). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>, rethrow = false): Promise<void> {
    const done = p.then(
      () => undefined,
      (err: Error) => {
        this.log.error({ err: err.message }, "could not store in the incident log");
        if (rethrow) throw err;
      },
    );
    this.pending.add(done);
    void done.catch(() => undefined).finally(() => this.pending.delete(done));
    return done;
  }

  private async store(topic: string, payload: unknown): Promise<unknown> {
    const m = PILLAR.exec(topic);
    if (!m || !payload || typeof payload !== "object") return;
    const [, pillarId, rest] = m;
    const p = payload as Record<string, unknown>;
    if (rest === "event") {
      if (!validEvent(p) || p.pillarId !== pillarId)
        return this.log.warn({ topic, problems: validEvent.errors?.slice(0, 3) }, "event not stored: off contract");
      return this.incidents.appendEvent(p);
    }
    if (rest === "webrtc/session") {
      const sessionId = str(p.sessionId, 128);
      const state = str(p.state, 32);
      const at = str(p.at, 40);
      if (!sessionId || !state || !at || Number.isNaN(Date.parse(at))) return;
      return this.incidents.appendCallStep({
        sessionId,
        state,
        at: new Date(at).toISOString(),
        pillarId: pillarId!,
        incidentId: str(p.incidentId, 64),
        kind: str(p.kind, 32) ?? "alarm",
        officer: str(p.officer),
        reason: str(p.reason),
      });
    }
    if (rest?.startsWith("cmd/") && rest.endsWith("/result")) {
      const correlationId = str(p.correlationId, 128);
      if (!correlationId) return;
      const error = p.error as { code?: unknown; message?: unknown } | undefined;
      return this.incidents.recordCommandResult({
        correlationId,
        pillarId: pillarId!,
        name: rest.slice(4, -"/result".length),
        ok: p.ok === true,
        error: error ? `${String(error.code)}: ${String(error.message)}`.slice(0, 500) : null,
        at: str(p.at, 40) ?? new Date().toISOString(),
      });
    }
  }
}
