import { type Static, Type } from "@sinclair/typebox";
import type { CheckResult } from "./check.js";

/** An ISO 8601 UTC time with ms, as `Date.toISOString()` writes it. */
const IsoTime = Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$" });
const Value = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]);

/** One check's line in the report. */
export const CheckResultSchema = Type.Object(
  {
    id: Type.String({ pattern: "^[a-z]+(\\.[a-z]+)+$" }),
    component: Type.String({ minLength: 1 }),
    title: Type.String(),
    required: Type.Boolean(),
    status: Type.Union([Type.Literal("pass"), Type.Literal("fail"), Type.Literal("skip")]),
    value: Type.Optional(Value),
    unit: Type.Optional(Type.String()),
    detail: Type.String(),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    ms: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/**
 * The self-test report: what `pillar selftest` prints with --json, what the `selftest` command
 * answers and what the pillar publishes on `pillar/v1/{id}/selftest` (README "MQTT contract").
 */
export const SelftestReportSchema = Type.Object(
  {
    v: Type.Literal(1),
    pillarId: Type.String(),
    runId: Type.String(),
    trigger: Type.Union([
      Type.Literal("cli"),
      Type.Literal("center"),
      Type.Literal("supervision"),
      Type.Literal("daily"),
    ]),
    interactive: Type.Boolean(),
    version: Type.String(),
    startedAt: IsoTime,
    finishedAt: IsoTime,
    durationMs: Type.Number({ minimum: 0 }),
    /** Every required check passed (skips do not fail). */
    ok: Type.Boolean(),
    summary: Type.Object(
      { pass: Type.Integer(), fail: Type.Integer(), skip: Type.Integer() },
      { additionalProperties: false },
    ),
    /** The ids of the required checks that failed. */
    failed: Type.Array(Type.String()),
    checks: Type.Array(CheckResultSchema),
    /** Set when the run took the camera's reference view (commissioning). */
    referenceSaved: Type.Optional(Type.Boolean()),
    /** Where the pillar saved it (JSON, HTML page, camera snapshot), when it did. */
    files: Type.Optional(
      Type.Object(
        { json: Type.String(), html: Type.String(), jpeg: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: "https://alarm-pillar.local/schema/selftest-report.json" },
);

export type SelftestReport = Static<typeof SelftestReportSchema>;
export type Trigger = SelftestReport["trigger"];

/** The report's verdict and counts from its lines. */
export function summarize(checks: CheckResult[]): Pick<SelftestReport, "ok" | "summary" | "failed"> {
  const count = (s: string) => checks.filter((c) => c.status === s).length;
  const failed = checks.filter((c) => c.required && c.status === "fail").map((c) => c.id);
  return {
    ok: failed.length === 0,
    summary: { pass: count("pass"), fail: count("fail"), skip: count("skip") },
    failed,
  };
}
