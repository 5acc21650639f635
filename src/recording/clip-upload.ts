import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";

export interface UploadOptions {
  url: string;
  path: string;
  sha256: string;
  /** Extra request headers given by the center (e.g. an authorization token). */
  headers?: Record<string, string>;
  attempts?: number;
  retryMs?: number;
  timeoutMs?: number;
}

/**
 * Uploads one clip file with HTTP(S) PUT and resumes after a broken connection:
 * 1. `HEAD url` — the server answers `Upload-Offset: N` with the bytes it already holds
 *    (404 or no header: 0);
 * 2. `PUT url` with `Content-Range: bytes N-(size-1)/size` and the rest of the file, plus
 *    `X-Clip-Sha256` (the whole file's) so the server can check what it assembled.
 * A failed attempt (connection cut, 5xx) is retried from step 1, `attempts` times in all.
 */
export async function uploadClip(o: UploadOptions): Promise<{ bytes: number; attempts: number; resumedAt: number[] }> {
  const size = (await stat(o.path)).size;
  const attempts = o.attempts ?? 8;
  const resumedAt: number[] = [];
  let lastErr: Error | undefined;
  for (let i = 1; i <= attempts; i++) {
    try {
      const offset = Math.min(await remoteOffset(o), size);
      if (i > 1) resumedAt.push(offset);
      await put(o, offset, size);
      return { bytes: size, attempts: i, resumedAt };
    } catch (err) {
      lastErr = err as Error;
      if ((err as { permanent?: boolean }).permanent) break;
      await new Promise((r) => setTimeout(r, (o.retryMs ?? 500) * i));
    }
  }
  throw lastErr ?? new Error("upload failed");
}

function send(
  o: UploadOptions,
  method: string,
  headers: Record<string, string | number>,
): Promise<ReturnType<typeof httpRequest>> {
  const u = new URL(o.url);
  const opts: RequestOptions = { method, headers: { ...o.headers, ...headers }, timeout: o.timeoutMs ?? 30_000 };
  const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, opts);
  req.on("timeout", () => req.destroy(new Error(`${method} timed out`)));
  return Promise.resolve(req);
}

function response(req: ReturnType<typeof httpRequest>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve(res));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

async function remoteOffset(o: UploadOptions): Promise<number> {
  const req = await send(o, "HEAD", {});
  req.end();
  const res = await response(req);
  if (res.statusCode === 404) return 0;
  if ((res.statusCode ?? 500) >= 400) throw statusError("HEAD", res.statusCode ?? 0);
  const n = Number(res.headers["upload-offset"] ?? 0);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

async function put(o: UploadOptions, offset: number, size: number): Promise<void> {
  const req = await send(o, "PUT", {
    "Content-Type": "video/mp4",
    "Content-Length": size - offset,
    "X-Clip-Sha256": o.sha256,
    ...(size > 0 ? { "Content-Range": `bytes ${offset}-${size - 1}/${size}` } : {}),
  });
  const done = response(req);
  if (offset < size)
    createReadStream(o.path, { start: offset })
      .on("error", (e) => req.destroy(e))
      .pipe(req);
  else req.end();
  const res = await done;
  if ((res.statusCode ?? 500) >= 300) throw statusError("PUT", res.statusCode ?? 0);
}

function statusError(method: string, status: number): Error {
  const err = new Error(`${method} answered HTTP ${status}`) as Error & { permanent?: boolean };
  err.permanent = status >= 400 && status < 500 && status !== 408 && status !== 409;
  return err;
}
