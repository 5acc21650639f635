/**
 * Splits a byte stream into lines with a bound checked BEFORE the newline arrives: once a line
 * grows past `maxLine` bytes its bytes are dropped as they come (nothing is kept or joined) and,
 * when its newline finally arrives, it is reported once as too long. So a 16 MB line without a
 * newline costs one pass over its bytes and at most `maxLine` bytes of memory, and the next
 * line is read normally.
 */
export class BoundedLineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private overflow = false;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: (head: string) => void,
  ) {}

  push(chunk: Buffer): void {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      const end = nl < 0 ? chunk.length : nl;
      this.take(chunk.subarray(from, end));
      if (nl < 0) return;
      this.finish();
      from = nl + 1;
    }
  }

  private take(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.overflow) return;
    if (this.size + bytes.length > this.maxLine) {
      // keep only a short head for the report
      this.overflow = true;
      const head = Buffer.concat([...this.parts, bytes.subarray(0, 80)]).subarray(0, 80);
      this.parts = [head];
      this.size = head.length;
      return;
    }
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  private finish(): void {
    const line = Buffer.concat(this.parts).toString("utf8");
    const overflow = this.overflow;
    this.parts = [];
    this.size = 0;
    this.overflow = false;
    if (overflow) this.onTooLong(line);
    else this.onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  }

  /** Bytes held for the line in progress (never more than the bound). */
  get pending(): number {
    return this.size;
  }
}
