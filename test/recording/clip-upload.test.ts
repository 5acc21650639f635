import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createBus } from "../../src/bus/events.js";
import { CommandService } from "../../src/commands/command-service.js";
import { clipCommands } from "../../src/recording/clip-commands.js";
import { ClipStore } from "../../src/recording/clip-store.js";
import { Recorder } from "../../src/recording/recorder.js";
import { uuidv7 } from "../../src/util/uuid-v7.js";

const silent = pino({ level: "silent" });

/**
 * A resumable upload target as documented in docs/recording.md: HEAD answers `Upload-Offset`,
 * PUT appends from its Content-Range start. The first PUT is cut (socket destroyed) once more
 * than half the file has arrived, as a broken mobile link would.
 */
function resumableServer(cutAfter: number) {
  const files = new Map<string, Buffer>();
  const log: string[] = [];
  let cut = false;
  const server: Server = createServer((req, res) => {
    const have = files.get(req.url!) ?? Buffer.alloc(0);
    if (req.method === "HEAD") {
      log.push(`HEAD ${have.length}`);
      res.writeHead(have.length ? 200 : 404, { "Upload-Offset": String(have.length) }).end();
      return;
    }
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(req.headers["content-range"]));
    const start = Number(m?.[1] ?? 0);
    log.push(`PUT from ${start}`);
    if (start !== have.length) {
      res.writeHead(409).end();
      return;
    }
    let got = have;
    req.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      files.set(req.url!, got);
      if (!cut && got.length > cutAfter) {
        cut = true;
        req.socket.destroy();
      }
    });
    req.on("end", () => {
      const sha = createHash("sha256").update(got).digest("hex");
      res.writeHead(sha === req.headers["x-clip-sha256"] ? 201 : 422).end();
    });
  });
  return { server, files, log };
}

describe("clips.upload: HTTP PUT with resume after a broken connection", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("the connection is cut midway; the upload resumes where the server stopped; sha256 equal", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pillar-upload-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = new ClipStore(dir, silent);
    await store.open();
    const id = uuidv7();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const sha256 = createHash("sha256").update(data).digest("hex");
    const entry = {
      id,
      kind: "incident" as const,
      incidentId: "inc-up",
      file: `${id}.mp4`,
      start: new Date().toISOString(),
      end: null,
      pressAt: null,
      bytes: 0,
      sha256: null,
      state: "recording" as const,
      confirmed: false,
    };
    await store.begin(entry, () => 0);
    await writeFile(join(dir, entry.file), data);
    await store.finish(id, { end: new Date().toISOString(), bytes: data.length, sha256 });

    const target = resumableServer(data.length / 2);
    await new Promise<void>((r) => target.server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => target.server.close(r)));
    const url = `http://127.0.0.1:${(target.server.address() as AddressInfo).port}/clips/${id}.mp4`;

    const recorder = new Recorder({
      bus: createBus(),
      store,
      sources: {
        video: { onPacket: () => () => {} },
        mic: { onRtp: () => () => {} },
        officer: { onPlay: () => () => {} },
      },
      holds: [],
      settings: () => ({
        mode: "off",
        preRollS: 3,
        postRollS: 3,
        preRollMaxMb: 8,
        fragmentMs: 500,
        quotaMb: 100,
        retentionDays: 30,
        segmentS: 60,
      }),
      video: () => ({ width: 320, height: 180, fps: 10 }),
      log: silent,
    });
    const commands = new CommandService({ transport: {} as never, log: silent });
    for (const def of clipCommands(store, recorder)) commands.register(def);

    const r = await commands.execute("clips.upload", JSON.stringify({ correlationId: "u1", clipId: id, url }));
    expect(r.ok).toBe(true);
    const result = r.result as { attempts: number; resumedAt: number[]; sha256: string };
    expect(result.attempts).toBe(2);
    expect(result.resumedAt[0]).toBeGreaterThan(data.length / 2);
    expect(target.log[0]).toBe("HEAD 0");
    expect(target.log).toContain(`PUT from ${result.resumedAt[0]}`);
    const uploaded = target.files.get(`/clips/${id}.mp4`)!;
    expect(createHash("sha256").update(uploaded).digest("hex")).toBe(sha256);
    expect(result.sha256).toBe(sha256);

    // The other commands, validated like every command.
    const bad = await commands.execute(
      "clips.upload",
      JSON.stringify({ correlationId: "u2", clipId: "x", url: "ftp://a" }),
    );
    expect(bad.error?.code).toBe("invalid_payload");
    expect(bad.error?.message).toContain("/clipId");
    const missing = await commands.execute("clips.confirm", JSON.stringify({ correlationId: "c0", clipId: uuidv7() }));
    expect(missing.error?.code).toBe("not_found");
    const listed = await commands.execute("clips.list", JSON.stringify({ correlationId: "l1", incidentId: "inc-up" }));
    expect((listed.result as { clips: { id: string }[] }).clips.map((c) => c.id)).toEqual([id]);
    const confirmed = await commands.execute("clips.confirm", JSON.stringify({ correlationId: "c1", clipId: id }));
    expect(confirmed.result).toMatchObject({ id, confirmed: true });
    const deleted = await commands.execute("clips.delete", JSON.stringify({ correlationId: "d1", clipId: id }));
    expect(deleted.result).toEqual({ deleted: id });
    expect(store.list()).toEqual([]);
  }, 60_000);
});
