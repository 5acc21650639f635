import { existsSync } from "node:fs";
import type { Logger } from "pino";
import type { CameraSettings } from "../camera.js";
import { ProcessCamera, rtpOut, x264Args } from "../camera-drivers.js";
import type { CommandLine } from "../camera-process.js";
import type { SimControl } from "../sim-controls.js";

/**
 * What the simulated camera shows: the live test pattern, or a fault: a black picture (dead
 * sensor), a frozen frame (hung sensor), a blurred picture (sprayed or defocused lens), a covered
 * lens (a palm, a sticker: dark, no contrast), or a moved camera (turned
 * away: the view is another part of the scene).
 */
export type SimCameraScene = "live" | "black" | "frozen" | "blurred" | "covered" | "moved";
export const SIM_CAMERA_SCENES: readonly SimCameraScene[] = ["live", "black", "frozen", "blurred", "covered", "moved"];

/** Fonts tried for the overlay (Debian: fonts-dejavu-core). Without one the overlay is left out. */
export const OVERLAY_FONTS = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

export function overlayFont(): string | undefined {
  return OVERLAY_FONTS.find((f) => existsSync(f));
}

/** Escape text for a drawtext option inside a filter graph. */
function drawtextEscape(s: string): string {
  return s.replace(/[\\':%,;[\]]/g, (c) => `\\${c}`);
}

/** The burnt-in clock: local date and time with the UTC offset, then the zone's name. */
export function clockText(pillarId: string, timezone: string): string {
  return `${drawtextEscape(pillarId)}  %{localtime\\:%Y-%m-%d %X %z} ${drawtextEscape(timezone)}`;
}

/**
 * The simulated camera's ffmpeg command: lavfi `testsrc2` with the pillar id and the local time
 * in `timezone` (IANA; the encoder runs with that `TZ`) and its zone drawn on it, encoded by libx264 (zerolatency, constrained baseline, 1 s GOP, SPS/PPS
 * on every keyframe) into RTP. `black` replaces the source by black; `frozen` repeats one frame
 * (clock included) for ever, as a hung sensor would.
 */
export function simCameraPipeline(
  s: CameraSettings,
  pillarId: string,
  scene: SimCameraScene,
  font: string | null = overlayFont() ?? null,
  timezone = "UTC",
): CommandLine[] {
  const size = `${s.width}x${s.height}`;
  const plain = scene === "black" || scene === "covered";
  const color = scene === "black" ? "black" : "0x3a302a";
  const src = plain ? `color=c=${color}:size=${size}:rate=${s.fps}` : `testsrc2=size=${size}:rate=${s.fps}`;
  const fontSize = Math.max(14, Math.round(s.height / 18));
  const filters: string[] = [];
  if (scene === "moved") filters.push("crop=iw/2:ih/2:iw/2:ih/2", `scale=${s.width}:${s.height}`);
  if (font && !plain) {
    const text = clockText(pillarId, timezone);
    filters.push(
      `drawtext=fontfile=${font}:text='${text}':x=12:y=12:fontsize=${fontSize}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6`,
    );
  }
  if (scene === "blurred") filters.push("gblur=sigma=10");
  if (scene === "frozen") filters.push("loop=loop=-1:size=1:start=0", `fps=${s.fps}`, "realtime");
  if (s.rotation === 180) filters.push("hflip,vflip");
  const args = ["-hide_banner", "-nostats", "-loglevel", "error", "-re", "-f", "lavfi", "-i", src];
  if (filters.length) args.push("-vf", filters.join(","));
  args.push("-threads", "1", ...x264Args(s, "medium"), ...rtpOut());
  return [["ffmpeg", args, { TZ: timezone }]];
}

/**
 * Simulated camera: a real ffmpeg encoder, with hooks for the faults a real camera shows:
 * `showBlack()`, `freeze()`, `showLive()` restart the encoder with another source;
 * `kill()` kills it as a crash would (the supervisor restarts it and raises the fault).
 */
export class SimCamera extends ProcessCamera {
  private scene: SimCameraScene = "live";

  constructor(settings: CameraSettings, pillarId: string, log?: Logger, timezone = "UTC") {
    super(
      "sim",
      settings,
      () => simCameraPipeline(settings, pillarId, this?.scene ?? "live", undefined, timezone),
      log,
    );
  }

  get currentScene(): SimCameraScene {
    return this.scene;
  }

  async setScene(scene: SimCameraScene): Promise<void> {
    this.scene = scene;
    await this.proc.restart();
  }

  showBlack(): Promise<void> {
    return this.setScene("black");
  }

  freeze(): Promise<void> {
    return this.setScene("frozen");
  }

  showLive(): Promise<void> {
    return this.setScene("live");
  }

  /** Kill the encoder (SIGKILL) as a crash would; returns the killed pid. */
  kill(): number | undefined {
    return this.proc.crash("SIGKILL");
  }

  /** Packets received since start (tests). */
  get packetsReceived(): number {
    return this.proc.received;
  }

  simControls(): SimControl[] {
    const scenes = SIM_CAMERA_SCENES.map(
      (scene): SimControl => ({
        method: "POST",
        path: `/sim/camera/${scene}`,
        handle: async () => (await this.setScene(scene), { camera: scene }),
      }),
    );
    return [...scenes, { method: "POST", path: "/sim/camera/kill", handle: () => ({ killed: this.kill() ?? null }) }];
  }
}
