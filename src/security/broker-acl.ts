/**
 * Who may use which topic on the center's broker (docs/mqtt-security.md), as one list that the
 * reference Mosquitto ACL (scripts/mosquitto/alarm-pillar.acl, checked against it by a test)
 * and the NATS authorization below both follow. Suffixes below `pillar/v1/{id}/`.
 */
export const PILLAR_WRITES = [
  "event",
  "status",
  "incident",
  "health",
  "snapshot",
  "selftest",
  "selftest/probe",
  "cmd/+/result",
  "webrtc/offer",
  "webrtc/candidate/pillar",
  "webrtc/session",
  "webrtc/busy",
] as const;

export const PILLAR_READS = [
  "cmd/+",
  // the self-test's broker round trip: the pillar reads back what it published
  "selftest/probe",
  "webrtc/request",
  "webrtc/answer",
  "webrtc/candidate/center",
  "webrtc/pickup",
  "webrtc/hangup",
] as const;

/** An MQTT topic filter as the NATS subject it becomes (`/` → `.`, `+` → `*`, `#` → `>`). */
export function natsSubject(mqttFilter: string): string {
  return mqttFilter
    .split("/")
    .map((l) => (l === "+" ? "*" : l === "#" ? ">" : l))
    .join(".");
}

/**
 * The `authorization { users = [...] }` block of a nats-server config for an MQTT listener with
 * `tls { verify_and_map: true }`: each pillar's certificate subject (`CN={id}`) may publish only
 * its own pillar → center subjects and subscribe only to its own center → pillar ones (plus
 * `$MQTT.sub.>`, where NATS delivers QoS 1 messages to MQTT sessions). NATS 2.9's config has no
 * per-user pattern like Mosquitto's `%u`, so there is one entry per pillar. The center's
 * certificate (`CN=center`) is unrestricted.
 */
export function natsAuthorization(pillarIds: readonly string[], centerCn = "center"): string {
  const q = (s: string) => JSON.stringify(s);
  const users = pillarIds.map((id) => {
    if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(id)) throw new Error(`"${id}" is not a pillar id`);
    const pub = PILLAR_WRITES.map((t) => q(natsSubject(`pillar/v1/${id}/${t}`)));
    const sub = [...PILLAR_READS.map((t) => q(natsSubject(`pillar/v1/${id}/${t}`))), q("$MQTT.sub.>")];
    return `    { user: ${q(`CN=${id}`)}, permissions: { publish: { allow: [${pub.join(", ")}] }, subscribe: { allow: [${sub.join(", ")}] } } }`;
  });
  return [
    "authorization {",
    "  users = [",
    [`    { user: ${q(`CN=${centerCn}`)} }`, ...users].join(",\n"),
    "  ]",
    "}",
    "",
  ].join("\n");
}
