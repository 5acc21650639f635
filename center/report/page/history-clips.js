// The clips of one incident in the history: what the pillar listed (GET /api/history/{id}/clips),
// "ask the pillar" (POST …/clips: clips.list), and per clip either its link (uploaded to the
// center's storage) or where it is on the pillar, with "upload" when the console has a storage.
const el = (tag, text, cls) =>
  Object.assign(document.createElement(tag), { textContent: text ?? "", className: cls ?? "" });
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

async function post(url) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? res.statusText);
  return body;
}

/** Fills `box` with the incident's clips; `fmt` formats a time in the console's zone. */
export async function showClips(box, incident, fmt) {
  const id = encodeURIComponent(incident.incidentId);
  const res = await fetch(`/api/history/${id}/clips`);
  if (!res.ok) return;
  const { clips, uploads } = await res.json();
  const status = el("p", "", "muted clip-status");
  const ask = el("button", "Ask the pillar for its clips", "clip-ask");
  ask.type = "button";
  const refresh = (message) =>
    showClips(box, incident, fmt).then(() => message && (box.querySelector(".clip-status").textContent = message));
  // The pillar answers through the broker: look again a few times.
  const poll = (message) => {
    let n = 0;
    const t = setInterval(() => (++n >= 10 ? clearInterval(t) : refresh(message)), 1500);
  };
  ask.onclick = () =>
    post(`/api/history/${id}/clips`).then(
      () => ((status.textContent = "asked the pillar…"), poll("asked the pillar…")),
      (e) => (status.textContent = e.message),
    );
  const list = el("ul", "", "clips");
  for (const c of clips) {
    const li = el("li", `${fmt(c.start)} – ${c.end ? fmt(c.end) : "recording"}, ${mb(c.bytes)}, ${c.state} `, "clip");
    li.dataset.clipId = c.clipId;
    if (c.uploadedAt && /^https?:\/\//.test(c.uploadUrl)) {
      const a = el("a", "play / download", "clip-link");
      a.href = c.uploadUrl;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      li.append(a);
    } else {
      li.append(
        el(
          "span",
          `on pillar ${c.pillarId}: recordings/${c.file} (pillar clips export ${c.clipId})`,
          "muted clip-where",
        ),
      );
      if (c.uploadError) li.append(el("span", ` upload failed: ${c.uploadError}`, "unanswered"));
      else if (c.uploadRequestedAt) li.append(el("span", " uploading…", "muted"));
      if (uploads && c.state !== "recording") {
        const up = el("button", c.uploadRequestedAt ? "Upload again" : "Upload to the center", "clip-upload");
        up.type = "button";
        up.onclick = () =>
          post(`/api/clips/${c.clipId}/upload`).then(
            () => poll("uploading…"),
            (e) => (status.textContent = e.message),
          );
        li.append(" ", up);
      }
    }
    list.append(li);
  }
  const h = el("h3", `Clips (${clips.length})`);
  box.replaceChildren(h, clips.length ? list : el("p", "none known yet", "muted"), ask, status);
}
