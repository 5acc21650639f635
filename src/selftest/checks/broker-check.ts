import { randomUUID } from "node:crypto";
import { type Check, fail, pass, round, within } from "../check.js";

/** The broker round trip's topic: the pillar may write and read it (scripts/mosquitto, NATS authz). */
export const PROBE_SUFFIX = "selftest/probe";
const TIMEOUT_MS = 5000;
const RESEND_MS = 500;

/**
 * Connected to the broker; a message published on the pillar's own probe topic comes back:
 * the round-trip time. Published again every 500 ms until one returns (the subscription is
 * not acknowledged before the first), each with its own nonce.
 */
export const brokerCheck: Check = {
  id: "broker.roundtrip",
  component: "broker",
  title: "broker: publish and receive",
  required: true,
  async run(ctx) {
    const { uplink } = ctx;
    const until = Date.now() + TIMEOUT_MS;
    while (!uplink.isConnected() && Date.now() < until && !ctx.signal.aborted)
      await new Promise((r) => setTimeout(r, 100));
    if (!uplink.isConnected())
      return fail(`not connected to the broker ${ctx.config.broker.url} within ${TIMEOUT_MS / 1000} s`);
    const topic = uplink.topics.sub(PROBE_SUFFIX);
    const sent = new Map<string, number>();
    let rtt: number | undefined;
    let got: () => void = () => {};
    const back = new Promise<void>((r) => (got = r));
    const off = uplink.subscribe(topic, (_t, payload) => {
      const nonce = payload.toString("utf8", 0, 64);
      const at = sent.get(nonce);
      if (at === undefined || rtt !== undefined) return;
      rtt = performance.now() - at;
      got();
    });
    const timer = setInterval(() => send(), RESEND_MS);
    const send = () => {
      const nonce = randomUUID();
      sent.set(nonce, performance.now());
      uplink.publish(topic, nonce, { qos: 1 }).catch(() => undefined);
    };
    try {
      send();
      await within(back, Math.max(0, until - Date.now()) + RESEND_MS, ctx.signal);
    } finally {
      clearInterval(timer);
      off();
    }
    if (rtt === undefined)
      return fail(`published ${sent.size} probes on ${topic}, none came back (broker ACL? subscription refused?)`);
    const ms = round(rtt);
    return pass(`a probe came back in ${ms} ms`, ms, "ms");
  },
};
