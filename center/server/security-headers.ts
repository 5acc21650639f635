import type { ServerResponse } from "node:http";

/**
 * The headers every answer of the console carries (its page, the login and history pages, every
 * JSON answer, errors included): a Content-Security-Policy allowing only the console's own
 * scripts (inline styles for the small pages; the tile server's origin for map images), no
 * framing by anyone (`frame-ancestors 'none'` and `X-Frame-Options: DENY` for older browsers),
 * no MIME sniffing and no Referer leaving the console.
 */
export function securityHeaders(tileUrl: string): Record<string, string> {
  let tiles = "";
  try {
    if (tileUrl) tiles = ` ${new URL(tileUrl.replace(/[{}]/g, "")).origin}`;
  } catch {
    // not a URL: no tiles can load
  }
  return {
    "content-security-policy": `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:${tiles}; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
  };
}

/** Sets the headers on a response before any route writes it (writeHead merges them in). */
export function applySecurityHeaders(res: ServerResponse, headers: Record<string, string>): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
}
