import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/** "::ffff:10.0.0.5" → "10.0.0.5": one address has one spelling in the throttle's keys. */
function plain(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The client's address: the TCP peer, unless that peer is one of the `trustedProxies` (the
 * console config's reverse proxies), whose `X-Forwarded-For` then names the client. The header is
 * read from the right (what the nearest proxy added first), skipping further trusted proxies, so
 * a client cannot pick its own address by sending the header itself; a header from anyone else is
 * ignored. A malformed or oversized header falls back to the peer.
 */
export function clientAddress(req: IncomingMessage, trustedProxies: readonly string[]): string {
  const peer = plain(req.socket.remoteAddress ?? "?");
  if (!trustedProxies.length || !trustedProxies.includes(peer)) return peer;
  const header = req.headers["x-forwarded-for"];
  const value = Array.isArray(header) ? header.join(",") : header;
  if (!value || value.length > 2048) return peer;
  const hops = value.split(",").map((h) => plain(h.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) return peer;
    if (!trustedProxies.includes(hop)) return hop;
  }
  return peer;
}
