import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Core, Feature } from "../../src/app/feature.js";
import { PillarApp } from "../../src/app/pillar-app.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { testConfigDoc } from "../support/sim-pillar.js";

/** A feature as the coming ones use it: a control route, a health section, a service. */
function probeFeature(seen: Core[], events: string[]): Feature {
  return {
    name: "probe",
    attach(core) {
      seen.push(core);
      const generation = seen.length;
      core.control.route("GET", "/probe", () => ({ generation, pillarId: core.config.get().pillar.id }));
      core.health.addSection("probe", () => ({ generation }));
      return [
        {
          start: async () => void events.push(`start ${generation}`),
          stop: async () => void events.push(`stop ${generation}`),
        },
      ];
    },
    open: async () => void events.push("open"),
    close: async () => void events.push("close"),
  };
}

describe("features attach to every generation of the core", () => {
  let dir = "";
  let app: PillarApp | undefined;
  afterEach(async () => {
    await app?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a restart-type apply re-attaches them to the new core: routes, health sections and services follow", async () => {
    dir = await mkdtemp(join(tmpdir(), "feature-"));
    const seen: Core[] = [];
    const events: string[] = [];
    const config = (name: string) =>
      validateConfig(testConfigDoc({ dataDir: dir, pillar: { id: "ala-f-1", name } }), "t");
    app = new PillarApp({
      config: config("one"),
      version: "0.0.0-test",
      log: pino({ level: "silent" }),
      features: [probeFeature(seen, events)],
    });
    await app.start();
    const get = async (path: string) =>
      (await (await fetch(`http://127.0.0.1:${app!.core.control.port}${path}`)).json()) as Record<string, any>;
    expect(await get("/probe")).toEqual({ generation: 1, pillarId: "ala-f-1" });
    expect((await get("/health")).probe).toEqual({ generation: 1 });

    expect(await app.applyConfig(config("two"))).toBe("restarted");
    expect(seen).toHaveLength(2);
    expect(seen[1]).not.toBe(seen[0]);
    expect(seen[1]).toBe(app.core);
    expect(await get("/probe")).toEqual({ generation: 2, pillarId: "ala-f-1" });
    expect((await get("/health")).probe).toEqual({ generation: 2 });

    await app.stop();
    app = undefined;
    expect(events).toEqual(["open", "start 1", "stop 1", "start 2", "stop 2", "close"]);
  });
});
