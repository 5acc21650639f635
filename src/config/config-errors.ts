import { BoundedJsonError, parseBoundedJson } from "../util/bounded-json.js";

/** One problem found in a config: where (JSON pointer, or file line:column) and what. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Thrown when a config cannot be used; carries every problem found, not just the first. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${source}: invalid config\n${problems.map((p) => `  ${p.path || "/"}: ${p.message}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** A config file is small: these bound it before it is parsed (depth: the schema needs < 10). */
export const CONFIG_BOUNDS = { maxBytes: 1024 * 1024, maxDepth: 32 } as const;

/**
 * Parse a config text with its size and depth bounded first, turning every refusal into a
 * ConfigError that names line and column (a deeply nested file never reaches the parser).
 */
export function parseJsonText(text: string, source: string): unknown {
  try {
    return parseBoundedJson(text, CONFIG_BOUNDS);
  } catch (err) {
    if (!(err instanceof BoundedJsonError)) throw err;
    const path = err.at ? `line ${err.at.line}, column ${err.at.column}` : "(file)";
    const message = err.at ? err.message.slice(err.message.indexOf(": ") + 2) : err.message;
    throw new ConfigError(source, [{ path, message }]);
  }
}
