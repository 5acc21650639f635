/**
 * Generates the example fleet inventory: Almaty's pillars in its eight districts, each address in
 * Kazakh and in Russian ("kk / ru", as the dispatchers read both), along real streets and near
 * real landmarks of the district. Deterministic (seeded), so the committed files are reproducible:
 *
 *     npx tsx scripts/gen-fleet-inventory.ts [OUT_DIR]   # → config/examples/fleet/sites.csv (250 current)
 *                                                        #   and planned-sites.csv (100 planned)
 *
 * Coordinates: each district is a rough circle, a centre and a radius (below) drawn well inside
 * the district's boundary on the city map, so every pillar lies inside its district; points are
 * spread uniformly over the circle. Ids are `ala-{district code}-{nnnn}`, numbered per district;
 * planned pillars continue each district's numbering.
 *
 * The benchmark imports `generateInventory` to make a 10,000-row inventory.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { csvLine } from "../src/provisioning/csv-parser.js";

interface Place {
  kk: string;
  ru: string;
}

interface District {
  /** The district's name as the config carries it (Latin transliteration, as in the city's open data). */
  name: string;
  code: string;
  /** Centre (WGS84) and radius in km of a circle inside the district. */
  lat: number;
  lon: number;
  radiusKm: number;
  streets: Place[];
  landmarks: Place[];
}

const s = (kk: string, ru: string): Place => ({ kk, ru });

export const DISTRICTS: District[] = [
  {
    name: "Alatau",
    code: "alt",
    lat: 43.2905,
    lon: 76.8445,
    radiusKm: 2.2,
    streets: [
      s("Рысқұлов даңғылы", "проспект Рыскулова"),
      s("Райымбек даңғылы", "проспект Райымбека"),
      s("Бауыржан Момышұлы көшесі", "улица Бауыржана Момышулы"),
      s("Шаңырақ-2 ықшам ауданы", "микрорайон Шанырак-2"),
    ],
    landmarks: [
      s("Алматы Арена", "Алматы Арена"),
      s("Алтын Орда базары", "рынок Алтын Орда"),
      s("Ақбұлақ ықшам ауданы", "микрорайон Акбулак"),
    ],
  },
  {
    name: "Almaly",
    code: "alm",
    lat: 43.2555,
    lon: 76.9185,
    radiusKm: 1.3,
    streets: [
      s("Абай даңғылы", "проспект Абая"),
      s("Төле би көшесі", "улица Толе би"),
      s("Жібек жолы көшесі", "улица Жибек Жолы"),
      s("Абылай хан даңғылы", "проспект Абылай хана"),
      s("Байзақов көшесі", "улица Байзакова"),
    ],
    landmarks: [
      s("Арбат жаяу жүргіншілер көшесі", "пешеходная улица Арбат"),
      s("Абай атындағы опера және балет театры", "театр оперы и балета им. Абая"),
      s("Алматы-2 вокзалы", "вокзал Алматы-2"),
      s("Абай метро бекеті", "станция метро Абай"),
    ],
  },
  {
    name: "Auezov",
    code: "auz",
    lat: 43.2285,
    lon: 76.8625,
    radiusKm: 1.8,
    streets: [
      s("Саин көшесі", "улица Саина"),
      s("Жұбанов көшесі", "улица Жубанова"),
      s("Абай даңғылы", "проспект Абая"),
      s("Шаляпин көшесі", "улица Шаляпина"),
      s("Төле би көшесі", "улица Толе би"),
    ],
    landmarks: [
      s("Сайран көлі", "озеро Сайран"),
      s("Сайран автовокзалы", "автовокзал Сайран"),
      s("Мәскеу метро бекеті", "станция метро Москва"),
    ],
  },
  {
    name: "Bostandyk",
    code: "bos",
    lat: 43.2195,
    lon: 76.9205,
    radiusKm: 1.6,
    streets: [
      s("Әл-Фараби даңғылы", "проспект аль-Фараби"),
      s("Тимирязев көшесі", "улица Тимирязева"),
      s("Розыбакиев көшесі", "улица Розыбакиева"),
      s("Сәтбаев көшесі", "улица Сатпаева"),
      s("Жандосов көшесі", "улица Жандосова"),
    ],
    landmarks: [
      s("әл-Фараби атындағы ҚазҰУ", "КазНУ им. аль-Фараби"),
      s("Mega Alma-Ata сауда орталығы", "ТРЦ Mega Alma-Ata"),
      s("Бас ботаникалық бақ", "Главный ботанический сад"),
    ],
  },
  {
    name: "Zhetysu",
    code: "zht",
    lat: 43.2935,
    lon: 76.9245,
    radiusKm: 1.4,
    streets: [
      s("Жансүгіров көшесі", "улица Жансугурова"),
      s("Бекмаханов көшесі", "улица Бекмаханова"),
      s("Сейфуллин даңғылы", "проспект Сейфуллина"),
      s("Райымбек даңғылы", "проспект Райымбека"),
    ],
    landmarks: [
      s("Айнабұлақ ықшам ауданы", "микрорайон Айнабулак"),
      s("Құлагер ықшам ауданы", "микрорайон Кулагер"),
      s("Жетісу-3 ықшам ауданы", "микрорайон Жетысу-3"),
    ],
  },
  {
    name: "Medeu",
    code: "med",
    lat: 43.2505,
    lon: 76.9615,
    radiusKm: 1.4,
    streets: [
      s("Достық даңғылы", "проспект Достык"),
      s("Қонаев көшесі", "улица Кунаева"),
      s("Гоголь көшесі", "улица Гоголя"),
      s("Зенков көшесі", "улица Зенкова"),
      s("Жамбыл көшесі", "улица Жамбыла"),
    ],
    landmarks: [
      s("Көк базар", "Зелёный базар"),
      s("28 панфиловшылар саябағы", "парк 28 гвардейцев-панфиловцев"),
      s("Көктөбе аспалы жолы", "канатная дорога Кок-Тобе"),
      s("Республика алаңы", "площадь Республики"),
    ],
  },
  {
    name: "Nauryzbay",
    code: "nau",
    lat: 43.1985,
    lon: 76.8105,
    radiusKm: 1.8,
    streets: [
      s("Жандосов көшесі", "улица Жандосова"),
      s("Шаляпин көшесі", "улица Шаляпина"),
      s("Әбішев көшесі", "улица Абишева"),
      s("Қалқаман көшесі", "улица Калкаман"),
    ],
    landmarks: [
      s("Қалқаман ықшам ауданы", "микрорайон Калкаман"),
      s("Шұғыла ықшам ауданы", "микрорайон Шугыла"),
      s("Таусамалы ықшам ауданы", "микрорайон Таусамалы"),
    ],
  },
  {
    name: "Turksib",
    code: "tur",
    lat: 43.3305,
    lon: 76.9635,
    radiusKm: 2.0,
    streets: [
      s("Сүйінбай даңғылы", "проспект Суюнбая"),
      s("Майлин көшесі", "улица Майлина"),
      s("Бекмаханов көшесі", "улица Бекмаханова"),
      s("Қазыбаев көшесі", "улица Казыбаева"),
    ],
    landmarks: [
      s("Алматы-1 вокзалы", "вокзал Алматы-1"),
      s("Алматы халықаралық әуежайы", "международный аэропорт Алматы"),
      s("Ақсай базары", "рынок Аксай"),
    ],
  },
];

