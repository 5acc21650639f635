import { describe, expect, it } from "vitest";
import { line, withSelftestRig } from "./helpers/selftest-rig.js";

/**
 * The speaker → microphone loop through real ffmpeg audio: the sim speaker's beep is an ffmpeg
 * sine whose PCM goes into the sim air; the sim microphone's ffmpeg mixes the air into its
 * capture and encodes Opus RTP; the check decodes that with ffmpeg and finds the tone (Goertzel).
 */
describe("audio loop check", () => {
  const { rig } = withSelftestRig();

  it("hears the tone on the first try, with its level and SNR", async () => {
    const r = await rig.run({ only: ["audio"] });
    const a = line(r, "audio.loop");
    expect(a).toMatchObject({ status: "pass", unit: "dBFS" });
    expect(a.data!.snrDb as number).toBeGreaterThanOrEqual(20);
    expect(a.data!.attempts).toHaveLength(1);
    expect(r.ok).toBe(true);
  }, 60_000);

  it("a deaf microphone fails: digital silence, after three tries at rising volume", async () => {
    await rig.http("POST", "/sim/mic/deaf");
    try {
      const r = await rig.run({ only: ["audio"] });
      const a = line(r, "audio.loop");
      expect(a).toMatchObject({ status: "fail", detail: expect.stringMatching(/hears nothing at all/) });
      expect((a.data!.attempts as { volume: number }[]).map((t) => t.volume)).toEqual([50, 75, 100]);
    } finally {
      await rig.http("POST", "/sim/mic/hear");
    }
  }, 60_000);

  it("a silent speaker fails: the tone is not heard over the street sound, at 50, 75 and 100 %", async () => {
    await rig.http("POST", "/sim/speaker/silent");
    try {
      const r = await rig.run({ only: ["audio"] });
      const a = line(r, "audio.loop");
      expect(a).toMatchObject({
        status: "fail",
        detail: expect.stringMatching(/not heard at 50 %, 75 %, 100 %.*speaker/),
      });
      expect(a.data!.silent).toBe(false);
      expect(a.data!.attempts).toHaveLength(3);
    } finally {
      await rig.http("POST", "/sim/speaker/sound");
    }
    expect(line(await rig.run({ only: ["audio"] }), "audio.loop").status).toBe("pass");
  }, 60_000);
});
