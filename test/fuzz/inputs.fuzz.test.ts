import { Type } from "@sinclair/typebox";
import fc from "fast-check";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { RequestMsg, HangupMsg, parser } from "../../src/call/signaling.js";
import { CommandService } from "../../src/commands/command-service.js";
import { ConfigError, parseJsonText } from "../../src/config/config-errors.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { decodeJournal, encodeRecord, type JournalMessage } from "../../src/outbox/journal-codec.js";
import { decodeFrame, encodeFrame } from "../../src/provisioning/flash-protocol.js";
import { BoundedLineSplitter } from "../../src/provisioning/line-splitter.js";
import { parseBoundedJson } from "../../src/util/bounded-json.js";
import { testConfigDoc } from "../support/sim-pillar.js";

/**
 * Property-based fuzzing of every outside input kind, in-process: command payloads, signaling
 * messages, serial provisioning lines, config files and journal files. Invariant: a clear error
 * (or a valid result), never a crash or a stack overflow, no state changed, nothing valid lost.
 * `FUZZ_RUNS` sets the cases per property (the suite: 200; `npm run fuzz`: 10,000).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const counts: Record<string, number> = {};
const count = (kind: string) => {
  counts[kind] = (counts[kind] ?? 0) + 1;
};
afterAll(() => {
  if (process.env.FUZZ_RUNS) console.log(`fuzz cases per kind: ${JSON.stringify(counts)}`);
});

/** JSON-ish text: real JSON values, deep nests, truncations and random strings. */
const jsonish = fc.oneof(
  fc.json({ maxDepth: 6 }),
  fc.string({ maxLength: 300 }),
  fc.integer({ min: 1, max: 5000 }).map((d) => "[".repeat(d) + "]".repeat(d)),
  fc.integer({ min: 1, max: 5000 }).map((d) => '{"a":'.repeat(d) + "1" + "}".repeat(d)),
  fc.json({ maxDepth: 4 }).chain((j) => fc.nat(j.length).map((n) => j.slice(0, n))),
);

