import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { PillarConfigSchema, type PillarConfig } from "../../config/schema.js";
import { ConfigError, type ConfigProblem } from "./config-errors.js";
import { transportProblems } from "../security/transport-policy.js";
import { migrateConfig } from "./migrate-config.js";

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: false });
    compiled = ajv.compile(PillarConfigSchema);
  }
  return compiled;
}

/** The schema's patterns said in words, for people who do not read regular expressions. */
const PATTERN_RULES: Record<string, string> = {
  "^[a-z0-9][a-z0-9-]{1,62}$":
    "must be 2 to 63 characters of lower-case letters a-z, digits 0-9 and hyphens, not starting with a hyphen",
  "^(mqtts?|wss?)://": "must start with mqtt://, mqtts://, ws:// or wss://",
  "^[^#+]+$": "must not contain the MQTT wildcards # or +",
  "^(stun|turns?):": "must start with stun:, turn: or turns:",
};

/** Turn ajv's errors into problems that name the field by its JSON path. */
export function ajvProblems(errors: ErrorObject[] | null | undefined): ConfigProblem[] {
  return (errors ?? []).map((e) => {
    let path = e.instancePath || "/";
    let message = e.message ?? "is invalid";
    if (e.keyword === "additionalProperties") {
      path = `${e.instancePath}/${String((e.params as { additionalProperty: string }).additionalProperty)}`;
      message = "is not a known field";
    } else if (e.keyword === "required") {
      path = `${e.instancePath}/${String((e.params as { missingProperty: string }).missingProperty)}`;
      message = "is required";
    } else if (e.keyword === "pattern") {
      const pattern = String((e.params as { pattern: string }).pattern);
      message = PATTERN_RULES[pattern] ?? `must match the pattern ${pattern}`;
    } else if (e.keyword === "enum" || e.keyword === "const") {
      message = `${message}: ${JSON.stringify((e.params as { allowedValues?: unknown; allowedValue?: unknown }).allowedValues ?? (e.params as { allowedValue?: unknown }).allowedValue)}`;
    }
    return { path, message };
  });
}

/** True when the runtime's time-zone database knows `zone`. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Checks the schema cannot express: a pin used twice, a driver without its settings. */
export function crossFieldProblems(c: PillarConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<number, string>();
  const lines: [string, number][] = [
    ...Object.entries(c.hal.inputs).map(([n, l]): [string, number] => [`/hal/inputs/${n}/pin`, l.pin]),
    ...Object.entries(c.hal.outputs).map(([n, l]): [string, number] => [`/hal/outputs/${n}/pin`, l.pin]),
  ];
  for (const [path, pin] of lines) {
    const first = seen.get(pin);
    if (first) problems.push({ path, message: `pin ${pin} is already used by ${first}` });
    else seen.set(pin, path);
  }
  if (c.hal.driver === "firmata" && !c.hal.firmata) {
    problems.push({ path: "/hal/firmata", message: 'is required when hal.driver is "firmata"' });
  }
  if (c.hal.driver === "gpio" && !c.hal.gpio) {
    problems.push({ path: "/hal/gpio", message: 'is required when hal.driver is "gpio" (chipLabel)' });
  }
  if (c.broker.failoverUrls.length > 0 && !/^mqtts?:\/\//.test(c.broker.url)) {
    problems.push({ path: "/broker/failoverUrls", message: "needs broker.url to be mqtt:// or mqtts:// too" });
  }
  if (c.outbox.compactBytes >= c.outbox.maxBytes) {
    problems.push({ path: "/outbox/compactBytes", message: "must be smaller than outbox.maxBytes" });
  }
  if (c.button.debounceMs >= c.button.stuckAfterS * 1000) {
    problems.push({ path: "/button/debounceMs", message: "must be shorter than button.stuckAfterS" });
  }
  if (!isTimeZone(c.timezone)) {
    problems.push({ path: "/timezone", message: `unknown IANA time zone "${c.timezone}" (e.g. "Asia/Almaty")` });
  }
  problems.push(...transportProblems(c));
  return problems;
}

/**
 * Validate a parsed config document: migrate an older `version`, fill defaults, check the
 * schema (every error, by JSON path), then the cross-field rules. Returns a complete config or
 * throws a ConfigError listing every problem. Does not touch the input object.
 */
export function validateConfig(doc: unknown, source = "config"): PillarConfig {
  const migrated = migrateConfig(structuredClone(doc), source).config;
  const validate = validator();
  if (!validate(migrated)) throw new ConfigError(source, ajvProblems(validate.errors));
  const config = migrated as PillarConfig;
  const problems = crossFieldProblems(config);
  if (problems.length) throw new ConfigError(source, problems);
  return config;
}
