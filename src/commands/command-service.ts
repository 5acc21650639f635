import { parseBoundedJson } from "../util/bounded-json.js";
import { Type, type Static, type TObject, type TProperties } from "@sinclair/typebox";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import type { Logger } from "pino";
import { ajvProblems } from "../config/validate-config.js";
import type { ConfigProblem } from "../config/config-errors.js";
import { FreshnessFields, staleness, type FreshnessSettings } from "./freshness.js";

/**
 * A command payload: small args, except config.apply which carries a config text (≤ 256 KiB,
 * which JSON escaping may double); flat args (the deepest schema nests 3 levels).
 */
export const COMMAND_BOUNDS = { maxBytes: 640 * 1024, maxDepth: 8 } as const;

/** Longer correlation ids are refused and never echoed (a result is not a reflector). */
export const MAX_CORRELATION_ID = 64;

/** What a command needs of the uplink. */
export interface CommandTransport {
  readonly topics: { commands: string; commandResult(name: string): string; base: string };
  subscribe(filter: string, handler: (topic: string, payload: Buffer) => void): () => void;
  publish(topic: string, payload: string, o: { qos: 1 }): Promise<void>;
}

/** A command the center may send on `pillar/v1/{id}/cmd/{name}`. */
export interface CommandDef<P extends TProperties = TProperties> {
  name: string;
  description: string;
  /** The payload's fields besides `correlationId`; unknown fields are refused. */
  args: P;
  /** `ctx.correlationId` lets a handler answer by itself when its service was rebuilt meanwhile. */
  handle(args: Static<TObject<P>>, ctx: { correlationId: string }): Promise<unknown> | unknown;
}

/** Thrown by a handler to answer with a specific error code (e.g. "not_found"). */
export class CommandFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CommandResult {
  correlationId: string | null;
  command: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string; problems?: ConfigProblem[] };
  at: string;
}

const ajv = new Ajv2020({ allErrors: true, strict: false });

/**
 * Receives commands from the center, validates each payload with ajv (every problem, by
 * path) and answers on `…/cmd/{name}/result` echoing the `correlationId`. A bad payload gets
 * an error result and reaches no handler.
 */
export class CommandService {
  private readonly defs = new Map<string, { def: CommandDef; validate: ValidateFunction }>();
  private off: (() => void) | undefined;

  constructor(
    private readonly deps: {
      transport: CommandTransport;
      log: Logger;
      /** issuedAt/expiresAt rules (default: 60 s, 5 s tolerance, issuedAt optional). */
      freshness?: () => FreshnessSettings;
      now?: () => number;
    },
  ) {}

  /** Add a command; later features register theirs before or after start. */
  register<P extends TProperties>(def: CommandDef<P>): void {
    const schema = Type.Object(
      { correlationId: Type.String({ minLength: 1, maxLength: MAX_CORRELATION_ID }), ...FreshnessFields, ...def.args },
      { additionalProperties: false },
    );
    this.defs.set(def.name, { def: def as unknown as CommandDef, validate: ajv.compile(schema) });
  }

  names(): string[] {
    return [...this.defs.keys()];
  }

  async start(): Promise<void> {
    this.off = this.deps.transport.subscribe(this.deps.transport.topics.commands, (topic, payload) => {
      const name = topic.slice(topic.lastIndexOf("/") + 1);
      void this.execute(name, payload).then((r) => this.answer(r));
    });
  }

  async stop(): Promise<void> {
    this.off?.();
  }

  /** Validate and run one command; never throws. */
  async execute(name: string, payload: Buffer | string): Promise<CommandResult> {
    const at = () => new Date().toISOString();
    let doc: unknown;
    try {
      doc = parseBoundedJson(payload, COMMAND_BOUNDS);
    } catch (err) {
      const tooBig = /bytes, more than|nested deeper/.test((err as Error).message);
      return {
        correlationId: null,
        command: name,
        ok: false,
        error: {
          code: tooBig ? "too_large" : "invalid_json",
          message: `payload refused: ${(err as Error).message}`,
        },
        at: at(),
      };
    }
    const rawCid = (doc as { correlationId?: unknown })?.correlationId;
    const cid = typeof rawCid === "string" && rawCid.length <= MAX_CORRELATION_ID ? rawCid : null;
    const entry = this.defs.get(name);
    if (!entry) {
      return {
        correlationId: cid,
        command: name,
        ok: false,
        error: { code: "unknown_command", message: `unknown command "${name}"; known: ${this.names().join(", ")}` },
        at: at(),
      };
    }
    if (!entry.validate(doc)) {
      const problems = ajvProblems(entry.validate.errors);
      return {
        correlationId: cid,
        command: name,
        ok: false,
        error: {
          code: "invalid_payload",
          message: problems.map((p) => `${p.path}: ${p.message}`).join("; "),
          problems,
        },
        at: at(),
      };
    }
    const { correlationId, issuedAt, expiresAt, ...args } = doc as {
      correlationId: string;
      issuedAt?: string;
      expiresAt?: string;
    };
    const why = staleness(
      { issuedAt, expiresAt },
      this.deps.freshness?.() ?? { maxAgeS: 60, clockToleranceS: 5, required: false },
      this.deps.now?.() ?? Date.now(),
    );
    if (why) {
      const stale = why.startsWith("stale") || why.startsWith("issued ");
      return {
        correlationId,
        command: name,
        ok: false,
        error: {
          code: stale ? "stale" : "invalid_payload",
          message: why,
          ...(stale
            ? {}
            : { problems: [{ path: why.startsWith("expiresAt") ? "/expiresAt" : "/issuedAt", message: why }] }),
        },
        at: at(),
      };
    }
    try {
      const result = await entry.def.handle(args as never, { correlationId });
      this.deps.log.info({ command: name, correlationId }, "command done");
      return { correlationId, command: name, ok: true, result: result ?? null, at: at() };
    } catch (err) {
      const code = err instanceof CommandFailure ? err.code : "failed";
      this.deps.log.warn({ command: name, correlationId, err: (err as Error).message }, "command failed");
      return { correlationId, command: name, ok: false, error: { code, message: (err as Error).message }, at: at() };
    }
  }

  private answer(r: CommandResult): void {
    if (!r.ok) this.deps.log.warn({ command: r.command, error: r.error }, "command refused");
    this.deps.transport
      .publish(this.deps.transport.topics.commandResult(r.command), JSON.stringify(r), { qos: 1 })
      .catch((err: Error) => {
        this.deps.log.warn({ err: err.message, command: r.command }, "could not send command result");
      });
  }
}
