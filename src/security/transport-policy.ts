import type { PillarConfig } from "../../config/schema.js";
import type { ConfigProblem } from "../config/config-errors.js";

/** True for a URL whose host is this machine (a broker or bridge on the pillar itself). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return false;
  }
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function isPlaintextUrl(url: string): boolean {
  return /^(mqtt|ws):\/\//i.test(url);
}

/**
 * The transport rules of `pillar.mode: "production"`: the broker is reached over TLS with a
 * client certificate (mutual TLS) and a named CA. A plaintext URL is accepted only to a loopback
 * address (a local bridge on the pillar itself: nothing leaves the box unencrypted).
 */
export function transportProblems(c: PillarConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const url = c.broker.url;
  if (c.pillar.mode === "production") {
    if (isPlaintextUrl(url) && !isLoopbackUrl(url)) {
      problems.push({
        path: "/broker/url",
        message: `a plaintext ${url.split(":")[0]}:// broker is refused in production mode: use mqtts:// (or wss://) with broker.tls`,
      });
    }
    (c.broker.failoverUrls ?? []).forEach((u, i) => {
      if (isPlaintextUrl(u) && !isLoopbackUrl(u))
        problems.push({
          path: `/broker/failoverUrls/${i}`,
          message: "a plaintext broker is refused in production mode",
        });
    });
    if (!isPlaintextUrl(url) && !c.broker.tls) {
      problems.push({
        path: "/broker/tls/caFile",
        message: "is required in production mode (with certFile and keyFile: the pillar's client certificate)",
      });
    }
  }
  return problems;
}
