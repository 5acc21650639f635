// The history page: closed incidents with filters, one incident's timeline, and for supervisors
// the shift report. Reads /api/history, /api/history/{id}, /api/report; times in the console's zone.
import { showClips } from "/history-clips.js";

const $ = (sel) => document.querySelector(sel);
let zone = "Asia/Almaty";
const fmt = (iso) =>
  iso ? new Date(iso).toLocaleString("en-GB", { timeZone: zone, dateStyle: "short", timeStyle: "medium" }) : "—";
const secs = (ms) => (ms === null || ms === undefined ? "—" : `${(ms / 1000).toFixed(1)} s`);
const cell = (tr, text, cls) => {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.append(td);
};

async function getJson(url) {
  const res = await fetch(url);
  if (res.status === 401) location.assign("/login?next=/history");
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? res.statusText);
  return body;
}

async function search() {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData($("#filters"))) if (v) q.set(k, k === "to" ? `${v}T23:59:59.999` : v);
  const { incidents } = await getJson(`/api/history?${q}`);
  const tbody = $("#incidents");
  tbody.replaceChildren();
  for (const i of incidents) {
    const tr = document.createElement("tr");
    tr.className = "incident";
    tr.dataset.id = i.incidentId;
    cell(tr, fmt(i.openedAt));
    cell(tr, i.pillarId);
    cell(tr, i.district);
    cell(tr, i.address);
    cell(tr, i.acknowledgedAt ? `${secs(i.ackMs)} · ${i.acknowledgedBy ?? "—"}` : "—");
    cell(tr, i.answeredAt ? `${secs(i.answerMs)} · ${i.answeredBy ?? "—"}` : "—");
    cell(tr, i.outcome, i.outcome);
    cell(tr, fmt(i.closedAt));
    tr.onclick = () => showTimeline(i.incidentId);
    tbody.append(tr);
  }
  if (!incidents.length) tbody.innerHTML = `<tr><td colspan="8" class="muted">no incident matches</td></tr>`;
}

async function showTimeline(id) {
  const { incident, timeline } = await getJson(`/api/history/${encodeURIComponent(id)}`);
  const box = $("#timeline");
  box.hidden = false;
  box.replaceChildren();
  const h = document.createElement("h2");
  h.textContent = `${incident.pillarId} — ${incident.address}, ${incident.district}`;
  const ol = document.createElement("ol");
  for (const t of timeline) {
    const li = document.createElement("li");
    li.textContent = `${fmt(t.at)}  ${t.source}: ${t.what}${t.by ? ` (${t.by})` : ""}`;
    ol.append(li);
  }
  const clips = document.createElement("div");
  clips.id = "clips";
  box.append(h, ol, clips);
  await showClips(clips, incident, fmt);
}

async function report(e) {
  e?.preventDefault();
  const f = new FormData($("#report-form"));
  const q = new URLSearchParams({
    from: new Date(f.get("from")).toISOString(),
    to: new Date(f.get("to")).toISOString(),
  });
  const r = await getJson(`/api/report?${q}`);
  const lines = [
    `Alarms: ${r.alarms} (${r.presses} presses), answered (picked up): ${r.answered}, acknowledged: ${r.acknowledged} (of which nobody spoke to the caller: ${r.acknowledgedOnly}), unanswered: ${r.unanswered}, open: ${r.open}`,
    `Time to answer (press to pickup): median ${secs(r.timeToAnswer.medianMs)}, worst ${secs(r.timeToAnswer.worstMs)} over ${r.timeToAnswer.answered} answered`,
    `Time to acknowledge: median ${secs(r.timeToAcknowledge.medianMs)}, worst ${secs(r.timeToAcknowledge.worstMs)} over ${r.timeToAcknowledge.acknowledged} acknowledged`,
    `Test presses (not counted above): ${r.tests}`,
    `Calls shorter than ${r.shortCalls.thresholdMs / 1000} s (likely pranks): ${r.shortCalls.count}`,
    "Per district: " + r.perDistrict.map((d) => `${d.district} ${d.alarms}`).join(", "),
    "Per pillar: " + r.perPillar.map((p) => `${p.pillarId} ${p.alarms} (short ${p.shortCalls})`).join(", "),
  ];
  const body = $("#report-body");
  body.replaceChildren(...lines.map((l) => Object.assign(document.createElement("p"), { textContent: l })));
}

const me = await getJson("/api/me");
$("#who").textContent = `logged in as ${me.name} (${me.role})`;
zone = (await getJson("/api/config").catch(() => ({}))).timeZone ?? zone;
$("#logout").onclick = async () => {
  await fetch("/logout", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  location.assign("/login");
};
$("#filters").onsubmit = (e) => (e.preventDefault(), search());
if (me.role === "supervisor") {
  $("#report").hidden = false;
  const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  $("#report-form").from.value = local(new Date(Date.now() - 12 * 3600_000));
  $("#report-form").to.value = local(new Date());
  $("#report-form").onsubmit = report;
}
await search();
