import type { Logger } from "pino";
import { moduleLogger } from "../src/log/logger.js";
import type { CenterParts } from "./server/center-hooks.js";
import type { ConsoleConfig } from "./server/console-config.js";

/** Command-line flags the center's parts add to `pillar console` (node:util parseArgs options). */
export const partsFlags = {
  db: { type: "string" },
  "login-free-failures": { type: "string" },
  "login-backoff-ms": { type: "string" },
} as const satisfies Record<string, { type: "string" | "boolean" }>;

/** Usage lines for `partsFlags`. */
export const partsUsage: string[] = [
  "  --db ADDR       the center database, a SQLite file or postgres://user@host/db (default: env CENTER_DB, else none)",
  "                  with it: officer accounts, logins and the incident log; without: the open demo console, loopback only",
  "  --login-free-failures N  failed logins per user and address before waits start (default 3)",
  "  --login-backoff-ms N     first wait after those, doubling per further failure up to 5 min (default 1000)",
  "pillar console users add|passwd|remove|list …   officer accounts (pillar console users --help)",
];

/** What the center's parts need to start: the parsed `pillar console` flags and a logger. */
export interface CenterPartsContext {
  flags: Record<string, string | boolean | undefined>;
  log: Logger;
  /** The console's config (the clip storage). */
  config?: ConsoleConfig;
}

function intFlag(v: string | boolean | undefined, name: string, min: number, max: number): number | undefined {
  if (typeof v !== "string") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be an integer ${min}–${max}, got "${v}"`);
  return n;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Builds the center's other parts and hands them to the console server through the seams in
 * server/center-hooks.ts: with a database, officer accounts + login (center/auth), the incident
 * log fed from the console's traffic (center/log), the history and the shift report
 * (center/report). The database drivers are loaded only here, by the center's program.
 */
export async function loadCenterParts(ctx: CenterPartsContext): Promise<CenterParts> {
  const address = (typeof ctx.flags.db === "string" ? ctx.flags.db : undefined) || process.env.CENTER_DB;
  const freeFailures = intFlag(ctx.flags["login-free-failures"], "login-free-failures", 0, 100);
  const baseMs = intFlag(ctx.flags["login-backoff-ms"], "login-backoff-ms", 1, 3_600_000);
  const host = typeof ctx.flags.host === "string" ? ctx.flags.host : "127.0.0.1";
  if (address && !LOOPBACK.test(host) && !ctx.config?.https)
    throw new Error(
      `--host ${host}: officers' passwords and session cookies would cross the network in the clear: give the console HTTPS (https.keyFile and https.certFile in --config, docs/center.md)`,
    );
  if (!address) {
    if (!LOOPBACK.test(host))
      throw new Error(`--host ${host}: a console reachable from the network needs officer accounts: give --db`);
    return { routes: [], taps: [] };
  }
  const [
    { openSqlDb, describeAddress },
    { SqlIncidentLog },
    { AccountStore },
    { SessionAuth },
    throttle,
    tapMod,
    hist,
    clipLog,
    clipTap,
    clipRoutes,
  ] = await Promise.all([
    import("./log/sql-db.js"),
    import("./log/sql-incident-log.js"),
    import("./auth/accounts.js"),
    import("./auth/session-auth.js"),
    import("./auth/login-throttle.js"),
    import("./log/log-tap.js"),
    import("./report/history-routes.js"),
    import("./log/clip-log.js"),
    import("./log/clip-tap.js"),
    import("./report/clip-routes.js"),
  ]);
  const incidents = await SqlIncidentLog.open(await openSqlDb(address));
  const callTokenKey = await (await import("./log/migrations.js")).centerSecret(incidents.db, "call-token-key");
  const accounts = new AccountStore(incidents.db);
  const log = moduleLogger("center", ctx.log);
  if (!(await accounts.list()).length)
    log.warn("no officer accounts yet: add one with `pillar console users add NAME --role supervisor`");
  const policy = {
    ...throttle.DEFAULT_THROTTLE,
    ...(freeFailures !== undefined ? { freeFailures } : {}),
    ...(baseMs !== undefined ? { baseMs } : {}),
  };
  const auth = new SessionAuth(accounts, log, {
    throttle: new throttle.LoginThrottle(policy),
    trustedProxies: ctx.config?.trustedProxies ?? [],
  });
  await auth.start();
  const tap = new tapMod.LogTap(incidents, log);
  const clips = new clipLog.ClipLog(incidents.db);
  const clipPages = new clipRoutes.ClipRoutes(clips, incidents, {
    urlTemplate: ctx.config?.clipUploadUrl ?? "",
    headers: ctx.config?.clipUploadHeaders ?? {},
  });
  log.info({ db: describeAddress(address), dialect: incidents.db.dialect }, "incident log and accounts open");
  return {
    auth,
    routes: [auth, clipPages, new hist.HistoryRoutes(incidents)],
    taps: [tap, new clipTap.ClipTap(clips)],
    callTokenKey,
    attach: (console) => clipPages.attach(console),
    // the open incidents as the log has them: a restarted console shows them before any news
    recall: async () =>
      (await incidents.openIncidentEvents()).map((e) => ({ topic: `pillar/v1/${e.pillarId}/event`, payload: e })),
    async stop() {
      await tap.settle();
      await incidents.close();
    },
  };
}