describe("fuzz: every outside input gets a clear answer", () => {
  it("command payloads: a result (never a throw), the handler only sees valid args", async () => {
    const seen: unknown[] = [];
    const cmds = new CommandService({
      transport: {
        topics: { commands: "c/+", commandResult: (n: string) => `c/${n}/result`, base: "c" },
        publish: async () => undefined,
        subscribe: () => () => undefined,
      } as never,
      log: pino({ level: "silent" }),
    });
    cmds.register({
      name: "t.set",
      description: "test",
      args: { value: Type.Integer({ minimum: 0, maximum: 9 }) },
      handle: (a) => {
        seen.push(a);
        return { ok: true };
      },
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          jsonish,
          fc
            .record({ correlationId: fc.string({ maxLength: 80 }), value: fc.anything() })
            .map((o) => JSON.stringify(o)),
        ),
        async (payload) => {
          count("command");
          const before = seen.length;
          const r = await cmds.execute("t.set", payload);
          expect(typeof r.ok).toBe("boolean");
          if (!r.ok) {
            expect(r.error?.message).toBeTruthy();
            expect(seen.length).toBe(before); // a refused payload changed nothing
          } else expect((seen.at(-1) as { value: number }).value).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("signaling messages: parsed into a valid message or refused with an Error", () => {
    const parsers = [parser(RequestMsg), parser(HangupMsg)];
    fc.assert(
      fc.property(
        fc.oneof(
          jsonish,
          fc
            .record({ officer: fc.string(), sessionId: fc.string(), callToken: fc.string() })
            .map((o) => JSON.stringify(o)),
        ),
        (payload) => {
          count("signaling");
          for (const p of parsers) {
            try {
              const m = p(payload);
              expect(typeof m).toBe("object");
            } catch (err) {
              expect(err).toBeInstanceOf(Error);
              expect((err as Error).message.length).toBeGreaterThan(0);
              expect(err).not.toBeInstanceOf(RangeError);
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("serial lines: any bytes are split within the bound and every frame sent whole still arrives", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 2000 }),
            fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
          ),
          {
            maxLength: 8,
          },
        ),
        fc.nat(50),
        (noise, seq) => {
          count("serial");
          const frames: string[] = [];
          let most = 0;
          const s = new BoundedLineSplitter(
            1024,
            (line) => {
              const d = decodeFrame(line);
              if ("frame" in d) frames.push(JSON.stringify(d.frame));
              else expect(d.error.length).toBeGreaterThan(0);
            },
            (head) => expect(head.length).toBeLessThanOrEqual(80),
          );
          for (const n of noise) {
            s.push(Buffer.from(n));
            most = Math.max(most, s.pending);
          }
          const good = { t: "ACK" as const, seq };
          s.push(Buffer.from(`\n${encodeFrame(good)}`));
          expect(most).toBeLessThanOrEqual(1024);
          expect(frames.at(-1)).toBe(JSON.stringify(good));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("config files: a ConfigError naming a path or line and column, never a stack overflow", () => {
    const valid = JSON.stringify(testConfigDoc({ dataDir: "/tmp/x" }), null, 2);
    fc.assert(
      fc.property(
        fc.oneof(
          jsonish,
          fc.nat(valid.length).map((n) => valid.slice(0, n)),
          fc
            .tuple(fc.nat(valid.length), fc.string({ minLength: 1, maxLength: 3 }))
            .map(([n, s]) => valid.slice(0, n) + s + valid.slice(n + 1)),
          fc.integer({ min: 30, max: 20_000 }).map((d) => valid.replace('"pillar": {', `"pillar": ${"[".repeat(d)}{`)),
        ),
        (text) => {
          count("config");
          try {
            validateConfig(parseJsonText(text, "fuzz.json"), "fuzz.json");
          } catch (err) {
            expect(err).toBeInstanceOf(ConfigError);
            for (const p of (err as ConfigError).problems) {
              expect(p.path.length).toBeGreaterThan(0);
              expect(p.message).not.toMatch(/Maximum call stack/);
            }
            if (/not valid JSON|nested deeper/.test((err as Error).message))
              expect((err as ConfigError).problems[0]!.path).toMatch(/^line \d+, column \d+$/);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("journal files: damaged bytes never throw, every intact valid record survives", () => {
    const P = "pillar/v1/fz/";
    const msg = (seq: number): JournalMessage => ({
      k: "m",
      seq,
      topic: `${P}event`,
      cls: "alarm",
      body: JSON.stringify({ seq }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 64 }), fc.json({ maxDepth: 3 })), {
          maxLength: 10,
        }),
        (parts) => {
          count("journal");
          const bufs: Buffer[] = [];
          const expected: number[] = [];
          let seq = 1;
          for (const p of parts) {
            if (p === null) {
              expected.push(seq);
              bufs.push(encodeRecord(msg(seq++)));
            } else if (typeof p === "string")
              bufs.push(encodeRecord(JSON.parse(p) as never)); // checksummed junk
            else bufs.push(Buffer.from(p));
          }
          const r = decodeJournal(Buffer.concat(bufs), { topicPrefix: P });
          const got = r.records.filter((x) => x.k === "m").map((x) => (x as JournalMessage).seq);
          for (const s of expected) expect(got).toContain(s);
          for (const x of r.records) if (x.k === "m") expect(x.topic.startsWith(P)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("the bounded parser: depth and size refused before JSON.parse, with line and column", () => {
    expect(() => parseBoundedJson("[".repeat(100_000), { maxBytes: 1 << 20, maxDepth: 32 })).toThrow(
      /line 1, column 33: nested deeper than 32/,
    );
    expect(() => parseBoundedJson('{\n  "a": 1,\n', { maxBytes: 1 << 20, maxDepth: 32 })).toThrow(/line 3, column 1/);
    expect(() => parseBoundedJson("x".repeat(11), { maxBytes: 10, maxDepth: 32 })).toThrow(/11 bytes/);
  });
});
