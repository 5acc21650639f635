import { Type } from "@sinclair/typebox";

/**
 * Freshness of what the center sends (commands and call signaling): each message carries
 * `issuedAt` (ISO 8601 UTC, the center's clock) and may carry `expiresAt`. The pillar refuses
 * one older than `maxAgeS`, one issued further in the future than `clockToleranceS`, and one
 * past its `expiresAt`. This is what makes the persistent MQTT session safe: a command the
 * broker kept for hours, or one captured and replayed later, is refused as stale.
 */
export interface FreshnessSettings {
  maxAgeS: number;
  clockToleranceS: number;
  /** Production: a message without issuedAt is refused; development accepts it. */
  required: boolean;
}

/** The fields a center message may carry for freshness (spread into its schema). */
export const FreshnessFields = {
  issuedAt: Type.Optional(
    Type.String({ minLength: 20, maxLength: 35, description: "when the center sent it (ISO 8601, UTC)" }),
  ),
  expiresAt: Type.Optional(
    Type.String({ minLength: 20, maxLength: 35, description: "refuse it after this time (ISO 8601, UTC)" }),
  ),
};

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Why a message is not fresh, or undefined when it is. */
export function staleness(
  doc: { issuedAt?: unknown; expiresAt?: unknown },
  s: FreshnessSettings,
  now = Date.now(),
): string | undefined {
  const parse = (field: string, v: unknown): number | string => {
    const t = typeof v === "string" && ISO.test(v) ? Date.parse(v) : Number.NaN;
    return Number.isFinite(t) ? t : `${field} must be an ISO 8601 time, e.g. ${new Date(now).toISOString()}`;
  };
  if (doc.issuedAt === undefined) return s.required ? "issuedAt is required (production mode)" : undefined;
  const issued = parse("issuedAt", doc.issuedAt);
  if (typeof issued === "string") return issued;
  const ageS = (now - issued) / 1000;
  if (ageS > s.maxAgeS) return `stale: issued ${Math.round(ageS)} s ago (limit ${s.maxAgeS} s)`;
  if (-ageS > s.clockToleranceS)
    return `issued ${Math.round(-ageS)} s in the future (clock tolerance ${s.clockToleranceS} s): check the center's clock`;
  if (doc.expiresAt !== undefined) {
    const expires = parse("expiresAt", doc.expiresAt);
    if (typeof expires === "string") return expires;
    if (now > expires + s.clockToleranceS * 1000) return `stale: expired at ${String(doc.expiresAt)}`;
  }
  return undefined;
}

/** The freshness rules of a config: its `commands` section and `pillar.mode`. */
export function freshnessOf(c: {
  pillar: { mode: string };
  commands: { maxAgeS: number; clockToleranceS: number };
}): FreshnessSettings {
  return { ...c.commands, required: c.pillar.mode === "production" };
}
