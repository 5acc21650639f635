/** The MQTT topic names of one pillar (contract version v1; see README "MQTT contract"). */
export class PillarTopics {
  readonly base: string;

  constructor(readonly pillarId: string) {
    this.base = `pillar/v1/${pillarId}`;
  }

  get event(): string {
    return `${this.base}/event`;
  }
  get status(): string {
    return `${this.base}/status`;
  }
  get health(): string {
    return `${this.base}/health`;
  }
  /** Subscription filter for every command addressed to this pillar. */
  get commands(): string {
    return `${this.base}/cmd/+`;
  }
  command(name: string): string {
    return `${this.base}/cmd/${name}`;
  }
  commandResult(name: string): string {
    return `${this.base}/cmd/${name}/result`;
  }
  /** Any other topic below the pillar's base, e.g. `sub("webrtc/offer")`. */
  sub(suffix: string): string {
    return `${this.base}/${suffix}`;
  }
}

/** True when `topic` matches the MQTT filter (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
