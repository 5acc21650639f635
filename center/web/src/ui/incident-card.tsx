import { useEffect } from "preact/hooks";
import type { Call } from "../calls.js";
import type { Incident, SessionMsg } from "../model.js";
import { elapsed } from "../time-format.js";
import { CallMedia } from "./call-media.js";
import type { Ctx } from "./context.js";

/** What the card says about the call (translated). */
function callLine(ctx: Ctx, call: Call | undefined, s: SessionMsg | undefined): string {
  const { t } = ctx;
  if (call?.takenBy) return t("callAnsweredBy", { who: call.takenBy });
  if (s?.officer && s.officer !== ctx.me) return t("callAnsweredBy", { who: s.officer });
  if (s?.state === "rejoining" || call?.rejoining) return t("callRejoining");
  if (s?.state === "warning" && s.endsAt) return t("callWarning", { t: ctx.fmt.timeOf(s.endsAt) });
  if (call?.mine) return call.pc?.connectionState === "connected" ? t("callYou") : t("callConnecting");
  if (s) return t("callWaiting");
  return "";
}

/** One open incident in the queue: who, where, since when, the caller's video and the actions. */
export function IncidentCard({ ctx, incident: i, now }: { ctx: Ctx; incident: Incident; now: number }) {
  const { t, fmt, calls, store } = ctx;
  const pillar = store.pillar(i.pillarId);
  const session = pillar.session?.incidentId === i.id ? pillar.session : undefined;
  const call = calls.forIncident(i.id);
  const age = now - Date.parse(i.pressedAt);
  const answered = !!session?.officer || !!call?.mine;
  const overdue = i.state === "alarm" && !answered && age > ctx.config.overdueS * 1000;
  useEffect(() => {
    if (!ctx.shown.has(i.id)) ctx.shown.set(i.id, performance.timeOrigin + performance.now());
  }, [i.id]);
  const cls = ["card", "alarm", i.state, overdue ? "overdue" : "", call?.mine ? "mine" : ""].join(" ");
  const canAnswer = !!call?.offer && !call.mine && !call.takenBy && !(session?.officer && session.officer !== ctx.me);
  return (
    <article class={cls} data-incident={i.id} data-pillar={i.pillarId}>
      <header>
        <span class="badge">{i.state === "alarm" ? t("alarm") : t("acknowledged")}</span>
        <span class="title">{i.pillarId}</span>
        <span class="where">
          {i.location.address} · {i.location.district}
        </span>
        <span class="since" title={t("sincePress", { t: elapsed(age) })}>
          {elapsed(age)}
        </span>
      </header>
      <div class="body">
        <CallMedia call={call} placeholder={t("noVideo")} still={i.snapshot} />
        <div class="info">
          <p class="pressed">
            {t("pressed")}: <time class="date">{fmt.dateTimeOf(i.pressedAt)}</time> ·{" "}
            <span class="presses">{t("presses", { n: i.presses })}</span>
          </p>
          <p class={i.clockSynced ? "clock ok" : "clock bad"}>
            {i.clockSynced ? t("clockSynced") : t("clockNotSynced")}
          </p>
          {overdue ? <p class="overdue-note">{t("overdue", { s: ctx.config.overdueS })}</p> : null}
          <p class="call-state">{callLine(ctx, call, session)}</p>
          {i.problem ? <p class="msg">{t(i.problem.key, i.problem.args)}</p> : null}
          {call?.problem ? <p class="msg">{call.problem}</p> : null}
          <div class="actions">
            <button
              type="button"
              class="primary answer"
              disabled={!canAnswer}
              onClick={() => call && calls.answer(call)}
            >
              {t("answer")}
            </button>
            <button
              type="button"
              class="danger hangup"
              disabled={!call?.mine}
              onClick={() => call && calls.hangup(call)}
            >
              {t("hangup")}
            </button>
            {i.state === "alarm" ? (
              <button type="button" class="ack" onClick={() => ctx.ack(i.id)}>
                {t("ack")}
              </button>
            ) : (
              <button type="button" class="close" onClick={() => ctx.close(i.id)}>
                {t("close")}
              </button>
            )}
            <button type="button" class="locate" onClick={() => ctx.select(i.pillarId)}>
              {t("onMap")}
            </button>
          </div>
          <ol class="timeline">
            {i.timeline.slice(-3).map((n) => (
              <li key={`${n.at}${n.key}`}>
                <time>{fmt.timeOf(n.at)}</time> {t(n.key, n.args)}
              </li>
            ))}
          </ol>
        </div>
      </div>
    </article>
  );
}

/** A look-in at a pillar this officer asked for (no incident). */
export function LookInCard({ ctx, call }: { ctx: Ctx; call: Call }) {
  const { t, calls, store } = ctx;
  const p = store.pillar(call.pillarId);
  return (
    <article class="card lookin" data-pillar={call.pillarId}>
      <header>
        <span class="badge">{t("lookin")}</span>
        <span class="title">{call.pillarId}</span>
        <span class="where">{p.location ? `${p.location.address} · ${p.location.district}` : ""}</span>
      </header>
      <div class="body">
        <CallMedia call={call} placeholder={t("callConnecting")} />
        <div class="info">
          <p class="call-state">{call.takenBy ? t("callAnsweredBy", { who: call.takenBy }) : ""}</p>
          {call.problem ? <p class="msg">{call.problem}</p> : null}
          <div class="actions">
            <button type="button" class="danger hangup" disabled={!call.mine} onClick={() => calls.hangup(call)}>
              {t("hangup")}
            </button>
          </div>
        </div>
      </div>
    </article>
  );
}
