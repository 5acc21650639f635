/**
 * A CSV reader after RFC 4180: fields separated by commas, records by CRLF or LF, a field in
 * double quotes may hold commas, line breaks and doubled quotes (`""` is one `"`). A UTF-8 BOM at
 * the start is skipped, a final line break does not start an empty record, and blank lines are
 * skipped. Every record carries the physical line it starts on, so errors can name it.
 */

export interface CsvRecord {
  /** 1-based line of the file where the record starts (a quoted field may span lines). */
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${source}:${line}: ${reason} (character ${column})`);
    this.name = "CsvSyntaxError";
  }
}

/** Parse the whole text; throws CsvSyntaxError at the first malformed spot. */
export function parseCsv(text: string, source = "csv"): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = i;
  const n = text.length;

  while (i < n) {
    const recordLine = line;
    const fields: string[] = [];
    // Read fields until the end of the record.
    for (;;) {
      let value = "";
      if (text[i] === '"') {
        const openLine = line;
        const openCol = i - lineStart + 1;
        i++;
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(source, openLine, openCol, "quoted field is never closed");
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === "\n") {
            line++;
            lineStart = i + 1;
          }
          value += ch;
          i++;
        }
        const next = text[i];
        if (i < n && next !== "," && next !== "\n" && !(next === "\r" && text[i + 1] === "\n")) {
          throw new CsvSyntaxError(
            source,
            line,
            i - lineStart + 1,
            `unexpected ${JSON.stringify(next)} after a closing quote`,
          );
        }
      } else {
        const start = i;
        while (i < n) {
          const ch = text[i];
          if (ch === "," || ch === "\n" || (ch === "\r" && text[i + 1] === "\n")) break;
          if (ch === '"')
            throw new CsvSyntaxError(
              source,
              line,
              i - lineStart + 1,
              "a quote inside an unquoted field (quote the whole field and double the quote)",
            );
          i++;
        }
        value = text.slice(start, i);
      }
      fields.push(value);
      if (text[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    // End of record: consume the line break.
    if (text[i] === "\r") i++;
    if (text[i] === "\n") {
      i++;
      line++;
      lineStart = i;
    }
    const blank = fields.length === 1 && fields[0] === "";
    if (!blank) records.push({ line: recordLine, fields });
  }
  return records;
}

/** Quote a value for CSV output when it needs it (comma, quote, line break, edge spaces). */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (without the line break) from values. */
export function csvLine(values: (string | number)[]): string {
  return values.map(csvField).join(",");
}
