import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/**
 * A stand-in `rpicam-vid` (no Pi camera here): a bash script that reads the size and frame rate
 * it is given and execs ffmpeg's test source through libx264 (baseline, SPS/PPS on every
 * keyframe, a GOP of one second), writing the Annex-B byte stream to stdout as rpicam-vid does.
 * The rpicam driver's real pipeline (this | ffmpeg -c:v copy → RTP) then runs unchanged.
 * `install()` puts it first on PATH (children inherit it); `dispose()` restores PATH.
 */
export class StandInRpicam {
  readonly dir = mkdtempSync(join(tmpdir(), "stand-in-rpicam-"));
  private savedPath: string | undefined;

  install(): this {
    writeFileSync(
      join(this.dir, "rpicam-vid"),
      `#!/bin/bash
w=640; h=480; f=30
while [ $# -gt 0 ]; do
  case "$1" in --width) w=$2; shift ;; --height) h=$2; shift ;; --framerate) f=$2; shift ;; esac
  shift
done
exec ffmpeg -hide_banner -nostats -loglevel error -re -f lavfi -i "testsrc2=size=\${w}x\${h}:rate=\${f}" \\
  -threads 1 -c:v libx264 -preset ultrafast -tune zerolatency -profile:v baseline -pix_fmt yuv420p \\
  -g "$f" -keyint_min "$f" -sc_threshold 0 -bsf:v dump_extra -f h264 pipe:1
`,
    );
    chmodSync(join(this.dir, "rpicam-vid"), 0o755);
    this.savedPath = process.env.PATH;
    process.env.PATH = `${this.dir}${delimiter}${process.env.PATH ?? ""}`;
    return this;
  }

  dispose(): void {
    if (this.savedPath !== undefined) process.env.PATH = this.savedPath;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
