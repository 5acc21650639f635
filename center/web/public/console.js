// Operator console: plain browser JavaScript, no build step. Talks to the console server only:
// Server-Sent Events in (/api/stream), POST /api/publish out. See docs/call.md "Console".
const $ = (sel, el = document) => el.querySelector(sel);
const params = new URLSearchParams(location.search);
const me =
  params.get("officer") || sessionStorage.getItem("officer") || `officer-${Math.random().toString(36).slice(2, 7)}`;
sessionStorage.setItem("officer", me);
// This tab's secret call token (docs/call.md "Call ownership"): sent with the answer and with every
// act on the call, so only this console can pick up, hang up or re-ask for a call it answered.
const callToken =
  sessionStorage.getItem("callToken") ||
  Array.from(crypto.getRandomValues(new Uint8Array(18)), (b) => b.toString(16).padStart(2, "0")).join("");
sessionStorage.setItem("callToken", callToken);
$("#who").textContent = `signed in as ${me}`;

const pillars = new Map(); // id → { status, location }
const cards = new Map(); // key → card
const sessions = new Map(); // sessionId → { pc, card, audioTx, ready, queue, pillarId }
const early = new Map(); // sessionId → candidates that came before the offer was handled
const stats = { frames: 0, firstFrameAt: null, sessions: 0 };
window.pillarConsole = { me, cards, sessions, stats };

const fmtDate = (d) => d.toLocaleDateString("en-GB", { day: "2-digit", month: "short", year: "numeric" });
const fmtTime = (d) => d.toLocaleTimeString("en-GB", { hour12: false });
const idOf = (topic) => topic.split("/")[2];

function send(pillarId, suffix, payload) {
  // issuedAt: pillars refuse stale commands and signaling (the console server stamps its own clock)
  const body = { ...payload, issuedAt: new Date().toISOString() };
  if (suffix.startsWith("webrtc/")) body.callToken = callToken;
  return fetch("/api/publish", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic: `pillar/v1/${pillarId}/${suffix}`, payload: body }),
  });
}

function renderPillars() {
  const ul = $("#pillars");
  ul.replaceChildren();
  for (const [id, p] of [...pillars].sort()) {
    const li = document.createElement("li");
    const state = p.status?.state ?? "unknown";
    li.innerHTML = `<span class="dot ${state}"></span><span class="name"></span><button>Look in</button>`;
    $(".name", li).textContent = `${id} — ${state}`;
    li.title = p.location ? p.location.address : "";
    $("button", li).disabled = state !== "online";
    $("button", li).onclick = () => send(id, "webrtc/request", { officer: me, kind: "lookin" });
    ul.append(li);
  }
  if (!pillars.size) ul.innerHTML = `<li class="muted">no pillar seen yet</li>`;
}

function card(key, pillarId, kind, incidentId) {
  let c = cards.get(key);
  if (c) return c;
  const el = document.createElement("article");
  el.className = `card ${kind}`;
  el.dataset.key = key;
  el.innerHTML = `<header><span class="badge">${kind === "alarm" ? "ALARM" : "LOOK-IN"}</span><span class="title"></span><span class="pill state">waiting</span></header>
    <div class="body"><div class="media"><video muted autoplay playsinline></video><audio autoplay></audio><span class="overlay">no video yet</span></div>
    <div class="info"><dl><dt>Pillar</dt><dd class="pid"></dd><dt>Date</dt><dd class="date">—</dd><dt>Time</dt><dd class="time">—</dd><dt>Place</dt><dd class="place">—</dd></dl>
    <ol class="timeline"></ol><div class="actions"><button class="primary answer" disabled>Answer</button><button class="danger hangup" disabled>Hang up</button>
    <button class="ack">Acknowledge</button></div><p class="msg"></p></div></div>`;
  c = { key, pillarId, kind, incidentId, el, session: null, video: $("video", el), frames: 0 };
  $(".title", el).textContent = kind === "alarm" ? `Alarm at ${pillarId}` : `Look-in at ${pillarId}`;
  $(".pid", el).textContent = pillarId;
  $(".ack", el).hidden = kind !== "alarm";
  $(".answer", el).onclick = () => pickup(c);
  $(".hangup", el).onclick = () => hangup(c);
  $(".ack", el).onclick = () =>
    send(pillarId, "cmd/incident.ack", { correlationId: `ack-${Date.now()}`, incidentId: c.incidentId, operator: me });
  const count = () =>
    c.video.requestVideoFrameCallback(() => {
      c.frames++;
      stats.frames++;
      stats.firstFrameAt ??= performance.timeOrigin + performance.now();
      $(".overlay", el).textContent = `live ${c.video.videoWidth}×${c.video.videoHeight}`;
      count();
    });
  count();
  const loc = pillars.get(pillarId)?.location;
  if (loc) place(c, loc);
  cards.set(key, c);
  $("#empty").hidden = true;
  $("#cards h2").after(el);
  return c;
}

