/** The libgpiod CLI helpers of the GPIO driver, from recorded output of libgpiod v1.6 and v2.x tools. */
import { describe, expect, it } from "vitest";
import {
  biasFor,
  buildGpiogetArgs,
  buildGpiomonArgs,
  buildGpiosetArgs,
  findChipByLabel,
  parseGpiodetect,
  parseGpiodVersion,
  parseGpiogetOutput,
  parseGpiomonLine,
} from "../../hal/gpio/gpiod-cli.js";

const GPIODETECT_PI5_KERNEL_6_1 = `gpiochip0 [gpio-brcmstb@107d508500] (32 lines)
gpiochip1 [gpio-brcmstb@107d508520] (4 lines)
gpiochip2 [gpio-brcmstb@107d517c00] (17 lines)
gpiochip3 [gpio-brcmstb@107d517c20] (6 lines)
gpiochip4 [pinctrl-rp1] (54 lines)
`;

const GPIODETECT_PI5_KERNEL_6_6 = `gpiochip0 [pinctrl-rp1] (54 lines)
gpiochip10 [gpio-brcmstb@107d508500] (32 lines)
gpiochip11 [gpio-brcmstb@107d508520] (4 lines)
gpiochip12 [gpio-brcmstb@107d517c00] (17 lines)
gpiochip13 [gpio-brcmstb@107d517c20] (6 lines)
`;

const GPIODETECT_PI4 = `gpiochip0 [pinctrl-bcm2711] (58 lines)
gpiochip1 [raspberrypi-exp-gpio] (8 lines)
`;

const VERSION_V1 = `gpiodetect (libgpiod) v1.6.3
Copyright (C) 2017-2018 Bartosz Golaszewski
License: LGPLv2.1
This is free software: you are free to change and redistribute it.
There is NO WARRANTY, to the extent permitted by law.
`;

const VERSION_V2 = `gpiodetect (libgpiod) v2.2.1
Copyright (C) 2017-2023 Bartosz Golaszewski
License: GPL-2.0-or-later
This is free software: you are free to change and redistribute it.
There is NO WARRANTY, to the extent permitted by law.
`;

describe("gpiodetect", () => {
  it("parses the chip list and finds the chip by label on a Pi 5 (old and new numbering) and a Pi 4", () => {
    const old = parseGpiodetect(GPIODETECT_PI5_KERNEL_6_1);
    expect(old).toHaveLength(5);
    expect(old[0]).toEqual({ name: "gpiochip0", label: "gpio-brcmstb@107d508500", lines: 32 });
    expect(findChipByLabel(old, "pinctrl-rp1")).toEqual({ name: "gpiochip4", label: "pinctrl-rp1", lines: 54 });
    expect(findChipByLabel(parseGpiodetect(GPIODETECT_PI5_KERNEL_6_6), "pinctrl-rp1")?.name).toBe("gpiochip0");
    expect(findChipByLabel(parseGpiodetect(GPIODETECT_PI4), "pinctrl-bcm2711")).toEqual({
      name: "gpiochip0",
      label: "pinctrl-bcm2711",
      lines: 58,
    });
    expect(findChipByLabel(parseGpiodetect(GPIODETECT_PI4), "pinctrl-rp1")).toBeUndefined();
  });

  it("ignores lines that are not chips", () => {
    expect(parseGpiodetect("\ngpiodetect: unable to open chip: Permission denied\n")).toEqual([]);
    expect(parseGpiodetect("gpiochip0 [pinctrl-rp1] (1 line)")).toEqual([
      { name: "gpiochip0", label: "pinctrl-rp1", lines: 1 },
    ]);
  });

  it("tells libgpiod v1 from v2 by `--version`", () => {
    expect(parseGpiodVersion(VERSION_V1)).toEqual({ major: 1, version: "1.6.3" });
    expect(parseGpiodVersion(VERSION_V2)).toEqual({ major: 2, version: "2.2.1" });
    expect(parseGpiodVersion("gpiodetect (libgpiod) v2.1")?.major).toBe(2);
    expect(parseGpiodVersion("command not found")).toBeUndefined();
    expect(parseGpiodVersion("gpiodetect (libgpiod) v3.0.0")).toBeUndefined();
  });
});

