import { useEffect, useRef, useState } from "preact/hooks";
import type { Pillar, PillarState } from "../model.js";
import type { Ctx } from "./context.js";

const STATES: PillarState[] = ["alarm", "fault", "offline", "online", "unknown"];

function selfTestText(ctx: Ctx, p: Pillar): string {
  if (p.selftestAsked) return ctx.t("selfTestAsked");
  if (p.selftestProblem) return ctx.t(p.selftestProblem.key, p.selftestProblem.args);
  const s = p.selftest;
  if (!s) return "—";
  const when = ctx.fmt.shortOf(s.finishedAt);
  if (s.ok) return `${ctx.t("selfTestOk")} ${when}`;
  const failed = (s.checks ?? [])
    .filter((c) => c.status === "fail")
    .map((c) => (c.detail ? `${c.title ?? c.id} (${c.detail})` : (c.title ?? c.id)));
  return `${ctx.t("selfTestFailed", { checks: failed.join(", ") || "?" })} ${when}`;
}

/**
 * Every pillar: state and since when, last heartbeat, faults, software version, the last
 * self-test; filtered by district and state; "Look in" and "Self-test" per pillar.
 */
export function FleetBoard({ ctx }: { ctx: Ctx }) {
  const { t, fmt, store, selected } = ctx;
  const [district, setDistrict] = useState("");
  const [state, setState] = useState("");
  const body = useRef<HTMLTableSectionElement>(null);
  const pillars = [...store.pillars.values()].sort((a, b) => a.id.localeCompare(b.id));
  const districts = [...new Set(pillars.map((p) => p.location?.district).filter((d): d is string => !!d))].sort();
  const rows = pillars.filter(
    (p) => (!district || p.location?.district === district) && (!state || store.stateOf(p) === state),
  );
  useEffect(() => {
    if (selected)
      body.current?.querySelector(`tr[data-pillar="${CSS.escape(selected)}"]`)?.scrollIntoView({ block: "nearest" });
  }, [selected]);
  return (
    <section class="fleet">
      <h2>
        {t("fleet")} <small>({rows.length})</small>
      </h2>
      <div class="filters">
        <select class="district" value={district} onChange={(e) => setDistrict((e.target as HTMLSelectElement).value)}>
          <option value="">{t("allDistricts")}</option>
          {districts.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
        <select class="state" value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
          <option value="">{t("allStates")}</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {t(`st_${s}`)}
            </option>
          ))}
        </select>
      </div>
      {ctx.calls.notice ? (
        <p class="notice msg">{t("busy", { pillar: ctx.calls.notice.pillarId, who: ctx.calls.notice.who })}</p>
      ) : null}
      <div class="table">
        <table>
          <thead>
            <tr>
              <th>{t("colPillar")}</th>
              <th>{t("colState")}</th>
              <th>{t("colHeartbeat")}</th>
              <th>{t("colFaults")}</th>
              <th>{t("colVersion")}</th>
              <th>{t("colSelfTest")}</th>
              <th />
            </tr>
          </thead>
          <tbody ref={body}>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={7} class="muted">
                  {t("noPillars")}
                </td>
              </tr>
            ) : null}
            {rows.map((p) => {
              const st = store.stateOf(p);
              return (
                <tr
                  key={p.id}
                  data-pillar={p.id}
                  data-state={st}
                  class={selected === p.id ? "selected" : ""}
                  onClick={() => ctx.select(p.id)}
                >
                  <td class="name" title={p.location?.address ?? ""}>
                    {p.id}
                    <small>{p.location?.district ?? ""}</small>
                  </td>
                  <td class="state" title={p.since ? `${t("colSince")} ${fmt.dateTimeOf(p.since)}` : ""}>
                    <span class={`dot st-${st}`} /> {t(`st_${st}`)}
                    <small class="since"> {p.since ? fmt.shortOf(p.since) : ""}</small>
                  </td>
                  <td>{p.lastHeartbeat ? fmt.timeOf(p.lastHeartbeat) : "—"}</td>
                  <td class="faults">
                    {p.faults.size
                      ? [...p.faults.values()].map((f) => `${f.component}/${f.code}`).join(", ")
                      : t("none")}
                  </td>
                  <td>{p.status?.version ?? "—"}</td>
                  <td class="selftest">
                    {selfTestText(ctx, p)}
                    {p.testPress ? (
                      <small class="test-press"> · {t("testPress", { t: fmt.shortOf(p.testPress) })}</small>
                    ) : null}
                  </td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="lookin"
                      disabled={p.status?.state !== "online"}
                      onClick={() => ctx.calls.lookIn(p.id)}
                    >
                      {t("lookIn")}
                    </button>
                    <button
                      type="button"
                      class="selftest"
                      disabled={p.status?.state !== "online"}
                      onClick={() => ctx.selfTest(p.id)}
                    >
                      {t("selfTestBtn")}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
