import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PeerSession } from "../../src/call/peer-session.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { NodeOfficer } from "./helpers/node-officer.js";
import { pidAlive, sleep, waitFor } from "./helpers/procs.js";
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
    const offer = await waitFor("offer at anna", () => anna.offers[0]);
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
    await waitFor("ben saw the offer too", () => ben.offers[0]);
    await waitFor("connected", () => anna.lastState(offer.sessionId)?.state === "connected");
    await waitFor("video at anna", () => anna.received.video > 20);
    expect(anna.lastState(offer.sessionId)).toMatchObject({ officer: "anna", kind: "alarm" });
    expect(anna.received.audio).toBe(0); // no caller audio before pickup

    ben.answer(offer);
    await waitFor("busy for ben", () => ben.busy[0]);
    expect(ben.busy[0]).toMatchObject({
      reason: "busy",
      sessionId: offer.sessionId,
      activeSessionId: offer.sessionId,
      activeOfficer: "anna",
    });
    expect(ben.busy[0]!.message).toBe("the pillar is in a call with anna");
    await ben.send("webrtc/pickup", { sessionId: offer.sessionId, officer: "ben" });
    await ben.send("webrtc/hangup", { sessionId: offer.sessionId, officer: "ben" });
    await waitFor("two more busy answers", () => ben.busy.length >= 3);
    expect(rig.call.snapshot()).toMatchObject({ state: "connected", officer: "anna" });

    await anna.send("webrtc/pickup", { sessionId: offer.sessionId, officer: "anna" });
    await waitFor("answered", () => anna.lastState(offer.sessionId)?.state === "answered");
    await waitFor("the caller's voice (pillar mic) at anna", () => anna.received.audio > 20);
    expect(pidAlive(rig.mic.pid()) && pidAlive(rig.speaker.pid())).toBe(true);

    await anna.send("webrtc/hangup", { sessionId: offer.sessionId, officer: "anna", reason: "done" });
    await waitFor("ended", () => anna.lastState(offer.sessionId)?.state === "ended");
    expect(anna.lastState(offer.sessionId)!.reason).toBe("hangup: done");
    expect(rig.call.snapshot()).toBeNull();
    await waitFor("camera stopped", () => !rig.feed.isRunning());
  });

  it("look-in without a press: offered to the asking officer only; others are refused; invalid payloads reach nothing", async () => {
    await setup();
    const anna = await officer("anna");
    const ben = await officer("ben");
    await anna.sendRaw("webrtc/request", "{not json");
    await anna.send("webrtc/request", { officer: "anna", kind: "lookin", extra: 1 });
    await waitFor(
      "two refusals logged",
      () => rig.logs.filter((l) => l.msg === "signaling message refused").length >= 2,
    );
    expect(
      rig.logs
        .filter((l) => l.msg === "signaling message refused")
        .map((l) => l.err)
        .join(" "),
    ).toMatch(/not JSON.*must NOT have additional properties/s);
    expect(rig.call.snapshot()).toBeNull();

    await anna.send("webrtc/request", { officer: "anna", kind: "lookin" });
    const offer = await waitFor("look-in offer", () => anna.offers[0]);
    expect(offer).toMatchObject({ kind: "lookin", to: "anna", incidentId: null });
    await waitFor("video", () => anna.received.video > 10);
    expect(ben.offers).toHaveLength(0); // addressed to anna: ben's console ignores it
    await ben.send("webrtc/request", { officer: "ben", kind: "lookin" });
    await waitFor("busy for ben", () => ben.busy[0]);
    expect(ben.busy[0]).toMatchObject({ reason: "busy", activeOfficer: "anna" });
    await ben.send("webrtc/hangup", { sessionId: "no-such-session", officer: "ben" });
    await waitFor("second refusal", () => ben.busy.length >= 2);

    // A press during a look-in turns it into an alarm call offered to everyone.
    rig.alarm("inc-2");
    await waitFor("look-in ended for the alarm", () =>
      anna.sessions.some((s) => s.sessionId === offer.sessionId && s.state === "ended" && s.reason === "alarm"),
    );
    await waitFor("alarm offer at ben", () => ben.offers.find((o) => o.kind === "alarm"));
    rig.idle();
    await waitFor("alarm session ended with the incident", () =>
      anna.sessions.some((s) => s.incidentId === "inc-2" && s.state === "ended" && s.reason === "incident_closed"),
    );
  });

  it("call limit: warning state and tone before the end, then the pillar hangs up", async () => {
    await setup();
    rig.settings = { ...rig.settings, callLimitS: 3, warningBeforeEndS: 1 };
    const anna = await officer("anna");
    rig.alarm("inc-3");
    const offer = await waitFor("offer", () => anna.offers[0]);
    await anna.send("webrtc/pickup", { sessionId: offer.sessionId, officer: "anna" });
    const mine = (state: string) => anna.sessions.find((s) => s.sessionId === offer.sessionId && s.state === state);
    const warn = await waitFor("warning", () => mine("warning"), 5000);
    expect(Date.parse(warn.endsAt) - Date.parse(offer.at)).toBeGreaterThan(2500);
    expect(rig.speaker.beeps).toHaveLength(1);
    expect(rig.speaker.beeps[0]!.at).toBeLessThan(Date.parse(warn.endsAt) - 500);
    const ended = await waitFor("ended by the limit", () => mine("ended"), 5000);
    expect(ended.reason).toBe("limit");
    expect(Date.parse(ended.at) - Date.parse(offer.at)).toBeGreaterThanOrEqual(2900);
  });

  it("an alarm nobody picks up is re-offered to the secondary center, whose officer can take it", async () => {
    await setup();
    rig.settings = { ...rig.settings, answerTimeoutS: 1, secondaryCenterTopic: "center/v1/secondary" };
    const anna = await officer("anna", false);
    const sam = await officer("sam", true, ["center/v1/secondary/offer"]);
    rig.alarm("inc-4");
    const first = await waitFor("primary offer", () => anna.offers[0]);
    expect(sam.offers.filter((o) => o.center === "secondary")).toHaveLength(0);
    const second = await waitFor("secondary offer", () => sam.offers.find((o) => o.center === "secondary"), 5000);
    expect(second).toMatchObject({ kind: "alarm", incidentId: "inc-4", to: null });
    expect(anna.sessions.find((s) => s.sessionId === first.sessionId && s.state === "ended")?.reason).toBe(
      "answer_timeout",
    );
    await waitFor("sam connected", () => sam.lastState(second.sessionId)?.state === "connected");
    await sam.send("webrtc/pickup", { sessionId: second.sessionId, officer: "sam" });
    await waitFor("sam answered", () => sam.lastState(second.sessionId)?.state === "answered");
    await sleep(1500); // answered: no further re-routing
    expect(rig.call.snapshot()).toMatchObject({ sessionId: second.sessionId, state: "answered", center: "secondary" });
  });

  it("an offer made while the broker was down is sent again after the pillar reconnects", async () => {
    await setup();
    const anna = await officer("anna", true, [], true); // persistent: gets what is published while she reconnects
    await mosq.stop();
    await waitFor("pillar offline", () => !rig.uplink.isConnected(), 10_000);
    rig.alarm("inc-5");
    await waitFor("offer made (publish failed)", () => rig.call.snapshot()?.state === "offered");
    expect(anna.offers).toHaveLength(0);
    await mosq.start();
    const offer = await waitFor(
      "offer re-sent after the reconnect",
      () => anna.offers.find((o) => o.incidentId === "inc-5"),
      15_000,
    );
    await waitFor("connected", () => anna.lastState(offer.sessionId)?.state === "connected", 10_000);
    await waitFor("video after the reconnect", () => anna.received.video > 0, 10_000);
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
    await waitFor("two results", () => results.length >= 2);
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
    const offer = await waitFor("offer at anna", () => anna.offers[0]);
    await waitFor("connected", () => anna.lastState(offer.sessionId)?.state === "connected");
    const sessionId = offer.sessionId as string;

    await ben.send("webrtc/pickup", { sessionId, officer: "ben" });
    await mallory.send("webrtc/pickup", { sessionId, officer: "anna" });
    await mallory.send("webrtc/hangup", { sessionId, officer: "anna" });
    await mallory.send("webrtc/request", { officer: "anna", kind: "alarm" });
    await volume(ben, { correlationId: "ben-vol", speaker: 5 });
    await waitFor("four refusals logged", () => refusals().length >= 4);
    expect(ben.busy[0]).toMatchObject({ reason: "busy", activeOfficer: "anna", sessionId });
    expect(refusals().filter((l) => l.sameName)).toHaveLength(3);
    await waitFor("three not_owner answers", () => mallory.busy.filter((b) => b.reason === "not_owner").length >= 3);
    await waitFor("ben's volume refused", () => results.find((r) => r.correlationId === "ben-vol"));
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
    await waitFor("stale pickup refused", () =>
      rig.logs.some((l) => l.msg === "signaling message refused" && /^stale: issued 1[12]\d s ago/.test(l.err)),
    );
    expect(rig.call.snapshot()).toMatchObject({ state: "connected" });

    await anna.send("webrtc/pickup", { sessionId, officer: "anna" });
    await waitFor("answered", () => anna.lastState(sessionId)?.state === "answered");
    await ben.send("webrtc/hangup", { sessionId, officer: "ben" });
    await mallory.send("webrtc/hangup", { sessionId, officer: "anna" });
    await waitFor("two more refusals", () => refusals().length >= 6);
    expect(rig.call.snapshot()).toMatchObject({ sessionId, state: "answered", officer: "anna" });
    await volume(anna, { correlationId: "anna-vol", speaker: 30, sessionId, callToken: anna.callToken });
    await waitFor("anna's volume", () => results.find((r) => r.correlationId === "anna-vol"));
    expect(results.find((r) => r.correlationId === "anna-vol")).toMatchObject({ ok: true, result: { speaker: 30 } });

    await anna.send("webrtc/hangup", { sessionId, officer: "anna" });
    await waitFor("ended by anna", () => anna.lastState(sessionId)?.state === "ended");
    expect(anna.lastState(sessionId)!.reason).toBe("hangup");
  });
});
