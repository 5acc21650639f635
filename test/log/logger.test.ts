import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { maskUrl, moduleLogger, rootLoggerOptions } from "../../src/log/logger.js";

describe("logging", () => {
  it("writes JSON lines tagged with the module and masks secrets", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const root = pino(rootLoggerOptions("info"), sink);
    const log = moduleLogger("uplink", root);
    log.info(
      { broker: { url: "mqtts://b:8883", password: "hunter2" }, token: "abc", config: { broker: { password: "pw" } } },
      "connecting",
    );
    const entry = JSON.parse(lines[0]!) as Record<string, any>;
    expect(entry).toMatchObject({ module: "uplink", msg: "connecting", level: 30 });
    expect(entry.broker.password).toBe("***");
    expect(entry.token).toBe("***");
    expect(entry.config.broker.password).toBe("***");
    expect(lines[0]).not.toContain("hunter2");
    expect(typeof entry.time).toBe("string");
  });

  it("masks the password in a broker URL", () => {
    expect(maskUrl("mqtts://pillar:s3cret@broker:8883")).toBe("mqtts://pillar:***@broker:8883");
    expect(maskUrl("mqtt://127.0.0.1:1883")).toBe("mqtt://127.0.0.1:1883");
  });
});
