import type {
  BridgeMsg,
  EventMsg,
  HealthMsg,
  Incident,
  IncidentStateMsg,
  Loc,
  Note,
  Pillar,
  PillarState,
  ResultMsg,
  SelfTestMsg,
  SessionMsg,
  StatusMsg,
} from "./model.js";

const MAX_TIMELINE = 30;
const ENDED = new Set(["ended"]);

/**
 * What the page knows: every pillar (status, health, faults, self-test, call session) and the
 * open incidents, built from the console server's stream. Closed incidents leave it. Commands the
 * page sent are remembered by correlationId so their results land on their own incident's card.
 */
export class Store {
  readonly pillars = new Map<string, Pillar>();
  readonly incidents = new Map<string, Incident>();
  /** correlationId → the incident (or pillar, for the self-test) a command was about. */
  private readonly sent = new Map<string, { incidentId?: string; pillarId: string; what: string }>();
  /** Results that came before the server told the page its command's id (bounded). */
  private readonly early = new Map<string, ResultMsg>();
  private listeners = new Set<() => void>();
  /** Told of every new incident (the alarm sound and notification). */
  onNewAlarm: (i: Incident) => void = () => undefined;

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** Drop the incidents not in this set (closed while the stream was away). */
  keepOnly(open: Set<string>): void {
    for (const id of this.incidents.keys()) if (!open.has(id)) this.incidents.delete(id);
  }

  pillar(id: string): Pillar {
    let p = this.pillars.get(id);
    if (!p) this.pillars.set(id, (p = { id, faults: new Map() }));
    return p;
  }

  /** Remember a command the page sent, so its result lands on the right card. */
  expect(correlationId: string, c: { incidentId?: string; pillarId: string; what: string }): void {
    this.sent.set(correlationId, c);
    if (this.sent.size > 500) this.sent.delete(this.sent.keys().next().value!);
    const early = this.early.get(correlationId);
    this.early.delete(correlationId);
    if (early) this.onResult(early);
    this.changed();
  }

  /** A pillar's state on the map and the fleet board. */
  stateOf(p: Pillar): PillarState {
    if ([...this.incidents.values()].some((i) => i.pillarId === p.id)) return "alarm";
    if (p.status?.state === "offline") return "offline";
    if (p.faults.size) return "fault";
    return p.status?.state === "online" ? "online" : "unknown";
  }

  /** Open incidents: unanswered alarms first, the oldest on top; then acknowledged ones, oldest first. */
  queue(): Incident[] {
    const rank = (i: Incident) => (i.state === "alarm" && !this.pillar(i.pillarId).session?.officer ? 0 : 1);
    return [...this.incidents.values()].sort(
      (a, b) => rank(a) - rank(b) || Date.parse(a.pressedAt) - Date.parse(b.pressedAt),
    );
  }

  apply(m: BridgeMsg): void {
    const p = this.pillar(m.pillarId);
    switch (m.kind) {
      case "status":
        this.onStatus(p, m.payload as StatusMsg | null);
        return;
      case "health": {
        const h = m.payload as HealthMsg;
        p.lastHeartbeat = h.at;
        p.faults = new Map(h.faults.map((f) => [`${f.component}/${f.code}`, f]));
        return;
      }
      case "event":
        this.onEvent(p, m.payload as EventMsg, !!m.replay);
        return;
      case "incident":
        if (m.payload) this.onIncidentState(p, m.payload as IncidentStateMsg, !!m.replay);
        return;
      case "selftest":
        p.selftest = (m.payload as SelfTestMsg | null) ?? undefined;
        p.selftestAsked = false;
        p.selftestProblem = undefined;
        return;
      case "session":
        this.onSession(p, m.payload as SessionMsg | null);
        return;
      case "result":
        this.onResult(m.payload as ResultMsg);
        return;
      case "snapshot": {
        const snap = m.payload as { incidentId: string; jpeg: string };
        const i = this.incidents.get(snap.incidentId);
        if (i) i.snapshot = `data:image/jpeg;base64,${snap.jpeg}`;
        return;
      }
    }
  }

  private onStatus(p: Pillar, s: StatusMsg | null): void {
    if (!s) {
      this.pillars.delete(p.id);
      return;
    }
    if (p.status?.state !== s.state || !p.since) p.since = s.at;
    p.status = s;
    if (s.location) p.location = s.location;
  }

