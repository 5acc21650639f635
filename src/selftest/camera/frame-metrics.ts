/** Picture measurements on gray frames (one byte per pixel), for the camera checks. */

/** Mean and standard deviation of the luma (0..255). */
export function lumaStats(f: Buffer): { mean: number; stddev: number } {
  let sum = 0;
  let sq = 0;
  for (const v of f) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / f.length;
  return { mean, stddev: Math.sqrt(Math.max(0, sq / f.length - mean * mean)) };
}

/** Variance of the 4-neighbour Laplacian: high on a sharp picture, near zero when blurred. */
export function laplacianVariance(f: Buffer, w: number, h: number): number {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const l = f[i - 1]! + f[i + 1]! + f[i - w]! + f[i + w]! - 4 * f[i]!;
      sum += l;
      sq += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return sq / n - mean * mean;
}

/** Mean absolute difference of two frames of the same size (0: identical). */
export function meanAbsDiff(a: Buffer, b: Buffer): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
}

/** A small thumbnail (block means), what the reference comparison looks at. */
export function thumbnail(f: Buffer, w: number, h: number, tw = 32, th = 18): number[] {
  const out: number[] = [];
  const bw = w / tw;
  const bh = h / th;
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      let s = 0;
      let n = 0;
      for (let y = Math.floor(ty * bh); y < Math.floor((ty + 1) * bh); y++)
        for (let x = Math.floor(tx * bw); x < Math.floor((tx + 1) * bw); x++) {
          s += f[y * w + x]!;
          n++;
        }
      out.push(n ? s / n : 0);
    }
  }
  return out;
}

/** Zero-mean normalized cross-correlation of two thumbnails: 1 the same view, ~0 another one. */
export function similarity(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  const ma = a.slice(0, n).reduce((s, v) => s + v, 0) / n;
  const mb = b.slice(0, n).reduce((s, v) => s + v, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}
