import { describe, expect, it } from "vitest";
import type { BridgeMsg } from "../../center/web/src/model.js";
import { Store } from "../../center/web/src/store.js";

const LOC = { lat: 43.25, lon: 76.95, address: "Abai Ave 52", district: "Almaly" };
const msg = (kind: BridgeMsg["kind"], payload: unknown, replay = false): BridgeMsg => ({
  kind,
  pillarId: "alm-alm-002",
  payload,
  retain: kind === "incident",
  receivedAt: "2026-11-25T10:00:00.000Z",
  replay,
});
const state = (o: Record<string, unknown>) =>
  msg("incident", {
    v: 1,
    pillarId: "alm-alm-002",
    state: "alarm",
    incidentId: "inc-1",
    openedAt: "2026-11-25T09:00:00.000Z",
    presses: 1,
    acknowledgedBy: null,
    acknowledgedAt: null,
    clockSynced: true,
    location: LOC,
    at: "2026-11-25T09:05:00.000Z",
    ...o,
  });
const press = (incidentId: string, at: string, data: Record<string, unknown>) =>
  msg("event", {
    eventId: `e-${at}`,
    type: "button.press",
    occurredAt: at,
    clockSynced: true,
    location: LOC,
    incidentId,
    data,
  });

describe("the page's store: the pillars' incident state and test presses (unit)", () => {
  it("a card from the retained state counts from the first press, also when a later press comes first", () => {
    const s = new Store();
    const alarms: string[] = [];
    s.onNewAlarm = (i) => alarms.push(i.id);
    s.apply(press("inc-1", "2026-11-25T09:04:00.000Z", { press: 3, openedAt: "2026-11-25T09:00:00.000Z" }));
    expect(s.incidents.get("inc-1")).toMatchObject({ pressedAt: "2026-11-25T09:00:00.000Z", presses: 3 });
    s.apply(state({ presses: 3, state: "acknowledged", acknowledgedBy: "bolat" }));
    expect(s.incidents.get("inc-1")).toMatchObject({ state: "acknowledged", ackedBy: "bolat", presses: 3 });
    expect(alarms).toEqual(["inc-1"]);
  });

  it("the pillar's state ends an incident it no longer names (closed while the console was away), not a newer one", () => {
    const s = new Store();
    s.apply(press("old", "2026-11-25T08:00:00.000Z", { press: 1 }));
    s.apply(press("newer", "2026-11-25T09:10:00.000Z", { press: 1 }));
    s.apply(state({ state: "idle", incidentId: null, openedAt: null, presses: 0 }));
    expect([...s.incidents.keys()]).toEqual(["newer"]);
  });

  it("a test press is no card and no alarm: the fleet board shows it", () => {
    const s = new Store();
    const alarms: string[] = [];
    s.onNewAlarm = (i) => alarms.push(i.id);
    s.apply(state({ incidentId: "t-1", test: true }));
    s.apply(press("t-1", "2026-11-25T09:00:00.000Z", { press: 1, test: true }));
    expect(s.incidents.size).toBe(0);
    expect(alarms).toEqual([]);
    expect(s.pillar("alm-alm-002").testPress).toBe("2026-11-25T09:00:00.000Z");
  });
});
