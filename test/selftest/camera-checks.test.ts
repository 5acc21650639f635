import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { line, withSelftestRig } from "./helpers/selftest-rig.js";

/**
 * The camera checks on real ffmpeg frames: the sim camera's H.264 (libx264) decoded to gray by
 * one ffmpeg per run; each fault the sim camera shows is caught by its check, with its reason.
 */
describe("camera checks", () => {
  const { rig } = withSelftestRig();

  const scene = (s: string) => rig.http("POST", `/sim/camera/${s}`);

  it("pass on the live picture; the reference view is taken at commissioning", async () => {
    const r = await rig.run({ only: ["camera"], setReference: true });
    for (const id of ["camera.frame", "camera.black", "camera.covered", "camera.frozen", "camera.sharpness"])
      expect(line(r, id), id).toMatchObject({ status: "pass" });
    expect(line(r, "camera.moved")).toMatchObject({ status: "skip", detail: expect.stringMatching(/no reference/) });
    expect(r.referenceSaved).toBe(true);
    expect(r.ok).toBe(true);
    // the report's page shows the camera snapshot (a real JPEG of the decoded picture)
    const jpeg = await readFile(r.files!.jpeg!);
    expect(jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(await readFile(r.files!.html, "utf8")).toContain(`data:image/jpeg;base64,${jpeg.toString("base64")}`);
    const again = await rig.run({ only: ["camera.moved"] });
    expect(line(again, "camera.moved").status).toBe("pass");
    expect(line(again, "camera.moved").value as number).toBeGreaterThan(0.9);
  }, 60_000);

  // each fault of the sim camera, the check that must catch it (and say so), and one it leaves passing
  it.each([
    ["black", "camera.black", /black/, "camera.frame"],
    ["covered", "camera.covered", /covered/, "camera.black"],
    ["frozen", "camera.frozen", /frozen/, "camera.sharpness"],
    ["blurred", "camera.sharpness", /blurred/, "camera.frozen"],
  ])(
    "a %s picture fails %s",
    async (fault, id, reason, unharmed) => {
      await scene(fault);
      const r = await rig.run({ only: ["camera"] });
      expect(line(r, id)).toMatchObject({ status: "fail", detail: expect.stringMatching(reason) });
      expect(line(r, unharmed).status).toBe("pass");
      expect(r.ok).toBe(false);
      expect(r.failed).toContain(id);
    },
    60_000,
  );

  it("a camera turned away fails camera.moved against the reference", async () => {
    await scene("moved");
    const r = await rig.run({ only: ["camera"] });
    expect(line(r, "camera.moved")).toMatchObject({ status: "fail", detail: expect.stringMatching(/moved/) });
    expect(line(r, "camera.sharpness").status).toBe("pass");
    await scene("live");
    expect(line(await rig.run({ only: ["camera.moved"] }), "camera.moved").status).toBe("pass");
  }, 60_000);
});

describe("camera.frame", () => {
  // a camera that is not there (a USB camera unplugged): its encoder never delivers a frame
  const { rig } = withSelftestRig({
    call: { camera: { driver: "v4l2", device: "/nonexistent/video9", v4l2Mode: "copy", width: 640, height: 360 } },
  });

  it("no frame in time fails camera.frame, and the other camera checks say there is nothing to judge", async () => {
    const r = await rig.run({ only: ["camera"] });
    expect(line(r, "camera.frame")).toMatchObject({ status: "fail", detail: expect.stringMatching(/no keyframe/) });
    expect(line(r, "camera.black")).toMatchObject({ status: "skip", detail: expect.stringMatching(/no picture/) });
  }, 60_000);
});
