import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlDb } from "../../center/log/sql-db.js";
import { SqlIncidentLog } from "../../center/log/sql-incident-log.js";
import type { PillarEventMessage } from "../../src/events/event-schema.js";
import { simIncident } from "../center/helpers/shift.js";
import { TestPostgresDatabase } from "../support/postgres.js";
import { round } from "./proc-stats.js";

/** A busy evening: `incidents` alarms over 50 pillars, 2 presses + ack + close each. */
function workload(incidents: number): PillarEventMessage[] {
  const t0 = Date.parse("2026-11-25T18:00:00.000Z");
  const events: PillarEventMessage[] = [];
  for (let i = 0; i < incidents; i++) {
    const n = i % 50;
    const pillar = { id: `alm-b-${String(n).padStart(3, "0")}`, district: `D${n % 8}`, address: `Street ${n}` };
    const at = new Date(t0 + i * 7000).toISOString();
    events.push(
      ...simIncident({ pillar, at, presses: 2, ack: { afterMs: 9000, by: "b" }, closeAfterMs: 60_000 }).events,
    );
  }
  return events;
}

/**
 * Events stored per second, de-duplicated: every event once, then a quarter of them again as
 * the pillars' at-least-once re-sends would, then one history read (which brings the incident
 * summaries up to date); the figure counts stored (unique) events over the whole time.
 */
async function measure(address: string, events: PillarEventMessage[]): Promise<number> {
  const log = await SqlIncidentLog.open(await openSqlDb(address));
  try {
    const resend = events.filter((_, i) => i % 4 === 0);
    const t = performance.now();
    let stored = 0;
    for (const e of [...events, ...resend]) if (await log.appendEvent(e)) stored++;
    await log.listIncidents({ limit: 1 }); // the summaries are brought up to date before a read: that counts too
    const s = (performance.now() - t) / 1000;
    if (stored !== events.length) throw new Error(`stored ${stored} of ${events.length} events`);
    return round(stored / s, 0);
  } finally {
    await log.close();
  }
}

export async function runCenterLogBench(): Promise<Record<string, number>> {
  const incidents = Number(process.env.BENCH_CENTER_INCIDENTS ?? 1000);
  const dir = await mkdtemp(join(tmpdir(), "center-bench-"));
  const figures: Record<string, number> = {};
  try {
    figures.console_log_events_per_s = await measure(join(dir, "center.db"), workload(incidents));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const pg = new TestPostgresDatabase();
  try {
    await pg.create();
    figures.console_log_events_per_s_postgres = await measure(pg.url, workload(incidents));
  } catch (err) {
    console.error(`bench: center log on PostgreSQL skipped: ${(err as Error).message}`);
  } finally {
    await pg.drop().catch(() => undefined);
  }
  return figures;
}
