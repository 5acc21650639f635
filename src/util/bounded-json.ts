/** Where in a text, 1-based. */
export interface TextPosition {
  line: number;
  column: number;
}

/** Line and column (1-based) of a character offset in a text. */
export function lineColumn(text: string, offset: number): TextPosition {
  let line = 1;
  let lastNl = -1;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf("\n"); i >= 0 && i < end; i = text.indexOf("\n", i + 1)) {
    line++;
    lastNl = i;
  }
  return { line, column: offset - lastNl };
}

/** Input refused before or while parsing: `at` says where, when it is about a place in the text. */
export class BoundedJsonError extends Error {
  constructor(
    message: string,
    readonly at?: TextPosition,
  ) {
    super(at ? `line ${at.line}, column ${at.column}: ${message}` : message);
    this.name = "BoundedJsonError";
  }
}

export interface JsonBounds {
  /** Largest input in bytes (UTF-8), checked before anything else. */
  maxBytes: number;
  /** Deepest nesting of objects and arrays, checked by a scan before JSON.parse. */
  maxDepth: number;
}

/** Offset of the first bracket nested deeper than `maxDepth`, or -1 (strings are skipped). */
function tooDeepAt(text: string, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return -1;
}

/**
 * Parse untrusted JSON with its bounds checked first: size (bytes), then nesting depth (a linear
 * scan, so a deep document never reaches the recursive parser or a validator), then JSON.parse.
 * Every refusal is a BoundedJsonError; a syntax error always says line and column (the end of
 * the text when the input simply stops).
 */
export function parseBoundedJson(input: string | Buffer, b: JsonBounds): unknown {
  const bytes = typeof input === "string" ? Buffer.byteLength(input) : input.length;
  if (bytes > b.maxBytes) throw new BoundedJsonError(`${bytes} bytes, more than the limit of ${b.maxBytes}`);
  const text = typeof input === "string" ? input : input.toString("utf8");
  const deep = tooDeepAt(text, b.maxDepth);
  if (deep >= 0) throw new BoundedJsonError(`nested deeper than ${b.maxDepth} levels`, lineColumn(text, deep));
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    const offset = m ? Number(m[1]) : text.length;
    throw new BoundedJsonError(
      `not valid JSON: ${msg.replace(/ \(line \d+ column \d+\)$/, "")}`,
      lineColumn(text, offset),
    );
  }
}
