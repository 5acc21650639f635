import { describe, expect, it } from "vitest";
import { BoundedLineSplitter } from "../../src/provisioning/line-splitter.js";

describe("bounded line splitter (serial provisioning lines)", () => {
  it("refuses a 16 MB line without a newline holding at most the bound, then reads the next line", () => {
    const lines: string[] = [];
    const tooLong: string[] = [];
    const s = new BoundedLineSplitter(
      16 * 1024,
      (l) => lines.push(l),
      (h) => tooLong.push(h),
    );
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let most = 0;
    for (let i = 0; i < 256; i++) {
      s.push(chunk);
      most = Math.max(most, s.pending);
    }
    expect(most).toBeLessThanOrEqual(16 * 1024);
    expect(tooLong).toHaveLength(0); // reported once its newline comes
    s.push(Buffer.from('\n{"t":"HELLO"}\r\n'));
    expect(tooLong).toHaveLength(1);
    expect(tooLong[0]!.length).toBeLessThanOrEqual(80);
    expect(lines).toEqual(['{"t":"HELLO"}']);
  });

  it("splits lines across chunk borders and keeps a line of exactly the bound", () => {
    const lines: string[] = [];
    const s = new BoundedLineSplitter(
      8,
      (l) => lines.push(l),
      () => lines.push("<too long>"),
    );
    for (const part of ["ab", "c\nde", "f\n12345678\n123456789\nok\n"]) s.push(Buffer.from(part));
    expect(lines).toEqual(["abc", "def", "12345678", "<too long>", "ok"]);
  });
});
