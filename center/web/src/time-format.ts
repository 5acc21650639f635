import type { Lang } from "./i18n.js";

/** Intl locale per page language (Kazakh and Russian as used in Kazakhstan). */
const LOCALES: Record<Lang, string> = { kk: "kk-KZ", ru: "ru-RU", en: "en-GB" };

/**
 * Kazakh short month names and date order (CLDR kk: "2026 ж. 26 қар."), for browsers whose ICU
 * data has no Kazakh (Chromium's builds often ship without it and fall back to "2026 M11 26").
 */
const KK_MONTHS = ["қаң.", "ақп.", "нау.", "сәу.", "мам.", "мау.", "шіл.", "там.", "қыр.", "қаз.", "қар.", "жел."];

type Parts = Record<string, string>;

/**
 * Dates and times in the console's time zone (never the browser's), in the page's language,
 * with the zone shown: `dateTimeOf` gives e.g. "2026 ж. 26 қар. 02:07:13 GMT+5" or
 * "26 нояб. 2026 г., 02:07:13 GMT+5".
 */
export class TimeFormat {
  private readonly native: boolean;
  private readonly dateTime: Intl.DateTimeFormat;
  private readonly time: Intl.DateTimeFormat;
  private readonly numeric: Intl.DateTimeFormat;

  constructor(
    readonly lang: Lang,
    readonly timeZone: string,
  ) {
    const locale = LOCALES[lang];
    // An ICU without the language's data still claims it and writes months as "M11": check.
    const month = new Intl.DateTimeFormat(locale, { month: "short", timeZone: "UTC" }).format(Date.UTC(2026, 10, 15));
    this.native = !/\d/.test(month);
    const hms = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" } as const;
    this.dateTime = new Intl.DateTimeFormat(locale, {
      timeZone,
      day: "numeric",
      month: "short",
      year: "numeric",
      ...hms,
      timeZoneName: "shortOffset",
    });
    this.time = new Intl.DateTimeFormat(locale, { timeZone, ...hms });
    // numbers only, for our own Kazakh layout and for "is it today" (en-US: plain digits)
    this.numeric = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      ...hms,
      timeZoneName: "shortOffset",
    });
  }

  private parts(d: Date): Parts {
    const out: Parts = {};
    for (const p of this.numeric.formatToParts(d)) out[p.type] = p.value;
    return out;
  }

  /** Date, time and zone offset. */
  dateTimeOf(iso: string | number | undefined): string {
    const d = toDate(iso);
    if (!d) return "—";
    if (this.native) return this.dateTime.format(d);
    const p = this.parts(d);
    const time = `${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
    if (this.lang === "kk") return `${p.year} ж. ${p.day} ${KK_MONTHS[Number(p.month) - 1]} ${time}`;
    return `${p.day}.${p.month!.padStart(2, "0")}.${p.year} ${time}`;
  }

  /** Time of day only (timelines), in the same zone. */
  timeOf(iso: string | number | undefined): string {
    const d = toDate(iso);
    if (!d) return "—";
    if (this.native) return this.time.format(d);
    const p = this.parts(d);
    return `${p.hour}:${p.minute}:${p.second}`;
  }

  /** The time of day when it is today (in the zone), else the date and time. */
  shortOf(iso: string | number | undefined): string {
    const d = toDate(iso);
    if (!d) return "—";
    const day = (p: Parts) => `${p.year}-${p.month}-${p.day}`;
    return day(this.parts(d)) === day(this.parts(new Date())) ? this.timeOf(d.getTime()) : this.dateTimeOf(d.getTime());
  }

  /** The zone for the header: "Asia/Almaty (GMT+5)". */
  zoneLabel(): string {
    return `${this.timeZone} (${this.parts(new Date()).timeZoneName ?? ""})`;
  }
}

function toDate(v: string | number | undefined): Date | null {
  if (v === undefined) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Elapsed time as m:ss (or h:mm:ss). */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
