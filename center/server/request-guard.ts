import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The host name of a Host header ("[::1]:8790" → "::1", "example:80" → "example"). */
function hostName(host: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (v6) return v6[1]!;
  return host.replace(/:\d+$/, "").toLowerCase();
}

/**
 * Whether a Host header is one the console answers to. A DNS-rebinding page reaches the console
 * under its own domain name, so only addresses (IP literals), `localhost` and the hosts of the
 * configured extra origins are accepted.
 */
export function hostAllowed(host: string | undefined, allowedOrigins: readonly string[]): boolean {
  if (!host || host.length > 300) return false;
  const name = hostName(host);
  if (isIP(name) || name === "localhost") return true;
  return allowedOrigins.some((o) => {
    try {
      return new URL(o).hostname.toLowerCase() === name;
    } catch {
      return false;
    }
  });
}

/**
 * Why a request may not go on, or null. Every request needs an allowed Host (DNS rebinding);
 * a state-changing one (POST, PUT, PATCH, DELETE) also needs an Origin that is the console's
 * own (or a configured one) when the browser sends one, no `Sec-Fetch-Site: cross-site`, and a
 * JSON body (`Content-Type: application/json`), which a cross-site form or `text/plain` fetch
 * cannot send without a CORS preflight the console never grants.
 */
export function requestProblem(req: IncomingMessage, allowedOrigins: readonly string[]): string | null {
  const host = req.headers.host;
  if (!hostAllowed(host, allowedOrigins)) return `host ${String(host).slice(0, 100)} is not this console's`;
  if (!STATE_CHANGING.has(req.method ?? "GET")) return null;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = [`http://${host}`, `https://${host}`];
    if (!own.includes(origin) && !allowedOrigins.includes(origin))
      return `origin ${origin.slice(0, 100)} may not change anything here`;
  }
  if (req.headers["sec-fetch-site"] === "cross-site") return "a cross-site request may not change anything here";
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") return "a state-changing request must be application/json";
  return null;
}
