import { describe, expect, it } from "vitest";
import { waitFor } from "../support/wait.js";
import { withCallServiceRig } from "./helpers/service-rig.js";

/** The re-join protocol's edges (docs/call.md "Re-join"): the grace running out, an unclaimed offer asked again. */
describe("call re-join: grace and unclaimed offers", () => {
  const t = withCallServiceRig();
  const officer = t.officer;

  it("a re-join that never completes: the call ends (connection_lost) once the grace is over, devices released", async () => {
    const rig = await t.start("pillar-grace");
    rig.settings.rejoinGraceS = 2; // below the schema's minimum: the rig takes settings as they are
    const states: { state: string; reason?: string }[] = [];
    rig.bus.on("call.state", (e) => states.push({ state: e.state, reason: e.reason }));
    const anna = await officer("anna", true);
    anna.autoRejoin = true;
    rig.alarm("inc-grace");
    const offer = await waitFor(() => anna.offers[0], "offer at anna");
    const sessionId = offer.sessionId as string;
    await waitFor(() => anna.lastState(sessionId)?.state === "connected", "connected");
    await anna.send("webrtc/pickup", { sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(sessionId)?.state === "answered", "answered");

    // the page reloads and asks to re-join, then dies before answering the new offer
    const dying = await officer("anna", false);
    dying.callToken = anna.callToken;
    await anna.stop();
    await dying.send("webrtc/request", { officer: "anna", kind: "alarm", sessionId });
    await waitFor(() => dying.offers.find((o) => o.rejoin === true), "the re-join offer");
    await waitFor(() => dying.lastState(sessionId)?.state === "ended", "ended after the grace", 20_000);
    expect(dying.lastState(sessionId)).toMatchObject({ state: "ended", reason: "connection_lost", officer: "anna" });
    // The old page's peer dying and the new page's request race: whichever the pillar sees first
    // names the wait ("connection_lost" or "rejoin"); either way there is one wait, then the end.
    const rejoining = states.find((s) => s.state === "rejoining");
    expect(["rejoin", "connection_lost"]).toContain(rejoining?.reason);
    expect(states.map((s) => s.state)).toEqual(["offered", "connected", "answered", "rejoining", "ended"]);
    expect(rig.call.snapshot()).toBeNull();
    await waitFor(() => !rig.feed.isRunning() && rig.speaker.pid() === undefined, "camera and speaker released");
  });

  it("a request while an alarm offer is unclaimed: the same offer again, to everyone; any console can still take it", async () => {
    const rig = await t.start("pillar-unclaimed");
    const anna = await officer("anna", false);
    const ben = await officer("ben", false);
    rig.alarm("inc-unclaimed");
    const first = await waitFor(() => anna.offers[0], "offer at anna");
    await waitFor(() => ben.offers[0], "offer at ben");

    // ben's page reloads: it sees the retained `offered` with no officer and asks (no token)
    await ben.send("webrtc/request", { officer: "ben", kind: "alarm" });
    await waitFor(() => anna.offers.length >= 2 && ben.offers.length >= 2, "the offer again at both");
    expect(anna.offers[1]).toMatchObject({ sessionId: first.sessionId, to: null, sdp: first.sdp });
    expect(rig.call.snapshot()).toMatchObject({ sessionId: first.sessionId, state: "offered", officer: null });

    // anna clicks Answer on it: she claims it, ben sees "answered by anna"
    anna.answer(anna.offers[1]!);
    await waitFor(() => ben.lastState(first.sessionId)?.officer === "anna", "ben sees who took it");
    await anna.send("webrtc/pickup", { sessionId: first.sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(first.sessionId)?.state === "answered", "answered by anna");
    ben.answer(ben.offers[1]!);
    await waitFor(() => ben.busy[0], "ben refused");
    expect(ben.busy[0]).toMatchObject({ reason: "busy", activeOfficer: "anna", message: "answered by anna" });
  });
});
