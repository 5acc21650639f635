/**
 * Pure helpers for the libgpiod command line tools (gpiodetect, gpioget, gpiomon, gpioset):
 * argument builders and output parsers for libgpiod v1 (1.5+, Raspberry Pi OS Bookworm ships
 * 1.6.3) and v2 (2.0+, Trixie). No I/O here: everything is tested from recorded tool output.
 */

export type GpiodMajor = 1 | 2;
export type Bias = "pull-up" | "pull-down";

export interface GpioChip {
  /** Device name, e.g. "gpiochip0" (what the tools take as the chip). */
  name: string;
  /** Driver label, e.g. "pinctrl-rp1". */
  label: string;
  lines: number;
}

export interface GpioEdge {
  offset: number;
  rising: boolean;
  /** Wall-clock time of the edge (ms), when the tool printed a realtime kernel timestamp. */
  at?: number;
}

/** The consumer name shown by `gpioinfo` for lines this driver holds (v2 tools only). */
export const CONSUMER = "alarm-pillar";

/** `gpiodetect --version` → libgpiod major version. "gpiodetect (libgpiod) v2.1.3" → 2. */
export function parseGpiodVersion(text: string): { major: GpiodMajor; version: string } | undefined {
  const m = /\(libgpiod\)\s+v?(\d+)\.(\d+)(?:\.(\d+))?\S*/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  if (major !== 1 && major !== 2) return undefined;
  return { major, version: m[0].replace(/^\(libgpiod\)\s+v?/, "") };
}

/** `gpiodetect` (same in v1 and v2): "gpiochip0 [pinctrl-rp1] (54 lines)" per chip. */
export function parseGpiodetect(text: string): GpioChip[] {
  const chips: GpioChip[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\S+)\s+\[(.*)\]\s+\((\d+)\s+lines?\)\s*$/.exec(line);
    if (m) chips.push({ name: m[1]!, label: m[2]!, lines: Number(m[3]) });
  }
  return chips;
}

export function findChipByLabel(chips: readonly GpioChip[], label: string): GpioChip | undefined {
  return chips.find((c) => c.label === label);
}

/** Bias for an input: an activeLow contact pulls to ground, so the line idles pulled up. */
export function biasFor(activeLow: boolean): Bias {
  return activeLow ? "pull-up" : "pull-down";
}

/**
 * gpiomon for one line, printing one edge per line: "<offset> <type> <time>".
 * v2: `--event-clock realtime` so `%S` is wall-clock seconds.nanoseconds; %e is 1 rising, 2 falling.
 * v1: `--line-buffered` (v1 block-buffers a pipe otherwise); %e is 1 rising, 0 falling; its
 *     timestamps are CLOCK_MONOTONIC on kernels >= 5.7, so the caller stamps edges itself.
 */
export function buildGpiomonArgs(major: GpiodMajor, chip: string, offset: number, bias: Bias): string[] {
  if (major === 2) {
    return [
      "--chip",
      chip,
      "--bias",
      bias,
      "--edges",
      "both",
      "--event-clock",
      "realtime",
      "--consumer",
      CONSUMER,
      "--format",
      "%o %e %S",
      String(offset),
    ];
  }
  return ["--line-buffered", `--bias=${bias}`, "--format=%o %e %s %n", chip, String(offset)];
}

/**
 * One line of gpiomon output → an edge, or undefined for anything else (banners, blank lines).
 * Understands the formats of buildGpiomonArgs and, in case a wrapper drops `--format`, the
 * tools' default human-readable lines:
 *   v1 "event:  RISING EDGE offset: 17 timestamp: [     123.456789012]"
 *   v2 "1706876162.123456789\trising\tgpiochip0 17" (or an ISO UTC time with --event-clock realtime)
 */
export function parseGpiomonLine(line: string, major: GpiodMajor): GpioEdge | undefined {
  const s = line.trim();
  let m: RegExpExecArray | null;
  if (major === 2 && (m = /^(\d+) ([12]) (\d+)\.(\d{9})$/.exec(s))) {
    return { offset: Number(m[1]), rising: m[2] === "1", at: Number(m[3]) * 1000 + Math.floor(Number(m[4]) / 1e6) };
  }
  if (major === 1 && (m = /^(\d+) ([01]) (\d+) (\d+)$/.exec(s))) {
    return { offset: Number(m[1]), rising: m[2] === "1" };
  }
  if ((m = /^event:\s+(RISING|FALLING) EDGE\s+offset:\s+(\d+)\b/.exec(s))) {
    return { offset: Number(m[2]), rising: m[1] === "RISING" };
  }
  if ((m = /^(\S+)\s+(rising|falling)\s+\S+\s+(\d+)\b/.exec(s))) {
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(m[1]!) ? Date.parse(m[1]!) : Number.NaN;
    return { offset: Number(m[3]), rising: m[2] === "rising", ...(Number.isFinite(iso) ? { at: iso } : {}) };
  }
  return undefined;
}

/** gpioget for one input line, with its bias (v2 waits 5 ms for the pull to settle). */
export function buildGpiogetArgs(major: GpiodMajor, chip: string, offset: number, bias: Bias): string[] {
  if (major === 2)
    return [
      "--chip",
      chip,
      "--bias",
      bias,
      "--hold-period",
      "5ms",
      "--numeric",
      "--consumer",
      CONSUMER,
      String(offset),
    ];
  return [`--bias=${bias}`, chip, String(offset)];
}

/** gpioget output → raw level (true = high). "1", "0", `"17"=active`, `17=inactive`. */
export function parseGpiogetOutput(text: string): boolean {
  const s = text.trim();
  if (s === "1" || s === "0") return s === "1";
  const m = /^"?[^"=\s]+"?=(active|inactive)$/.exec(s);
  if (m) return m[1] === "active";
  throw new Error(`unexpected gpioget output: ${JSON.stringify(s.slice(0, 80))}`);
}

/**
 * gpioset driving one output line at a raw level. `hold`: keep the line claimed until SIGTERM
 * (v2 does that by default, v1 needs `--mode=signal`); else set it and exit (`--toggle 0` /
 * `--mode=exit`), used to leave the line inactive on stop.
 */
export function buildGpiosetArgs(
  major: GpiodMajor,
  chip: string,
  offset: number,
  high: boolean,
  hold = true,
): string[] {
  const value = `${offset}=${high ? 1 : 0}`;
  if (major === 2) return ["--chip", chip, "--consumer", CONSUMER, ...(hold ? [] : ["--toggle", "0"]), value];
  return [hold ? "--mode=signal" : "--mode=exit", chip, value];
}
