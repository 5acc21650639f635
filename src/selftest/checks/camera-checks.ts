import { type CameraCapture, GRAY_H, GRAY_W } from "../camera/frame-grab.js";
import { laplacianVariance, lumaStats, meanAbsDiff, similarity, thumbnail } from "../camera/frame-metrics.js";
import type { CameraReference } from "../camera/reference.js";
import { type Check, type CheckContext, type CheckOutcome, fail, pass, round, skip } from "../check.js";

/**
 * Thresholds on 160×90 gray frames (measured on the sim camera's test pattern and its faults:
 * live σ≈64, Laplacian variance 800–1200, frame difference over 0.5 s ≈3; blurred ≈75; frozen ≤0.3).
 * Small frames: the pillar's JavaScript runs interpreted (--lite-mode), every pixel costs.
 */
export const CAMERA_LIMITS = {
  /** Mean luma below this with σ below `blackStddev`: a black picture (dead sensor, no light). */
  blackMean: 24,
  blackStddev: 8,
  /** σ below this (and not black): a covered lens (palm, sticker, paint): no contrast. */
  coveredStddev: 10,
  /** Largest mean difference from the first frame over the capture (~0.5 s) below this: a frozen picture. */
  frozenDiff: 1,
  /** Laplacian variance below this, or below `sharpnessRatio` of the reference: blurred. */
  minSharpness: 200,
  sharpnessRatio: 0.25,
  /** Thumbnail correlation with the reference below this: the camera was moved. */
  minSimilarity: 0.6,
} as const;

/** What the camera checks measure on one capture. */
export interface Picture {
  meanLuma: number;
  stddev: number;
  sharpness: number;
  maxDiff: number;
  /** Wall-clock span of the frames compared (ms). */
  spanMs: number;
  thumb: number[];
  black: boolean;
  covered: boolean;
}

export function analyze(c: CameraCapture): Picture {
  const f0 = c.frames[0]!;
  const { mean, stddev } = lumaStats(f0);
  const black = mean < CAMERA_LIMITS.blackMean && stddev < CAMERA_LIMITS.blackStddev;
  return {
    meanLuma: mean,
    stddev,
    sharpness: laplacianVariance(f0, GRAY_W, GRAY_H),
    // the first frame against four others spread over the capture
    maxDiff: Math.max(
      0,
      ...[1, 2, 3, 4].map((q) => meanAbsDiff(f0, c.frames[Math.round(((c.frames.length - 1) * q) / 4)]!)),
    ),
    spanMs: c.spanMs,
    thumb: thumbnail(f0, GRAY_W, GRAY_H),
    black,
    covered: !black && stddev < CAMERA_LIMITS.coveredStddev,
  };
}

/** The picture to judge, or the outcome that says why there is none (no video, or a blind picture). */
async function picture(ctx: CheckContext, blindOk: boolean): Promise<Picture | CheckOutcome> {
  let c: CameraCapture;
  try {
    c = await ctx.camera();
  } catch (err) {
    return skip(`no picture to judge (see camera.frame): ${(err as Error).message}`);
  }
  const p = analyze(c);
  if (!blindOk && (p.black || p.covered))
    return skip(`the picture is ${p.black ? "black" : "covered"}: nothing to judge`);
  return p;
}

const isOutcome = (v: Picture | CheckOutcome): v is CheckOutcome => "status" in v;

function cameraCheck(
  id: string,
  title: string,
  blindOk: boolean,
  judge: (p: Picture, ref: CameraReference | undefined) => CheckOutcome,
): Check {
  return {
    id: `camera.${id}`,
    component: "camera",
    title,
    required: true,
    async run(ctx) {
      const p = await picture(ctx, blindOk);
      return isOutcome(p) ? p : judge(p, await ctx.reference.load());
    },
  };
}

export const cameraFrameCheck: Check = {
  id: "camera.frame",
  component: "camera",
  title: "camera: a picture in time",
  required: true,
  async run(ctx) {
    try {
      const c = await ctx.camera();
      return pass(
        `${c.frames.length} frames decoded, first keyframe after ${c.firstFrameMs} ms`,
        c.firstFrameMs,
        "ms",
        {
          frames: c.frames.length,
          spanMs: c.spanMs,
        },
      );
    } catch (err) {
      return fail(`no picture from the camera: ${(err as Error).message}`);
    }
  },
};

export const cameraBlackCheck = cameraCheck("black", "camera: not black", true, (p) => {
  const v = round(p.meanLuma);
  return p.black
    ? fail(`the picture is black (mean luma ${v}, contrast σ ${round(p.stddev)}): dead sensor or no light`, v, "luma")
    : pass(`mean luma ${v}`, v, "luma");
});

export const cameraCoveredCheck = cameraCheck("covered", "camera: not covered", true, (p) => {
  const v = round(p.stddev);
  if (p.black) return skip("the picture is black (see camera.black)");
  return p.covered
    ? fail(
        `the lens looks covered: no contrast (σ ${v} < ${CAMERA_LIMITS.coveredStddev}, mean luma ${round(p.meanLuma)})`,
        v,
        "σ",
      )
    : pass(`contrast σ ${v}`, v, "σ");
});

export const cameraFrozenCheck = cameraCheck("frozen", "camera: not frozen", false, (p) => {
  const v = round(p.maxDiff, 2);
  return p.maxDiff < CAMERA_LIMITS.frozenDiff
    ? fail(
        `the picture is frozen: frames over ${p.spanMs} ms differ by ${v} (< ${CAMERA_LIMITS.frozenDiff})`,
        v,
        "Δluma",
      )
    : pass(`frames differ by up to ${v}`, v, "Δluma");
});

export const cameraSharpnessCheck = cameraCheck("sharpness", "camera: in focus", false, (p, ref) => {
  const v = round(p.sharpness);
  const min = Math.max(CAMERA_LIMITS.minSharpness, ref ? ref.sharpness * CAMERA_LIMITS.sharpnessRatio : 0);
  const against = ref ? ` (reference ${round(ref.sharpness)})` : "";
  return p.sharpness < min
    ? fail(`the picture is blurred: sharpness ${v} < ${round(min)}${against}: sprayed, wet or defocused lens`, v)
    : pass(`sharpness ${v}${against}`, v);
});

export const cameraMovedCheck = cameraCheck("moved", "camera: not moved", false, (p, ref) => {
  if (!ref) return skip("no reference view yet (take one at commissioning: pillar selftest --set-reference)");
  const v = round(similarity(p.thumb, ref.thumb), 3);
  return v < CAMERA_LIMITS.minSimilarity
    ? fail(
        `the camera was moved: the view matches the reference of ${ref.at} only ${v} (< ${CAMERA_LIMITS.minSimilarity})`,
        v,
      )
    : pass(`the view matches the reference of ${ref.at}: ${v}`, v);
});

export const CAMERA_CHECKS: readonly Check[] = [
  cameraFrameCheck,
  cameraBlackCheck,
  cameraCoveredCheck,
  cameraFrozenCheck,
  cameraSharpnessCheck,
  cameraMovedCheck,
];