describe("gpiomon", () => {
  it("builds v2 args: chip, bias, both edges, realtime clock, our format, the offset", () => {
    expect(buildGpiomonArgs(2, "gpiochip4", 17, biasFor(true))).toEqual([
      "--chip",
      "gpiochip4",
      "--bias",
      "pull-up",
      "--edges",
      "both",
      "--event-clock",
      "realtime",
      "--consumer",
      "alarm-pillar",
      "--format",
      "%o %e %S",
      "17",
    ]);
    expect(buildGpiomonArgs(2, "gpiochip0", 27, biasFor(false))).toContain("pull-down");
  });

  it("builds v1 args: line-buffered (v1 block-buffers a pipe), bias, format, chip then offset", () => {
    expect(buildGpiomonArgs(1, "gpiochip0", 17, "pull-up")).toEqual([
      "--line-buffered",
      "--bias=pull-up",
      "--format=%o %e %s %n",
      "gpiochip0",
      "17",
    ]);
  });

  it("parses v2 formatted events: %e 1 rising / 2 falling, %S realtime seconds to epoch ms", () => {
    expect(parseGpiomonLine("17 2 1718031212.123456789", 2)).toEqual({ offset: 17, rising: false, at: 1718031212123 });
    expect(parseGpiomonLine("17 1 1718031212.140001234\n", 2)).toEqual({ offset: 17, rising: true, at: 1718031212140 });
  });

  it("parses v1 formatted events: %e 1 rising / 0 falling, no trusted timestamp (monotonic, %n unpadded)", () => {
    expect(parseGpiomonLine("17 0 8342 5031", 1)).toEqual({ offset: 17, rising: false });
    expect(parseGpiomonLine("4 1 8342 950001234", 1)).toEqual({ offset: 4, rising: true });
  });

  it("parses the tools' default human-readable lines too", () => {
    expect(parseGpiomonLine("event: FALLING EDGE offset: 17 timestamp: [    8342.005031000]", 1)).toEqual({
      offset: 17,
      rising: false,
    });
    expect(parseGpiomonLine("event:  RISING EDGE offset: 17 timestamp: [1718031212.123456789]", 1)).toEqual({
      offset: 17,
      rising: true,
    });
    expect(parseGpiomonLine('8342.005031000\trising\tgpiochip0 17 "GPIO17"', 2)).toEqual({ offset: 17, rising: true });
    expect(parseGpiomonLine("2024-06-10T14:53:32.123456789Z\tfalling\tgpiochip4 22", 2)).toEqual({
      offset: 22,
      rising: false,
      at: Date.parse("2024-06-10T14:53:32.123Z"),
    });
  });

  it("returns undefined for banners, blank and garbled lines, and for the other generation's codes", () => {
    for (const l of ["Monitoring line '17'...", "", "   ", "17 3 1718031212.1", "x 1 2 3"])
      expect(parseGpiomonLine(l, 2)).toBeUndefined();
    expect(parseGpiomonLine("17 2 1718031212.123456789", 1)).toBeUndefined();
    expect(parseGpiomonLine("17 0 8342 5031", 2)).toBeUndefined();
  });
});

describe("gpioget", () => {
  it("builds v2 args with bias, a settle hold and numeric output; v1 args with bias", () => {
    expect(buildGpiogetArgs(2, "gpiochip4", 17, "pull-up")).toEqual([
      "--chip",
      "gpiochip4",
      "--bias",
      "pull-up",
      "--hold-period",
      "5ms",
      "--numeric",
      "--consumer",
      "alarm-pillar",
      "17",
    ]);
    expect(buildGpiogetArgs(1, "gpiochip0", 17, "pull-down")).toEqual(["--bias=pull-down", "gpiochip0", "17"]);
  });

  it("parses numeric (v1, v2 --numeric) and named (v2 default) output to the raw level", () => {
    expect(parseGpiogetOutput("1\n")).toBe(true);
    expect(parseGpiogetOutput("0\n")).toBe(false);
    expect(parseGpiogetOutput('"17"=active\n')).toBe(true);
    expect(parseGpiogetOutput('"GPIO17"=inactive\n')).toBe(false);
    expect(parseGpiogetOutput("17=inactive")).toBe(false);
    expect(() => parseGpiogetOutput("gpioget: unable to request lines: Device or resource busy")).toThrow(
      /unexpected gpioget output/,
    );
  });
});

describe("gpioset", () => {
  it("v2 holds the line until killed (no --toggle/--daemonize); v1 needs --mode=signal", () => {
    expect(buildGpiosetArgs(2, "gpiochip4", 22, true)).toEqual([
      "--chip",
      "gpiochip4",
      "--consumer",
      "alarm-pillar",
      "22=1",
    ]);
    expect(buildGpiosetArgs(1, "gpiochip0", 22, false)).toEqual(["--mode=signal", "gpiochip0", "22=0"]);
  });

  it("one-shot set-and-exit for leaving a line inactive: v2 --toggle 0, v1 --mode=exit", () => {
    expect(buildGpiosetArgs(2, "gpiochip4", 23, true, false)).toEqual([
      "--chip",
      "gpiochip4",
      "--consumer",
      "alarm-pillar",
      "--toggle",
      "0",
      "23=1",
    ]);
    expect(buildGpiosetArgs(1, "gpiochip0", 23, false, false)).toEqual(["--mode=exit", "gpiochip0", "23=0"]);
  });
});
