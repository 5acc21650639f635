import { useEffect, useState } from "preact/hooks";
import { LANG_NAMES, LANGS, type Lang } from "../i18n.js";
import type { Ctx } from "./context.js";
import { FleetBoard } from "./fleet-board.js";
import { IncidentCard, LookInCard } from "./incident-card.js";
import { PillarMap } from "./pillar-map.js";

export interface AppProps {
  ctx: Omit<Ctx, "lang" | "t" | "fmt" | "selected" | "select">;
  makeLang(lang: Lang): Pick<Ctx, "lang" | "t" | "fmt">;
  initialLang: Lang;
  saveLang(lang: Lang): void;
  live: () => boolean;
}

/** The whole page: header (count, zone, language, shift), the alarm queue, the map and the fleet. */
export function App(props: AppProps) {
  const [, setVersion] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [lang, setLang] = useState(props.initialLang);
  const [selected, select] = useState<string | null>(null);
  const [shift, setShift] = useState(props.ctx.sound.started);
  const [notify, setNotify] = useState(false);
  useEffect(() => {
    let pending: ReturnType<typeof setTimeout> | undefined;
    const off = props.ctx.store.subscribe(() => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        setVersion((v) => v + 1);
      }, 30);
    });
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => (off(), clearInterval(tick));
  }, []);
  const ctx: Ctx = { ...props.ctx, ...props.makeLang(lang), selected, select };
  const { t, store, calls, fmt } = ctx;
  const queue = store.queue();
  const open = queue.length;
  const waiting = queue.some((i) => i.state === "alarm" && !store.pillar(i.pillarId).session?.officer);
  useEffect(() => {
    document.title = open ? `(${open}) ${t("title")}` : t("title");
    document.documentElement.lang = lang;
    ctx.sound.set(waiting);
  });
  useEffect(() => {
    props.ctx.store.onNewAlarm = (i) => {
      if (notify && Notification.permission === "granted")
        new Notification(t("notifyTitle", { pillar: i.pillarId }), { body: i.location.address, tag: i.id });
    };
  }, [notify, lang]);
  const startShift = async () => {
    await ctx.sound.start();
    setShift(true);
  };
  const toggleNotify = async (on: boolean) => {
    if (on && Notification.permission !== "granted") on = (await Notification.requestPermission()) === "granted";
    setNotify(on);
  };
  return (
    <div class="page">
      <header class="top">
        <h1>{t("title")}</h1>
        <span class={open ? "count hot" : "count"}>{t("openAlarms", { n: open })}</span>
        <span class="zone">{t("zone", { zone: fmt.zoneLabel() })}</span>
        <span class="who">{t("officer", { me: ctx.me })}</span>
        <span class={props.live() ? "pill on" : "pill off"} id="link">
          {props.live() ? t("live") : t("reconnecting")}
        </span>
        {shift ? (
          <span class="pill on shift">{t("onShift")}</span>
        ) : (
          <button type="button" class="start-shift primary" title={t("soundHint")} onClick={startShift}>
            {t("startShift")}
          </button>
        )}
        <label class="notify">
          <input
            type="checkbox"
            checked={notify}
            onChange={(e) => toggleNotify((e.target as HTMLInputElement).checked)}
          />
          {t("notifications")}
        </label>
        <label class="lang">
          {t("language")}{" "}
          <select
            value={lang}
            onChange={(e) => {
              const l = (e.target as HTMLSelectElement).value as Lang;
              setLang(l);
              props.saveLang(l);
            }}
          >
            {LANGS.map((l) => (
              <option key={l} value={l}>
                {LANG_NAMES[l]}
              </option>
            ))}
          </select>
        </label>
      </header>
      <main class="layout">
        <section class="queue" aria-label={t("queue")}>
          {queue.length === 0 && calls.lookIns().length === 0 ? <p class="muted empty">{t("queueEmpty")}</p> : null}
          {queue.map((i) => (
            <IncidentCard key={i.id} ctx={ctx} incident={i} now={now} />
          ))}
          {calls.lookIns().map((c) => (
            <LookInCard key={c.sessionId} ctx={ctx} call={c} />
          ))}
        </section>
        <aside class="side">
          <PillarMap ctx={ctx} />
          <FleetBoard ctx={ctx} />
          {ctx.config.sim ? (
            <section class="sim">
              <span class="muted">{t("simHint")}</span>
              <button
                type="button"
                class="sos"
                id="sos"
                onClick={() =>
                  fetch("/api/sim/button", {
                    method: "POST",
                    headers: { "content-type": "application/json" },
                    body: "{}",
                  })
                }
              >
                SOS
              </button>
            </section>
          ) : null}
        </aside>
      </main>
    </div>
  );
}
