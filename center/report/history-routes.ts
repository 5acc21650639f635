import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, sendJson } from "../auth/http-util.js";
import { type IncidentFilter, type IncidentLog, OUTCOMES, type Outcome } from "../log/incident-log.js";
import type { CenterRoutes, Officer } from "../server/center-hooks.js";

const PAGE_DIR = new URL("./page/", import.meta.url);
const PAGES: Record<string, [string, string]> = {
  "/history": ["history.html", "text/html; charset=utf-8"],
  "/history.js": ["history.js", "text/javascript; charset=utf-8"],
  "/history-clips.js": ["history-clips.js", "text/javascript; charset=utf-8"],
};
const ID = /^[A-Za-z0-9._-]{1,64}$/;

/** An ISO 8601 time from a query value (a date or a date-time), or undefined when absent. */
function time(q: URLSearchParams, key: string): string | undefined {
  const v = q.get(key);
  if (!v) return undefined;
  const ms = v.length <= 40 ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) throw new HttpError(400, `${key}: not a date or ISO 8601 time: "${v.slice(0, 40)}"`);
  return new Date(ms).toISOString();
}

function text(q: URLSearchParams, key: string, max = 100): string | undefined {
  const v = q.get(key)?.trim();
  if (!v) return undefined;
  if (v.length > max) throw new HttpError(400, `${key}: at most ${max} characters`);
  return v;
}

/** The history filter from a query string: pillar, district, from, to, officer, outcome, text, closed, limit. */
export function historyFilter(q: URLSearchParams): IncidentFilter {
  const outcome = text(q, "outcome");
  if (outcome && !OUTCOMES.includes(outcome as Outcome))
    throw new HttpError(400, `outcome: one of ${OUTCOMES.join(", ")}, got "${outcome}"`);
  const closed = q.get("closed") ?? "true";
  if (!["true", "false", "any"].includes(closed)) throw new HttpError(400, "closed: true, false or any");
  const limit = q.get("limit");
  if (limit && !/^\d{1,4}$/.test(limit)) throw new HttpError(400, "limit: a number up to 1000");
  return {
    pillarId: text(q, "pillar", 64),
    district: text(q, "district"),
    from: time(q, "from"),
    to: time(q, "to"),
    officer: text(q, "officer", 64),
    outcome: outcome as Outcome | undefined,
    text: text(q, "text"),
    closed: closed === "any" ? undefined : closed === "true",
    limit: limit ? Number(limit) : undefined,
  };
}

/**
 * The history and the shift report over HTTP: `GET /history` (the page), `GET /api/history?…`
 * (closed incidents by default, filters as in `historyFilter`), `GET /api/history/{incidentId}`
 * (the incident and its timeline), `GET /api/report?from&to` (supervisors only; default: the
 * last 12 hours). Every officer may read the history; the server has checked the session.
 */
export class HistoryRoutes implements CenterRoutes {
  constructor(private readonly incidents: IncidentLog) {}

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, officer: Officer | null): Promise<boolean> {
    if (req.method !== "GET") return false;
    const page = PAGES[url.pathname];
    const api =
      url.pathname === "/api/history" || url.pathname.startsWith("/api/history/") || url.pathname === "/api/report";
    if (!page && !api) return false;
    if (!officer) return (sendJson(res, 401, { error: "not logged in" }), true);
    try {
      if (page) {
        res.writeHead(200, { "content-type": page[1], "cache-control": "no-store" });
        res.end(await readFile(new URL(page[0], PAGE_DIR)));
      } else if (url.pathname === "/api/history")
        sendJson(res, 200, { incidents: await this.incidents.listIncidents(historyFilter(url.searchParams)) });
      else if (url.pathname === "/api/report") {
        if (officer.role !== "supervisor") throw new HttpError(403, "the shift report is for supervisors");
        const to = time(url.searchParams, "to") ?? new Date().toISOString();
        const from = time(url.searchParams, "from") ?? new Date(Date.parse(to) - 12 * 3600_000).toISOString();
        if (from >= to) throw new HttpError(400, "from must be before to");
        sendJson(res, 200, await this.incidents.shiftReport(from, to));
      } else {
        const id = decodeURIComponent(url.pathname.slice("/api/history/".length));
        if (!ID.test(id)) throw new HttpError(400, "not an incident id");
        const [incident] = await this.incidents.listIncidents({ incidentId: id, limit: 1 });
        if (!incident) throw new HttpError(404, `no incident ${id}`);
        sendJson(res, 200, { incident, timeline: await this.incidents.timeline(id) });
      }
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      sendJson(res, err.status, { error: err.message });
    }
    return true;
  }
}
