import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { type Static, Type } from "@sinclair/typebox";
import { Ajv2020 } from "ajv/dist/2020.js";
import { ConfigError, parseJsonText } from "../../src/config/config-errors.js";

/** The console's own config (not the pillar's): what the center's officers see and how. */
export const ConsoleConfigSchema = Type.Object(
  {
    timeZone: Type.String({
      default: "Asia/Almaty",
      maxLength: 64,
      description: "IANA time zone every time on the page is shown in (the zone is shown beside it)",
    }),
    overdueS: Type.Integer({
      default: 30,
      minimum: 5,
      maximum: 3600,
      description: "an alarm unanswered for this long stands out in the queue",
    }),
    tileUrl: Type.String({
      default: "",
      maxLength: 512,
      description:
        'map tile URL template, e.g. "https://tiles.center.local/{z}/{x}/{y}.png"; empty: markers on a plain background',
    }),
    tileAttribution: Type.String({ default: "", maxLength: 256, description: "shown in the map's corner" }),
    mapCenter: Type.Object(
      { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) },
      {
        additionalProperties: false,
        default: { lat: 43.238, lon: 76.889 },
        description: "where the map opens (default: Almaty)",
      },
    ),
    mapZoom: Type.Integer({ default: 11, minimum: 1, maximum: 19 }),
    defaultLanguage: Type.Union([Type.Literal("auto"), Type.Literal("kk"), Type.Literal("ru"), Type.Literal("en")], {
      default: "auto",
      description: 'page language before the officer picks one; "auto": from the browser',
    }),
    https: Type.Optional(
      Type.Object(
        {
          keyFile: Type.String({ minLength: 1, maxLength: 1024, description: "PEM private key" }),
          certFile: Type.String({ minLength: 1, maxLength: 1024, description: "PEM certificate (chain)" }),
        },
        {
          additionalProperties: false,
          description: "serve the console over HTTPS with this key and certificate (the session cookie is then Secure)",
        },
      ),
    ),
    brokerTls: Type.Optional(
      Type.Object(
        {
          caFile: Type.String({
            minLength: 1,
            maxLength: 1024,
            description: "PEM file of the CA that signed the broker's certificate (the fleet CA)",
          }),
          certFile: Type.String({
            minLength: 1,
            maxLength: 1024,
            description: "PEM file of the center's client certificate (CN center; `pillar keys cert --id center`)",
          }),
          keyFile: Type.String({
            minLength: 1,
            maxLength: 1024,
            description: "PEM file of its private key; refused when group/others may read it",
          }),
          serverName: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 253,
              description: "name the broker's certificate must carry (default: the URL's host)",
            }),
          ),
          pollS: Type.Integer({
            default: 60,
            minimum: 1,
            maximum: 86_400,
            description: "also look for changed certificate files this often (besides fs.watch)",
          }),
        },
        {
          additionalProperties: false,
          description:
            "mutual TLS to the broker (mqtts://), as the shipped Mosquitto config requires; the files are re-read when they change",
        },
      ),
    ),
    mqttClientId: Type.String({
      default: "",
      maxLength: 64,
      pattern: "^[A-Za-z0-9._-]*$",
      description:
        "the console server's MQTT client id for its persistent session (with a database); each console server needs its own; empty: center-console-{host name}-{port}",
    }),
    clipUploadUrl: Type.String({
      default: "",
      maxLength: 1024,
      pattern: "^(https?://.*\\{clipId\\}.*)?$",
      description:
        "where a pillar uploads an incident's clip when an officer asks from the history (clips.upload: resumable HTTP PUT, docs/recording.md); {pillarId}, {incidentId}, {clipId} are filled in; officers follow the same URL to play it; empty: the history says where the clip is",
    }),
    clipUploadHeaders: Type.Record(Type.String({ pattern: "^[A-Za-z0-9-]{1,64}$" }), Type.String({ maxLength: 1024 }), {
      default: {},
      maxProperties: 16,
      description: "headers the pillar sends with the upload (e.g. the storage's Authorization)",
    }),
    trustedProxies: Type.Array(Type.String({ minLength: 2, maxLength: 45 }), {
      default: [],
      maxItems: 16,
      description:
        "addresses of reverse proxies in front of the console: from them (only), the client's address is read from X-Forwarded-For (the login throttle is per officer and client address)",
    }),
    allowedOrigins: Type.Array(Type.String({ maxLength: 256 }), {
      default: [],
      maxItems: 32,
      description: "extra Origins allowed to change state (behind a proxy); the console's own is always allowed",
    }),
  },
  { additionalProperties: false },
);

export type ConsoleConfig = Static<typeof ConsoleConfigSchema>;

const validate = new Ajv2020({ allErrors: true, useDefaults: true, strict: false }).compile(ConsoleConfigSchema);

/** An IANA zone the runtime knows (Intl throws RangeError for an unknown one). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return /\//.test(zone) || zone === "UTC";
  } catch {
    return false;
  }
}

/** Validate a console config document; defaults filled in. */
export function parseConsoleConfig(doc: unknown, source = "console config"): ConsoleConfig {
  const copy = structuredClone(doc ?? {}) as object;
  if (!validate(copy))
    throw new ConfigError(
      source,
      (validate.errors ?? []).map((e) => ({ path: e.instancePath, message: e.message ?? "invalid" })),
    );
  const c = copy as ConsoleConfig;
  if (!isTimeZone(c.timeZone))
    throw new ConfigError(source, [{ path: "/timeZone", message: `"${c.timeZone}" is not an IANA time zone` }]);
  const proxy = c.trustedProxies.findIndex((a) => !isIP(a));
  if (proxy >= 0)
    throw new ConfigError(source, [
      { path: `/trustedProxies/${proxy}`, message: `"${c.trustedProxies[proxy]}" is not an IP address` },
    ]);
  return c;
}

/** Read the console's config file (bounded), or the defaults when there is none. */
export async function loadConsoleConfig(path: string | undefined): Promise<ConsoleConfig> {
  if (!path) return parseConsoleConfig({});
  const text = await readFile(path, "utf8");
  if (text.length > 64_000) throw new ConfigError(path, [{ path: "(file)", message: "larger than 64 kB" }]);
  return parseConsoleConfig(parseJsonText(text, path), path);
}