function place(c, loc) {
  $(".place", c.el).textContent = `${loc.address}, ${loc.district} (${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)})`;
}

function note(c, text, at = new Date()) {
  const li = document.createElement("li");
  li.innerHTML = `<time></time><span></span>`;
  $("time", li).textContent = fmtTime(at);
  $("span", li).textContent = text;
  $(".timeline", c.el).append(li);
}

const say = (c, text) => ($(".msg", c.el).textContent = text);

function onEvent(pillarId, e) {
  const p = pillars.get(pillarId) ?? {};
  p.location = e.location;
  pillars.set(pillarId, p);
  if (!e.incidentId) return;
  const c =
    e.type === "button.press" || cards.has(e.incidentId) ? card(e.incidentId, pillarId, "alarm", e.incidentId) : null;
  if (!c) return;
  const at = new Date(e.occurredAt);
  if (e.type === "button.press" && $(".date", c.el).textContent === "—") {
    $(".date", c.el).textContent = fmtDate(at);
    $(".time", c.el).textContent = fmtTime(at);
  }
  place(c, e.location);
  if (e.type === "incident.acknowledged") c.el.classList.add("acked");
  if (e.type === "incident.closed") c.el.classList.add("closed");
  const label = {
    "button.press": `SOS button pressed (press ${e.data?.press ?? 1})`,
    "incident.acknowledged": "incident acknowledged",
    "incident.closed": "incident closed",
  };
  note(c, label[e.type] ?? e.type, at);
}

async function onOffer(o) {
  if (o.to && o.to !== me) return;
  const c =
    o.kind === "alarm" && o.incidentId
      ? card(o.incidentId, o.pillarId, "alarm", o.incidentId)
      : card(`lookin:${o.pillarId}`, o.pillarId, "lookin", null);
  if (c.session) close(c.session, false);
  note(c, o.center === "secondary" ? "call re-routed to this (secondary) center" : `call offered (${o.kind})`);
  const pc = new RTCPeerConnection({ iceServers: [] });
  const s = {
    id: o.sessionId,
    pillarId: o.pillarId,
    pc,
    card: c,
    audioTx: null,
    ready: false,
    queue: early.get(o.sessionId) ?? [],
  };
  early.delete(o.sessionId);
  sessions.set(s.id, s);
  c.session = s;
  stats.sessions++;
  pc.ontrack = (e) => {
    const el = e.track.kind === "video" ? c.video : $("audio", c.el);
    el.srcObject = new MediaStream([e.track]);
  };
  pc.onicecandidate = (e) =>
    e.candidate &&
    send(o.pillarId, "webrtc/candidate/center", {
      sessionId: s.id,
      officer: me,
      candidate: e.candidate.candidate,
      mid: e.candidate.sdpMid ?? "0",
    });
  await pc.setRemoteDescription({ type: "offer", sdp: o.sdp });
  s.audioTx = pc.getTransceivers().find((t) => t.receiver.track.kind === "audio") ?? null;
  if (s.audioTx) s.audioTx.direction = "sendrecv";
  await pc.setLocalDescription(await pc.createAnswer());
  await send(o.pillarId, "webrtc/answer", { sessionId: s.id, officer: me, sdp: pc.localDescription.sdp });
  s.ready = true;
  for (const cand of s.queue.splice(0)) pc.addIceCandidate(cand).catch(() => {});
  $(".answer", c.el).disabled = false;
  $(".hangup", c.el).disabled = false;
}

function onCandidate(m) {
  const cand = { candidate: m.candidate, sdpMid: m.mid };
  const s = sessions.get(m.sessionId);
  if (s?.ready) s.pc.addIceCandidate(cand).catch(() => {});
  else if (s) s.queue.push(cand);
  else early.set(m.sessionId, [...(early.get(m.sessionId) ?? []), cand]);
}