  private onEvent(p: Pillar, e: EventMsg, replay: boolean): void {
    p.location = e.location;
    if (e.type === "fault") {
      const d = e.data as { component?: string; code?: string; message?: string };
      if (d?.component && d.code)
        p.faults.set(`${d.component}/${d.code}`, {
          component: d.component,
          code: d.code,
          message: String(d.message ?? ""),
          since: e.occurredAt,
        });
    }
    if (e.type === "fault.cleared") {
      const d = e.data as { component?: string; code?: string };
      p.faults.delete(`${d?.component}/${d?.code}`);
    }
    if (!e.incidentId) return;
    // a press the pillar's self-test asked for: shown on the fleet board, never an alarm
    if (e.data?.test === true) {
      if (e.type === "button.press" && (!p.testPress || e.occurredAt > p.testPress)) p.testPress = e.occurredAt;
      return;
    }
    if (e.type === "incident.closed") {
      this.incidents.delete(e.incidentId);
      return;
    }
    let i = this.incidents.get(e.incidentId);
    if (!i && e.type === "button.press") {
      i = this.openCard(p.id, e.incidentId, e.occurredAt, e.clockSynced, e.location);
      if (!replay) this.onNewAlarm(i);
    }
    if (!i) return;
    i.location = e.location;
    if (e.type === "button.press") {
      // the incident's first press, also when this page (or its console) missed that press
      const opened = e.data?.openedAt;
      if (typeof opened === "string" && opened < i.pressedAt && !Number.isNaN(Date.parse(opened))) i.pressedAt = opened;
      i.presses = Math.max(i.presses, Number(e.data?.press ?? 1));
      if (!e.clockSynced) i.clockSynced = false;
      this.note(i, { at: e.occurredAt, key: "evPress", args: { n: Number(e.data?.press ?? 1) } });
    }
    if (e.type === "incident.acknowledged") {
      i.state = "acknowledged";
      i.ackedBy = String(e.data?.operator ?? "—");
      this.note(i, { at: e.occurredAt, key: "evAck", args: { who: i.ackedBy } });
    }
  }

  /**
   * The pillar's own word on what is open there (retained): an open incident this page has not
   * seen (the console or the page started after its press) gets its card, counting from the
   * first press; any other incident of that pillar opened before the state was sent is over.
   */
  private onIncidentState(p: Pillar, s: IncidentStateMsg, replay: boolean): void {
    for (const i of [...this.incidents.values()])
      if (i.pillarId === p.id && i.id !== s.incidentId && i.pressedAt < s.at) this.incidents.delete(i.id);
    if (s.state === "idle" || !s.incidentId || !s.openedAt) return;
    if (s.test) {
      if (!p.testPress || s.openedAt > p.testPress) p.testPress = s.openedAt;
      return;
    }
    p.location = s.location;
    let i = this.incidents.get(s.incidentId);
    if (!i) {
      i = this.openCard(p.id, s.incidentId, s.openedAt, s.clockSynced, s.location);
      if (!replay && s.state === "alarm") this.onNewAlarm(i);
    }
    if (s.openedAt < i.pressedAt) i.pressedAt = s.openedAt;
    i.presses = Math.max(i.presses, s.presses);
    if (s.state === "acknowledged" && i.state !== "acknowledged") {
      i.state = "acknowledged";
      i.ackedBy = s.acknowledgedBy ?? "—";
      this.note(i, { at: s.acknowledgedAt ?? s.at, key: "evAck", args: { who: i.ackedBy } });
    }
  }

  private openCard(pillarId: string, id: string, pressedAt: string, clockSynced: boolean, location: Loc): Incident {
    const i: Incident = { id, pillarId, state: "alarm", pressedAt, clockSynced, presses: 0, location, timeline: [] };
    this.incidents.set(id, i);
    return i;
  }

  private onSession(p: Pillar, s: SessionMsg | null): void {
    const before = p.session;
    p.session = s && !ENDED.has(s.state) ? s : undefined;
    const i = s?.incidentId ? this.incidents.get(s.incidentId) : undefined;
    if (!i || !s) return;
    if (s.officer && s.officer !== before?.officer)
      this.note(i, { at: s.at, key: "evCallAnswered", args: { who: s.officer } });
    if (s.state === "ended" && before?.sessionId === s.sessionId)
      this.note(i, { at: s.at, key: "evCallEnded", args: { reason: s.reason ?? "—" } });
  }

  private onResult(r: ResultMsg): void {
    const c = r.correlationId ? this.sent.get(r.correlationId) : undefined;
    if (!c) {
      if (r.correlationId) this.early.set(r.correlationId, r);
      if (this.early.size > 50) this.early.delete(this.early.keys().next().value!);
      return;
    }
    this.sent.delete(r.correlationId!);
    if (c.what === "selftest") this.pillar(c.pillarId).selftestAsked = false;
    if (r.ok) {
      const report = r.result as SelfTestMsg | null;
      if (c.what === "selftest" && typeof report?.ok === "boolean" && typeof report.finishedAt === "string")
        this.pillar(c.pillarId).selftest = report;
      return;
    }
    const problem: Note = {
      at: new Date().toISOString(),
      key: "refused",
      args: { what: c.what, msg: r.error?.message ?? "?" },
    };
    const i = c.incidentId ? this.incidents.get(c.incidentId) : undefined;
    if (i) i.problem = problem;
    else if (c.what === "selftest") this.pillar(c.pillarId).selftestProblem = problem;
  }

  note(i: Incident, n: Note): void {
    i.timeline.push(n);
    if (i.timeline.length > MAX_TIMELINE) i.timeline.shift();
  }
}
