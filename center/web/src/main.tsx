// The officers' console page: Preact + Leaflet, built by esbuild (center/server/web-bundle.ts).
// Talks to its console server only: Server-Sent Events in (/api/stream, every message already
// checked against the contract's schemas there), POST /api/publish out. Every pillar-provided
// string is rendered as text by Preact; nothing goes through innerHTML.
import "leaflet/dist/leaflet.css";
import "./console.css";
import { render } from "preact";
import { AlarmSound } from "./alarm-sound.js";
import { correlationId, publish, randomToken } from "./api.js";
import { Calls } from "./calls.js";
import { type Lang, pickLanguage, translate } from "./i18n.js";
import type { BridgeMsg, BusyMsg, OfferMsg, SessionMsg } from "./model.js";
import { Store } from "./store.js";
import { TimeFormat } from "./time-format.js";
import { App } from "./ui/app.js";
import type { PageConfig } from "./ui/context.js";

// This tab's secret call token: sent with the answer and every act on the call, so only this tab
// (also after a reload: sessionStorage) can pick up, hang up or re-join a call it answered.
const token = sessionStorage.getItem("callToken") || randomToken();
sessionStorage.setItem("callToken", token);

const store = new Store();
const sound = new AlarmSound();
const shown = new Map<string, number>();
let calls: Calls;
let live = false;

/** Who acts here: the logged-in officer (center accounts), else `?officer=` or a made-up demo name. */
function officerId(config: PageConfig): string {
  if (config.officer) return config.officer.id;
  const asked = new URLSearchParams(location.search).get("officer");
  const me = asked || sessionStorage.getItem("officer") || `officer-${randomToken().slice(0, 6)}`;
  sessionStorage.setItem("officer", me);
  return me;
}

function onMessage(m: BridgeMsg): void {
  switch (m.kind) {
    case "offer":
      if (!m.replay) calls.onOffer(m.payload as OfferMsg);
      break;
    case "candidate":
      calls.onCandidate(m.payload as { sessionId: string; candidate: string; mid: string });
      break;
    case "session":
      store.apply(m);
      calls.onSession(m.pillarId, m.payload as SessionMsg | null, !!m.replay);
      break;
    case "busy":
      calls.onBusy(m.payload as BusyMsg);
      break;
    default:
      store.apply(m);
  }
  store.changed();
}

async function boot(): Promise<void> {
  const config = (await (await fetch("/api/config")).json()) as PageConfig;
  const me = officerId(config);
  calls = new Calls(me, token, !!config.officer);
  calls.onChange = () => store.changed();
  Object.assign(window, {
    pillarConsole: { me, store, calls, sound, shown, stats: calls.stats, sessions: calls.byId },
  });
  const langKey = `console.lang.${me}`;
  const initialLang = pickLanguage(localStorage.getItem(langKey), config.defaultLanguage, navigator.languages);
  const es = new EventSource("/api/stream");
  // After a reconnect to the same server run, its snapshot is the truth: an incident closed
  // meanwhile is not in it. A restarted server knows less than the page: keep what the page has.
  let boot: string | null = null;
  const replayed = new Set<string>();
  es.onopen = () => {
    live = true;
    replayed.clear();
    store.changed();
  };
  es.addEventListener("synced", (e) => {
    const now = (JSON.parse((e as MessageEvent).data as string) as { boot?: string }).boot ?? null;
    if (boot && now === boot) store.keepOnly(replayed);
    boot = now;
    store.changed();
  });
  es.onerror = () => ((live = false), store.changed());
  es.onmessage = (e) => {
    try {
      const m = JSON.parse(e.data as string) as BridgeMsg;
      const incidentId = (m.payload as { incidentId?: string } | null)?.incidentId;
      if (m.replay && (m.kind === "event" || m.kind === "incident") && incidentId) replayed.add(incidentId);
      onMessage(m);
    } catch (err) {
      console.error("console message failed", err);
    }
  };
  const command = (pillarId: string, name: string, args: Record<string, unknown>, incidentId?: string) => {
    const id = correlationId(name.split(".").pop()!);
    void publish(pillarId, `cmd/${name}`, { correlationId: id, ...args }).then((r) => {
      // the server's id, which the pillar's result carries (a result that came first waits in the store)
      if (r) store.expect(r.correlationId ?? id, { pillarId, incidentId, what: name });
      else store.changed();
    });
  };
  const ctx = {
    store,
    calls,
    sound,
    config,
    me,
    shown,
    ack(incidentId: string) {
      const i = store.incidents.get(incidentId);
      if (i) command(i.pillarId, "incident.ack", { incidentId, operator: me }, incidentId);
    },
    close(incidentId: string) {
      const i = store.incidents.get(incidentId);
      if (i) command(i.pillarId, "incident.close", { incidentId }, incidentId);
    },
    selfTest(pillarId: string) {
      store.pillar(pillarId).selftestAsked = true;
      command(pillarId, "selftest", {});
      store.changed();
    },
  };
  const formats = new Map<Lang, TimeFormat>();
  const makeLang = (lang: Lang) => {
    if (!formats.has(lang)) formats.set(lang, new TimeFormat(lang, config.timeZone));
    return {
      lang,
      t: (key: Parameters<typeof translate>[1], args?: Record<string, string | number>) => translate(lang, key, args),
      fmt: formats.get(lang)!,
    };
  };
  render(
    <App
      ctx={ctx}
      makeLang={makeLang}
      initialLang={initialLang}
      saveLang={(l) => localStorage.setItem(langKey, l)}
      live={() => live}
    />,
    document.getElementById("app")!,
  );
}

void boot();
