import { createHmac, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CenterParts, Officer } from "./center-hooks.js";

const SIGNALING_TOPIC =
  /^pillar\/v1\/[a-z0-9][a-z0-9-]{1,62}\/webrtc\/(request|answer|candidate\/center|pickup|hangup)$/;
const COMMAND_TOPIC = /^pillar\/v1\/[a-z0-9][a-z0-9-]{1,62}\/cmd\/([a-z.]+)$/;

function wantsPage(req: IncomingMessage, url: URL): boolean {
  return url.pathname === "/" || url.pathname.endsWith(".html") || /text\/html/.test(req.headers.accept ?? "");
}

/**
 * The center's part of every request, after the server's own Origin/Host/JSON checks and before
 * its routes (center-hooks.ts): who is asking; a visitor without a session is sent to the login
 * page (a page) or refused with 401 (anything else), unless the path is public (the login page);
 * then the center's routes (login, logout, history, report) may answer. Resolves to the officer
 * (null: the open demo console, no accounts) when the console's own routes should go on, or to
 * undefined when the request was answered here.
 */
export async function passCenterGate(
  parts: CenterParts | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<{ officer: Officer | null } | undefined> {
  const auth = parts?.auth;
  const officer = auth ? await auth.officer(req) : null;
  const method = req.method ?? "GET";
  if (auth && !officer && !auth.isPublic(url.pathname, method)) {
    if (method === "GET" && wantsPage(req, url)) {
      const next = url.pathname === "/" ? "" : `?next=${encodeURIComponent(url.pathname)}`;
      res.writeHead(303, { location: `${auth.loginPath}${next}`, "cache-control": "no-store" });
    } else res.writeHead(401, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(method === "GET" && wantsPage(req, url) ? "" : JSON.stringify({ error: "not logged in" }));
    return undefined;
  }
  for (const route of parts?.routes ?? []) if (await route.handle(req, res, url, officer)) return undefined;
  return { officer };
}

/**
 * What the console publishes for a logged-in officer carries that officer, whatever the page
 * said: `incident.ack` gets `operator` (the pillar copies it into `incident.acknowledged`), the
 * center's signaling (answer, pickup, hangup, a look-in's request…) gets `officer`; the log
 * stores every command with the officer (center/log). Without accounts (the open demo console)
 * the page's own per-tab id stays.
 */
export function officerStamp(topic: string, payload: object, officer: Officer | null, callTokenKey?: string): object {
  if (!officer) return payload;
  const command = COMMAND_TOPIC.exec(topic)?.[1];
  if (command === "incident.ack") return { ...payload, operator: officer.name };
  // the center's signaling (request, answer, candidate, pickup, hangup, a look-in): who acts,
  // and the officer's call token (kept by the server per login: any tab of theirs may act on
  // their call, another officer's may not)
  if (SIGNALING_TOPIC.test(topic) && "officer" in payload) {
    const token = callTokenKey && "callToken" in payload ? { callToken: callTokenFor(callTokenKey, officer.id) } : {};
    return { ...payload, officer: officer.id, ...token };
  }
  return payload;
}

/** An officer's call token: an HMAC of their id under the center's key (the same on every server). */
export function callTokenFor(key: string, officerId: string): string {
  return createHmac("sha256", key).update(`call-token:${officerId}`).digest("base64url");
}

/** A correlation id made by the server for a page's command: `{command}-{uuid}` (≤ 64 characters). */
export function serverCorrelationId(topic: string): string {
  const command = (COMMAND_TOPIC.exec(topic)?.[1] ?? "cmd").slice(0, 24);
  return `${command}-${randomUUID()}`;
}

/** Hands a message the console published to the center's taps (the log stores it with the officer). */
export async function tapPublished(
  parts: CenterParts | undefined,
  topic: string,
  payload: unknown,
  officer: Officer | null,
): Promise<void> {
  await Promise.all((parts?.taps ?? []).map((t) => t.published?.(topic, payload, officer)));
}
