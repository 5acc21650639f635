/**
 * Generates the example fleet inventory: pillars along real streets of Tashkent's districts
 * (the city of the simulated pillar in config/examples/sim.json), with coordinates scattered
 * around each district's centre. Deterministic (seeded), so the committed file is reproducible:
 *
 *     npx tsx scripts/gen-fleet-inventory.ts [COUNT] [OUT]   # default 100 → config/examples/fleet/sites.csv
 *
 * The benchmark imports `generateInventory` to make a 10,000-row inventory.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { csvLine } from "../src/provisioning/csv-parser.js";

interface District {
  name: string;
  code: string;
  lat: number;
  lon: number;
  streets: string[];
  landmarks: string[];
}

const DISTRICTS: District[] = [
  {
    name: "Yunusabad",
    code: "yun",
    lat: 41.3645,
    lon: 69.2867,
    streets: ["Amir Temur Avenue", "Bogishamol Street", "Shahriston Street", "Osiyo Street", "Yunusobod Street"],
    landmarks: ["Minor Mosque", "Yunusobod metro", "Tashkent TV Tower"],
  },
  {
    name: "Mirzo Ulugbek",
    code: "mul",
    lat: 41.3383,
    lon: 69.3346,
    streets: [
      "Mustaqillik Avenue",
      "Buyuk Ipak Yo'li Street",
      "Ziyolilar Street",
      "Durmon Yo'li Street",
      "Parkent Street",
    ],
    landmarks: ["Buyuk Ipak Yo'li metro", "National University", "Ulugbek metro"],
  },
  {
    name: "Yashnobod",
    code: "yas",
    lat: 41.2968,
    lon: 69.3392,
    streets: ["Maxtumquli Street", "Aviasozlar Street", "Taraqqiyot Street", "Fargona Yo'li Street"],
    landmarks: ["Aviasozlar metro", "Tuzel market"],
  },
  {
    name: "Mirabad",
    code: "mir",
    lat: 41.2957,
    lon: 69.2748,
    streets: ["Afrosiyob Street", "Taras Shevchenko Street", "Mirobod Street", "Nukus Street", "Amir Temur Avenue"],
    landmarks: ["Mirabad market", "Oybek metro", "Tashkent railway station"],
  },
  {
    name: "Yakkasaray",
    code: "yak",
    lat: 41.2876,
    lon: 69.2511,
    streets: ["Shota Rustaveli Street", "Bobur Street", "Qushbegi Street", "Abdulla Qodiriy Street"],
    landmarks: ["Babur Park", "Kosmonavtlar metro"],
  },
  {
    name: "Shaykhontohur",
    code: "shk",
    lat: 41.3222,
    lon: 69.2353,
    streets: ["Navoi Street", "Labzak Street", "Qoratosh Street", "Beruniy Avenue", "Zarqaynar Street"],
    landmarks: ["Chorsu Bazaar", "Hast Imam square", "Alisher Navoi metro"],
  },
  {
    name: "Chilanzar",
    code: "chi",
    lat: 41.2755,
    lon: 69.2038,
    streets: ["Bunyodkor Avenue", "Chilonzor Street", "Qatortol Street", "Muqimiy Street"],
    landmarks: ["Novza metro", "Chilonzor metro", "Bunyodkor stadium"],
  },
  {
    name: "Uchtepa",
    code: "uch",
    lat: 41.2962,
    lon: 69.1706,
    streets: ["Lutfiy Street", "Farhod Street", "Gavhar Street", "Uchtepa Street"],
    landmarks: ["Farhod market", "Uchtepa bus terminal"],
  },
  {
    name: "Olmazor",
    code: "olm",
    lat: 41.3468,
    lon: 69.2151,
    streets: ["Farobiy Street", "Qorasaroy Street", "Sagbon Street", "Shifokorlar Street"],
    landmarks: ["Beruniy metro", "Olmazor park"],
  },
  {
    name: "Sergeli",
    code: "ser",
    lat: 41.2258,
    lon: 69.2243,
    streets: ["Yangi Sergeli Street", "Sergeli Street", "Quruvchilar Street", "Choshtepa Street"],
    landmarks: ["Sergeli market", "Choshtepa metro"],
  },
  {
    name: "Bektemir",
    code: "bek",
    lat: 41.2095,
    lon: 69.3351,
    streets: ["Husayn Boyqaro Street", "Bektemir Street", "Suzuk Ota Street"],
    landmarks: ["Bektemir district office"],
  },
  {
    name: "Yangihayot",
    code: "yan",
    lat: 41.199,
    lon: 69.2045,
    streets: ["Yangihayot Street", "Bog'bon Street", "Sanoat Street"],
    landmarks: ["Yangihayot industrial zone"],
  },
];

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

/** CSV text (header + `count` rows) of a made-up but realistic Tashkent fleet. */
export function generateInventory(count: number, seed = 2024): string {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const lines = [csvLine(INVENTORY_HEADER)];
  const width = Math.max(4, String(count).length);
  for (let i = 1; i <= count; i++) {
    const d = DISTRICTS[(i - 1) % DISTRICTS.length]!;
    const street = pick(d.streets);
    const house = 1 + Math.floor(rnd() * 180);
    const id = `tas-${d.code}-${String(i).padStart(width, "0")}`;
    const near = rnd() < 0.4 ? pick(d.landmarks) : undefined;
    // Some names and addresses carry commas and quotes: the CSV must quote them.
    const name = near && rnd() < 0.3 ? `SOS pillar "${near}"` : `SOS pillar ${street} ${house}`;
    const address = near ? `${street} ${house}, near ${near}` : `${street} ${house}`;
    const lat = (d.lat + (rnd() - 0.5) * 0.03).toFixed(6);
    const lon = (d.lon + (rnd() - 0.5) * 0.04).toFixed(6);
    const heartbeat = rnd() < 0.1 ? "15" : ""; // a few busy sites report more often; empty keeps the default
    lines.push(csvLine([id, name, lat, lon, address, `${d.name} district`, `pillar-${id}`, heartbeat]));
  }
  return `${lines.join("\r\n")}\r\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const count = Number(process.argv[2] ?? 100);
  const out = process.argv[3] ?? fileURLToPath(new URL("../config/examples/fleet/sites.csv", import.meta.url));
  writeFileSync(out, generateInventory(count));
  console.log(`${count} pillars written to ${out}`);
}
