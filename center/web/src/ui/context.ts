import type { AlarmSound } from "../alarm-sound.js";
import type { Calls } from "../calls.js";
import type { Key, Lang } from "../i18n.js";
import type { Store } from "../store.js";
import type { TimeFormat } from "../time-format.js";

/** The console's config as `/api/config` gives it. */
export interface PageConfig {
  sim: boolean;
  timeZone: string;
  overdueS: number;
  tileUrl: string;
  tileAttribution: string;
  mapCenter: { lat: number; lon: number };
  mapZoom: number;
  defaultLanguage: string;
  /** The logged-in officer (with center accounts), or null (the open demo console). */
  officer: { id: string; name: string } | null;
}

/** What every component reads: the data, the officer, the language and the actions. */
export interface Ctx {
  store: Store;
  calls: Calls;
  sound: AlarmSound;
  config: PageConfig;
  me: string;
  lang: Lang;
  t: (key: Key, args?: Record<string, string | number>) => string;
  fmt: TimeFormat;
  /** The pillar opened on the map and the fleet board. */
  selected: string | null;
  select(pillarId: string | null): void;
  ack(incidentId: string): void;
  close(incidentId: string): void;
  selfTest(pillarId: string): void;
  /** When each alarm card was first shown (ms since epoch), for tests and the bench. */
  shown: Map<string, number>;
}
