import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCenter } from "../support/center.js";
import { waitFor } from "../support/wait.js";
import { CallRig } from "./helpers/call-rig.js";
import { NodeOfficer } from "./helpers/node-officer.js";

/**
 * A caller whose call is over while the incident is still open (the officer hung up before
 * closing it, the call limit, a console that never came back) presses again: that press must
 * reach an officer. Found by the soak: after one failed call every later press of the open
 * incident was counted and sent, but no call was offered again.
 */
describe("a press on an open incident with no call", () => {
  const rig = new CallRig();
  let center: TestCenter;
  let anna: NodeOfficer;

  beforeAll(async () => {
    await rig.start();
    center = await new TestCenter(rig.mosq.url).start("pillar/v1/#");
    anna = await new NodeOfficer("anna", rig.mosq.url, "pillar-e2e").start();
  });
  afterAll(async () => {
    await anna?.stop();
    await center?.client?.endAsync(true);
    await rig.stop();
  });

  const click = async (pressNo: number) => {
    await fetch(`${rig.controlUrl}/sim/button/click?holdMs=80`, { method: "POST" });
    await center.until(
      () => center.events("button.press").some((e) => (e.data as { press?: number }).press === pressNo),
      `press ${pressNo} at the center`,
      10_000,
    );
  };

  it("offers a new alarm call for the same incident; a press during a live call offers none", async () => {
    await click(1);
    const first = await waitFor(() => anna.offers[0], "the first alarm offer");
    expect(first).toMatchObject({ kind: "alarm", center: "primary" });
    const incidentId = first.incidentId as string;
    expect(incidentId).toBe(rig.app.core.incidents.snapshot().incidentId);

    // the officer talks, then hangs up without closing the incident
    await waitFor(() => anna.lastState(first.sessionId)?.state === "connected", "connected");
    await anna.send("webrtc/pickup", { sessionId: first.sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(first.sessionId)?.state === "answered", "answered");
    await anna.send("webrtc/hangup", { sessionId: first.sessionId, officer: "anna", reason: "done" });
    await waitFor(() => anna.lastState(first.sessionId)?.state === "ended", "the first call ended");
    expect(rig.feature.call.snapshot()).toBeNull();
    expect(rig.app.core.incidents.snapshot()).toMatchObject({ incidentId, state: "alarm" });

    // the caller presses again: a new call to every console, for the same incident
    await click(2);
    const second = await waitFor(() => anna.offers[1], "a second alarm offer");
    expect(second).toMatchObject({ kind: "alarm", incidentId, center: "primary", to: null });
    expect(second.sessionId).not.toBe(first.sessionId);
    await waitFor(() => anna.lastState(second.sessionId)?.state === "connected", "the second call connected");

    // a press while that call lives changes nothing: the same session, no third offer
    await click(3);
    expect(rig.feature.call.snapshot()).toMatchObject({ sessionId: second.sessionId });
    expect(anna.offers.map((o) => o.sessionId)).toEqual([first.sessionId, second.sessionId]);

    // after the close, the next press opens a new incident with its own call, as always
    await rig.closeIncident();
    await waitFor(() => anna.lastState(second.sessionId)?.state === "ended", "the call ended with the incident");
    await click(1);
    const third = await waitFor(() => anna.offers[2], "the new incident's offer");
    expect(third.incidentId).not.toBe(incidentId);
  });
});
