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

/** Line and column (1-based) of a character offset in a text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** Parse JSON, turning a syntax error into a ConfigError that names line and column. */
export function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    const where = m ? lineColumn(text, Number(m[1])) : undefined;
    throw new ConfigError(source, [
      { path: where ? `line ${where.line}, column ${where.column}` : "(file)", message: `not valid JSON: ${msg}` },
    ]);
  }
}