/** Pillars per district today (30+ each, 250 in all) and planned (100 more). */
export const CURRENT_PER_DISTRICT = [32, 31, 32, 31, 31, 31, 31, 31];
export const PLANNED_PER_DISTRICT = [13, 12, 13, 12, 13, 12, 13, 12];

/** A small seeded PRNG (mulberry32), so the example inventory never changes by itself. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const INVENTORY_HEADER = [
  "id",
  "name",
  "lat",
  "lon",
  "address",
  "district",
  "broker_client_id",
  "heartbeat.intervalS",
];

/** A point spread uniformly over the district's circle. */
function pointIn(d: District, rnd: () => number): { lat: string; lon: string } {
  const r = d.radiusKm * Math.sqrt(rnd());
  const a = 2 * Math.PI * rnd();
  const dLat = (r * Math.cos(a)) / 111.32;
  const dLon = (r * Math.sin(a)) / (111.32 * Math.cos((d.lat * Math.PI) / 180));
  return { lat: (d.lat + dLat).toFixed(6), lon: (d.lon + dLon).toFixed(6) };
}

function row(d: District, n: number, width: number, rnd: () => number): string[] {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const street = pick(d.streets);
  const house = 1 + Math.floor(rnd() * 180);
  const id = `ala-${d.code}-${String(n).padStart(width, "0")}`;
  const near = rnd() < 0.4 ? pick(d.landmarks) : undefined;
  // Names and addresses carry commas and quotes: the CSV must quote them.
  const name = near ? `SOS «${near.ru}»` : `SOS ${street.ru}, ${house}`;
  // the landmark in brackets: no case endings to get wrong in either language
  const kk = `${street.kk}, ${house}${near ? ` (${near.kk})` : ""}`;
  const ru = `${street.ru}, ${house}${near ? ` (${near.ru})` : ""}`;
  const { lat, lon } = pointIn(d, rnd);
  const heartbeat = rnd() < 0.1 ? "15" : ""; // a few busy sites report more often; empty keeps the default
  return [id, name, lat, lon, `${kk} / ${ru}`, d.name, `pillar-${id}`, heartbeat];
}

function csv(rows: string[][]): string {
  return `${[INVENTORY_HEADER, ...rows].map(csvLine).join("\r\n")}\r\n`;
}

/** CSV text (header + `count` rows) of a made-up but realistic Almaty fleet, districts in turn. */
export function generateInventory(count: number, seed = 2024): string {
  const rnd = prng(seed);
  const width = Math.max(4, String(Math.ceil(count / DISTRICTS.length)).length);
  const rows: string[][] = [];
  for (let i = 0; i < count; i++) {
    const d = DISTRICTS[i % DISTRICTS.length]!;
    rows.push(row(d, Math.floor(i / DISTRICTS.length) + 1, width, rnd));
  }
  return csv(rows);
}

/** Almaty's example fleet: the current pillars and the planned ones, as two inventories. */
export function generateAlmatyFleet(seed = 2024): { current: string; planned: string } {
  const rnd = prng(seed);
  const current: string[][] = [];
  const planned: string[][] = [];
  DISTRICTS.forEach((d, i) => {
    const now = CURRENT_PER_DISTRICT[i]!;
    for (let n = 1; n <= now; n++) current.push(row(d, n, 4, rnd));
    for (let n = now + 1; n <= now + PLANNED_PER_DISTRICT[i]!; n++) planned.push(row(d, n, 4, rnd));
  });
  return { current: csv(current), planned: csv(planned) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? fileURLToPath(new URL("../config/examples/fleet/", import.meta.url));
  mkdirSync(out, { recursive: true });
  const { current, planned } = generateAlmatyFleet();
  writeFileSync(join(out, "sites.csv"), current);
  writeFileSync(join(out, "planned-sites.csv"), planned);
  console.log(`250 current pillars → ${join(out, "sites.csv")}, 100 planned → ${join(out, "planned-sites.csv")}`);
}
