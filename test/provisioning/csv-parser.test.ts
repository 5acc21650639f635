import { describe, expect, it } from "vitest";
import { csvLine, CsvSyntaxError, parseCsv } from "../../src/provisioning/csv-parser.js";

describe("RFC 4180 CSV parser", () => {
  it("reads plain fields, CRLF and LF line ends, and skips a BOM and the final line break", () => {
    expect(parseCsv("\uFEFFa,b,c\r\n1,2,3\n4,,6\r\n")).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["1", "2", "3"] },
      { line: 3, fields: ["4", "", "6"] },
    ]);
  });

  it("reads quoted fields holding commas, doubled quotes and line breaks, and numbers lines by where a record starts", () => {
    const text =
      'id,address,name\r\nx1,"Navoi Street 1, near Chorsu","Pillar ""North"""\r\nx2,"line one\r\nline two\nline three",plain\r\nx3,"",last\r\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ["id", "address", "name"] },
      { line: 2, fields: ["x1", "Navoi Street 1, near Chorsu", 'Pillar "North"'] },
      { line: 3, fields: ["x2", "line one\r\nline two\nline three", "plain"] },
      { line: 6, fields: ["x3", "", "last"] },
    ]);
  });

  it("keeps a trailing empty field and skips blank lines", () => {
    expect(parseCsv("a,b\n\n1,\n")).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 3, fields: ["1", ""] },
    ]);
  });

  it("reads a last record without a line break", () => {
    expect(parseCsv('a,"b\nc"')).toEqual([{ line: 1, fields: ["a", "b\nc"] }]);
  });

  it("names the line of malformed input", () => {
    const unclosed = () => parseCsv('a,b\n1,2\n3,"never closed\n4,5\n', "sites.csv");
    expect(unclosed).toThrow(CsvSyntaxError);
    expect(unclosed).toThrow(/^sites\.csv:3: quoted field is never closed/);
    expect(() => parseCsv('a,b\n1,x"y\n', "s.csv")).toThrow(/^s\.csv:2: a quote inside an unquoted field/);
    expect(() => parseCsv('a,b\n"1"x,2\n', "s.csv")).toThrow(/^s\.csv:2: unexpected "x" after a closing quote/);
  });

  it("writes fields that round-trip through the parser", () => {
    const values = ["plain", "with, comma", 'with "quotes"', "two\nlines", " padded ", "41.311081"];
    const [rec] = parseCsv(`${csvLine(values)}\r\n`);
    expect(rec!.fields).toEqual(values);
  });
});
