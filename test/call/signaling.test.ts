import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PeerSession } from "../../src/call/peer-session.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { NodeOfficer } from "./helpers/node-officer.js";
import { pidAlive } from "../support/processes.js";
import { sleep, waitFor } from "../support/wait.js";
import { CallServiceRig } from "./helpers/service-rig.js";

describe("call signaling over MQTT (pillar ↔ node-datachannel officers)", () => {
  const mosq = new TestMosquitto();
  let rig: CallServiceRig;
  const officers: NodeOfficer[] = [];
  const officer = async (name: string, auto = true, extra: string[] = [], persistent = false) => {
    const o = await new NodeOfficer(name, mosq.url, rig.pillarId, auto, extra, persistent).start();
    officers.push(o);
    return o;
  };

  beforeAll(async () => {
    await mosq.start();
  });
  afterAll(async () => {
    await mosq.dispose();
  });
  const setup = async () => (rig = await new CallServiceRig().start(mosq.url));
  afterEach(async () => {
    for (const o of officers.splice(0)) await o.stop();
    const pids = rig.pids();
    await rig.stop();
    for (const p of pids) expect(pidAlive(p)).toBe(false);
    expect(PeerSession.open).toBe(0);
  });

  it("alarm: offered to every console; the first officer gets it, a second gets a clear busy; pickup opens audio; hang-up ends", async () => {
    await setup();
    const anna = await officer("anna");
    const ben = await officer("ben", false);
    rig.alarm("inc-1");
    const offer = await waitFor(() => anna.offers[0], "offer at anna");
    expect(offer).toMatchObject({
      v: 1,
      pillarId: "pillar-sig",
      kind: "alarm",
      incidentId: "inc-1",
      center: "primary",
      to: null,
      limitS: 600,
    });
    expect(offer.sdp).toContain("H264/90000");
    await waitFor(() => ben.offers[0], "ben saw the offer too");
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "connected", "connected");
    await waitFor(() => anna.received.video > 20, "video at anna");
    expect(anna.lastState(offer.sessionId)).toMatchObject({ officer: "anna", kind: "alarm" });
    expect(anna.received.audio).toBe(0); // no caller audio before pickup

    ben.answer(offer);
    await waitFor(() => ben.busy[0], "busy for ben");
    expect(ben.busy[0]).toMatchObject({
      reason: "busy",
      sessionId: offer.sessionId,
      activeSessionId: offer.sessionId,
      activeOfficer: "anna",
    });
    expect(ben.busy[0]!.message).toBe("answered by anna");
    await ben.send("webrtc/pickup", { sessionId: offer.sessionId, officer: "ben" });
    await ben.send("webrtc/hangup", { sessionId: offer.sessionId, officer: "ben" });
    await waitFor(() => ben.busy.length >= 3, "two more busy answers");
    // the second console's pickup and hang-up: refused, "answered by" the first
    expect(ben.busy.slice(0, 3).map((b) => b.message)).toEqual(Array(3).fill("answered by anna"));
    expect(rig.call.snapshot()).toMatchObject({ state: "connected", officer: "anna" });

    await anna.send("webrtc/pickup", { sessionId: offer.sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "answered", "answered");
    await waitFor(() => anna.received.audio > 20, "the caller's voice (pillar mic) at anna");
    expect(pidAlive(rig.mic.pid()) && pidAlive(rig.speaker.pid())).toBe(true);

    await anna.send("webrtc/hangup", { sessionId: offer.sessionId, officer: "anna", reason: "done" });
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "ended", "ended");
    expect(anna.lastState(offer.sessionId)!.reason).toBe("hangup: done");
    expect(rig.call.snapshot()).toBeNull();
    await waitFor(() => !rig.feed.isRunning(), "camera stopped");
  });

  it("look-in without a press: offered to the asking officer only; others are refused; invalid payloads reach nothing", async () => {
    await setup();
    const anna = await officer("anna");
    const ben = await officer("ben");
    await anna.sendRaw("webrtc/request", "{not json");
    await anna.send("webrtc/request", { officer: "anna", kind: "lookin", extra: 1 });
    await waitFor(
      () => rig.logs.filter((l) => l.msg === "signaling message refused").length >= 2,
      "two refusals logged",
    );
    expect(
      rig.logs
        .filter((l) => l.msg === "signaling message refused")
        .map((l) => l.err)
        .join(" "),
    ).toMatch(/not JSON.*must NOT have additional properties/s);
    expect(rig.call.snapshot()).toBeNull();

    await anna.send("webrtc/request", { officer: "anna", kind: "lookin" });
    const offer = await waitFor(() => anna.offers[0], "look-in offer");
    expect(offer).toMatchObject({ kind: "lookin", to: "anna", incidentId: null });
    await waitFor(() => anna.received.video > 10, "video");
    expect(ben.offers).toHaveLength(0); // addressed to anna: ben's console ignores it
    await ben.send("webrtc/request", { officer: "ben", kind: "lookin" });
    await waitFor(() => ben.busy[0], "busy for ben");
    expect(ben.busy[0]).toMatchObject({ reason: "busy", activeOfficer: "anna" });
    await ben.send("webrtc/hangup", { sessionId: "no-such-session", officer: "ben" });
    await waitFor(() => ben.busy.length >= 2, "second refusal");

    // A press during a look-in turns it into an alarm call offered to everyone.
    rig.alarm("inc-2");
    await waitFor(
      () => anna.sessions.some((s) => s.sessionId === offer.sessionId && s.state === "ended" && s.reason === "alarm"),
      "look-in ended for the alarm",
    );
    await waitFor(() => ben.offers.find((o) => o.kind === "alarm"), "alarm offer at ben");
    rig.idle();
    await waitFor(
      () =>
        anna.sessions.some((s) => s.incidentId === "inc-2" && s.state === "ended" && s.reason === "incident_closed"),
      "alarm session ended with the incident",
    );
  });

  it("call limit: warning state and tone before the end, then the pillar hangs up", async () => {
    await setup();
    rig.settings = { ...rig.settings, callLimitS: 3, warningBeforeEndS: 1 };
    const anna = await officer("anna");
    rig.alarm("inc-3");
    const offer = await waitFor(() => anna.offers[0], "offer");
    await anna.send("webrtc/pickup", { sessionId: offer.sessionId, officer: "anna" });
    const mine = (state: string) => anna.sessions.find((s) => s.sessionId === offer.sessionId && s.state === state);
    const warn = await waitFor(() => mine("warning"), "warning");
    // the warning comes before the end, and the end is the limit after the call began (the
    // offer is stamped once its SDP is made, a little after the start: under load ~0.5 s)
    expect(Date.parse(warn.endsAt)).toBeGreaterThan(Date.parse(warn.at));
    expect(Date.parse(warn.endsAt) - Date.parse(offer.at)).toBeLessThanOrEqual(3000);
    expect(rig.speaker.beeps).toHaveLength(1);
    const ended = await waitFor(() => mine("ended"), "ended by the limit");
    expect(ended.reason).toBe("limit");
    expect(rig.speaker.beeps).toHaveLength(1); // the tone came with the warning, before the end, once
    // not before the announced end (same clock: the pillar's; a timer may fire a millisecond early)
    expect(Date.parse(ended.at)).toBeGreaterThanOrEqual(Date.parse(warn.endsAt) - 5);
  });

  it("an alarm nobody picks up is re-offered to the secondary center, whose officer can take it", async () => {
    await setup();
    rig.settings = { ...rig.settings, answerTimeoutS: 1, secondaryCenterTopic: "center/v1/secondary" };
    const anna = await officer("anna", false);
    const sam = await officer("sam", true, ["center/v1/secondary/offer"]);
    rig.alarm("inc-4");
    const first = await waitFor(() => anna.offers[0], "primary offer");
    expect(sam.offers.filter((o) => o.center === "secondary")).toHaveLength(0);
    const second = await waitFor(() => sam.offers.find((o) => o.center === "secondary"), "secondary offer", 5000);
    expect(second).toMatchObject({ kind: "alarm", incidentId: "inc-4", to: null });
    expect(anna.sessions.find((s) => s.sessionId === first.sessionId && s.state === "ended")?.reason).toBe(
      "answer_timeout",
    );
    await waitFor(() => sam.lastState(second.sessionId)?.state === "connected", "sam connected");
    await sam.send("webrtc/pickup", { sessionId: second.sessionId, officer: "sam" });
    await waitFor(() => sam.lastState(second.sessionId)?.state === "answered", "sam answered");
    await sleep(1500); // answered: no further re-routing
    expect(rig.call.snapshot()).toMatchObject({ sessionId: second.sessionId, state: "answered", center: "secondary" });
  });

  it("an offer made while the broker was down is sent again after the pillar reconnects", async () => {
    await setup();
    const anna = await officer("anna", true, [], true); // persistent: gets what is published while she reconnects
    await mosq.stop();
    await waitFor(() => !rig.uplink.isConnected(), "pillar offline", 10_000);
    rig.alarm("inc-5");
    await waitFor(() => rig.call.snapshot()?.state === "offered", "offer made (publish failed)");
    expect(anna.offers).toHaveLength(0);
    await mosq.start();
    const offer = await waitFor(
      () => anna.offers.find((o) => o.incidentId === "inc-5"),
      "offer re-sent after the reconnect",
      15_000,
    );
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "connected", "connected", 10_000);
    await waitFor(() => anna.received.video > 0, "video after the reconnect", 10_000);
    expect(anna.received.video).toBeGreaterThan(0);
  });

  it("call.volume command changes the speaker volume and mic gain, validated", async () => {
    await setup();
    const anna = await officer("anna");
    const results: any[] = [];
    anna.client.on(
      "message",
      (t, p) => t.endsWith("/cmd/call.volume/result") && results.push(JSON.parse(p.toString())),
    );
    await anna.client.subscribeAsync("pillar/v1/pillar-sig/cmd/+/result", { qos: 1 });
    await anna.client.publishAsync(
      "pillar/v1/pillar-sig/cmd/call.volume",
      JSON.stringify({ correlationId: "v1", speaker: 40, micGainDb: 6 }),
      { qos: 1 },
    );
    await anna.client.publishAsync(
      "pillar/v1/pillar-sig/cmd/call.volume",
      JSON.stringify({ correlationId: "v2", speaker: 150 }),
      { qos: 1 },
    );
    await waitFor(() => results.length >= 2, "two results");
    expect(results.find((r) => r.correlationId === "v1")).toMatchObject({
      ok: true,
      result: { speaker: 40, micGainDb: 6 },
    });
    expect(results.find((r) => r.correlationId === "v2")).toMatchObject({
      ok: false,
      error: { code: "invalid_payload" },
    });
    expect(rig.speaker.currentVolume).toBe(40);
  });
  it("call ownership: another console cannot pick up, hang up, re-ask or set the volume of a call answered by the first", async () => {
    await setup();
    const anna = await officer("anna");
    const ben = await officer("ben", false);
    // another console claiming to be anna: same officer id, but not the console that answered
    const mallory = await officer("anna", false);
    const results: any[] = [];
    ben.client.on("message", (t, p) => t.endsWith("/cmd/call.volume/result") && results.push(JSON.parse(p.toString())));
    await ben.client.subscribeAsync("pillar/v1/pillar-sig/cmd/+/result", { qos: 1 });
    const volume = (from: NodeOfficer, body: Record<string, unknown>) =>
      from.client.publishAsync(
        "pillar/v1/pillar-sig/cmd/call.volume",
        JSON.stringify({ issuedAt: new Date().toISOString(), ...body }),
        { qos: 1 },
      );
    const refusals = () =>
      rig.logs.filter((l) => l.msg === "refused: the call belongs to the console that answered it");

    rig.alarm("inc-own");
    const offer = await waitFor(() => anna.offers[0], "offer at anna");
    await waitFor(() => anna.lastState(offer.sessionId)?.state === "connected", "connected");
    const sessionId = offer.sessionId as string;

    await ben.send("webrtc/pickup", { sessionId, officer: "ben" });
    await mallory.send("webrtc/pickup", { sessionId, officer: "anna" });
    await mallory.send("webrtc/hangup", { sessionId, officer: "anna" });
    await mallory.send("webrtc/request", { officer: "anna", kind: "alarm" });
    await volume(ben, { correlationId: "ben-vol", speaker: 5 });
    await waitFor(() => refusals().length >= 4, "four refusals logged");
    expect(ben.busy[0]).toMatchObject({ reason: "busy", activeOfficer: "anna", sessionId });
    expect(refusals().filter((l) => l.sameName)).toHaveLength(3);
    await waitFor(() => mallory.busy.filter((b) => b.reason === "not_owner").length >= 3, "three not_owner answers");
    await waitFor(() => results.find((r) => r.correlationId === "ben-vol"), "ben's volume refused");
    expect(results.find((r) => r.correlationId === "ben-vol")).toMatchObject({
      ok: false,
      error: { code: "not_owner" },
    });
    expect(rig.logs.some((l) => l.msg === "call.volume refused: not the call's owner")).toBe(true);
    expect(rig.speaker.currentVolume).toBe(80);
    expect(rig.call.snapshot()).toMatchObject({ sessionId, state: "connected", officer: "anna" });

    // anna's own pickup, sent two minutes ago and delivered now, is stale
    await anna.send("webrtc/pickup", {
      sessionId,
      officer: "anna",
      issuedAt: new Date(Date.now() - 120_000).toISOString(),
    });
    await waitFor(
      () => rig.logs.some((l) => l.msg === "signaling message refused" && /^stale: issued 1[12]\d s ago/.test(l.err)),
      "stale pickup refused",
    );
    expect(rig.call.snapshot()).toMatchObject({ state: "connected" });

    await anna.send("webrtc/pickup", { sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(sessionId)?.state === "answered", "answered");
    await ben.send("webrtc/hangup", { sessionId, officer: "ben" });
    await mallory.send("webrtc/hangup", { sessionId, officer: "anna" });
    await waitFor(() => refusals().length >= 6, "two more refusals");
    expect(rig.call.snapshot()).toMatchObject({ sessionId, state: "answered", officer: "anna" });
    await volume(anna, { correlationId: "anna-vol", speaker: 30, sessionId, callToken: anna.callToken });
    await waitFor(() => results.find((r) => r.correlationId === "anna-vol"), "anna's volume");
    expect(results.find((r) => r.correlationId === "anna-vol")).toMatchObject({ ok: true, result: { speaker: 30 } });

    await anna.send("webrtc/hangup", { sessionId, officer: "anna" });
    await waitFor(() => anna.lastState(sessionId)?.state === "ended", "ended by anna");
    expect(anna.lastState(sessionId)!.reason).toBe("hangup");
  });
});