async function pickup(c) {
  const s = c.session;
  if (!s) return;
  $(".answer", c.el).disabled = true;
  try {
    const mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
    });
    s.mic = mic;
    await s.audioTx?.sender.replaceTrack(mic.getAudioTracks()[0]);
  } catch (err) {
    say(c, `microphone unavailable: ${err.message}`);
  }
  await send(s.pillarId, "webrtc/pickup", { sessionId: s.id, officer: me });
  $(".answer", c.el).textContent = "Answered";
}

async function hangup(c) {
  const s = c.session;
  if (!s) return;
  await send(s.pillarId, "webrtc/hangup", { sessionId: s.id, officer: me });
  close(s, true);
}

function close(s, mine) {
  s.pc.close();
  for (const t of s.mic?.getTracks() ?? []) t.stop();
  sessions.delete(s.id);
  if (s.card.session === s) s.card.session = null;
  $(".answer", s.card.el).disabled = true;
  $(".hangup", s.card.el).disabled = true;
  if (mine) note(s.card, "you hung up");
}

function onSession(pillarId, m) {
  if (!m) return;
  const c =
    [...cards.values()].find((x) => x.session?.id === m.sessionId) ??
    (m.kind === "alarm" && m.incidentId ? cards.get(m.incidentId) : cards.get(`lookin:${pillarId}`));
  if (!c) return;
  $(".state", c.el).textContent = m.state === "answered" ? `talking with ${m.officer}` : m.state;
  if (m.state === "answered" && m.officer !== me) say(c, `${m.officer} has answered this call`);
  if (m.state === "warning") say(c, `the call ends at ${fmtTime(new Date(m.endsAt))}`);
  if (["connected", "answered", "ended"].includes(m.state))
    note(c, m.state === "ended" ? `call ended (${m.reason ?? "?"})` : `call ${m.state}`, new Date(m.at));
  if (m.state === "ended") {
    const s = sessions.get(m.sessionId);
    if (s) close(s, false);
    $(".overlay", c.el).textContent = "call ended";
  }
}

function onBusy(m) {
  if (m.to !== me) return;
  const c = m.sessionId ? [...cards.values()].find((x) => x.session?.id === m.sessionId) : null;
  const s = sessions.get(m.sessionId);
  if (s) close(s, false);
  if (c) say(c, `busy: ${m.message}`);
  else $("#notice").textContent = `${m.pillarId}: ${m.reason === "busy" ? "busy" : "refused"} — ${m.message}`;
  stats.busy = m;
}

let secondaryOffers = null;

function onMessage({ topic, payload, replay }) {
  const id = idOf(topic);
  if (secondaryOffers && topic === secondaryOffers)
    return replay ? undefined : onOffer(payload).catch((err) => console.error("offer failed", err));
  if (topic.endsWith("/status")) {
    const p = pillars.get(id) ?? {};
    p.status = payload;
    if (payload) pillars.set(id, p);
    else pillars.delete(id);
    return renderPillars();
  }
  if (topic.endsWith("/event")) return (onEvent(id, payload), renderPillars());
  if (topic.endsWith("/webrtc/offer"))
    return replay ? undefined : onOffer(payload).catch((err) => console.error("offer failed", err));
  if (topic.endsWith("/webrtc/candidate/pillar")) return onCandidate(payload);
  if (topic.endsWith("/webrtc/session")) return onSession(id, payload);
  if (topic.endsWith("/webrtc/busy")) return onBusy(payload);
  if (topic.endsWith("/cmd/incident.ack/result")) {
    const c = [...cards.values()].find((x) => x.pillarId === id && x.kind === "alarm");
    if (c) note(c, payload.ok ? "acknowledged by the center" : `acknowledge refused: ${payload.error?.message}`);
  }
}

const es = new EventSource("/api/stream");
es.onopen = () => (($("#link").className = "pill on"), ($("#link").textContent = "live"));
es.onerror = () => (($("#link").className = "pill off"), ($("#link").textContent = "reconnecting…"));
es.onmessage = (e) => onMessage(JSON.parse(e.data));
fetch("/api/config")
  .then((r) => r.json())
  .then((cfg) => {
    $("#sim").hidden = !cfg.sim;
    secondaryOffers = cfg.secondaryTopic ? `${cfg.secondaryTopic}/offer` : null;
    $("#sos").onclick = () => fetch("/api/sim/button", { method: "POST" });
  });
