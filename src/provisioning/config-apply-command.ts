import { randomUUID } from "node:crypto";
import { Type } from "@sinclair/typebox";
import mqtt from "mqtt";
import { CommandFailure, type CommandResult, type CommandService } from "../commands/command-service.js";
import { PillarTopics } from "../uplink/topics.js";
import type { ConfigApplier } from "./config-applier.js";
import { MAX_CONFIG_BYTES } from "./flash-protocol.js";

export const CONFIG_APPLY_COMMAND = "config.apply";

/**
 * Register `config.apply` on the pillar's CommandService: payload
 * `{ correlationId, config: "<the config file's exact text>", signature?: "<the .sig text>" }`.
 * The config is a string, not an object, so the bytes that were signed arrive unchanged.
 * Same checks and atomic apply/rollback as a serial flash; the result carries the ApplyReport.
 */
export function registerConfigApplyCommand(
  commands: CommandService,
  applier: ConfigApplier,
  /**
   * Called with the result before the handler returns. Applying may rebuild the services, this
   * CommandService and its uplink included, so its own answer would be lost: the hook can send
   * the result through the new uplink instead.
   */
  lateAnswer?: (r: CommandResult) => Promise<void>,
): void {
  commands.register({
    name: CONFIG_APPLY_COMMAND,
    description:
      "verify (signature, schema), store atomically, apply and self-test a new config; rolls back on failure",
    args: {
      config: Type.String({ minLength: 2, maxLength: MAX_CONFIG_BYTES, description: "the config file's exact text" }),
      signature: Type.Optional(Type.String({ maxLength: 16_384, description: "the detached .sig file's text" })),
    },
    async handle(args, ctx) {
      const report = await applier.apply({
        bytes: Buffer.from(args.config, "utf8"),
        signature: args.signature,
        source: "mqtt",
      });
      const base = { correlationId: ctx.correlationId, command: CONFIG_APPLY_COMMAND, at: new Date().toISOString() };
      await lateAnswer?.(
        report.ok
          ? { ...base, ok: true, result: report }
          : { ...base, ok: false, error: { code: report.code, message: report.message } },
      );
      if (!report.ok) throw new CommandFailure(report.code, report.message);
      return report;
    },
  });
}

export interface MqttFlashOptions {
  brokerUrl: string;
  pillarId: string;
  bytes: Uint8Array;
  signature?: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
}

/**
 * Installer side of `pillar flash CONFIG --mqtt --broker URL --id ID`: publish `config.apply` to
 * the pillar and wait for its result (same correlationId). Resolves with the CommandResult; it
 * rejects only when the broker or the pillar cannot be reached in time.
 */
export async function flashOverMqtt(o: MqttFlashOptions): Promise<CommandResult> {
  const topics = new PillarTopics(o.pillarId);
  const correlationId = randomUUID();
  const timeoutMs = o.timeoutMs ?? 60_000;
  const client = mqtt.connect(o.brokerUrl, {
    clientId: `pillar-flash-${correlationId.slice(0, 8)}`,
    username: o.username,
    password: o.password,
    connectTimeout: Math.min(timeoutMs, 10_000),
    reconnectPeriod: 0,
    clean: true,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", (err) => reject(new Error(`cannot connect to ${o.brokerUrl}: ${err.message}`)));
      client.once("close", () => reject(new Error(`cannot connect to ${o.brokerUrl}: connection closed`)));
    });
    const resultTopic = topics.commandResult(CONFIG_APPLY_COMMAND);
    const result = new Promise<CommandResult>((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(
              `no answer from pillar ${o.pillarId} within ${timeoutMs} ms (is it online? pillar/v1/${o.pillarId}/status)`,
            ),
          ),
        timeoutMs,
      );
      client.on("message", (topic, payload) => {
        if (topic !== resultTopic) return;
        try {
          const r = JSON.parse(payload.toString()) as CommandResult;
          if (r.correlationId !== correlationId) return;
          clearTimeout(t);
          resolve(r);
        } catch {
          // not ours
        }
      });
    });
    result.catch(() => undefined); // awaited below; no unhandled rejection if publishing fails first
    await client.subscribeAsync(resultTopic, { qos: 1 });
    const payload = {
      correlationId,
      issuedAt: new Date().toISOString(), // pillars refuse stale commands (docs/mqtt-security.md)
      config: Buffer.from(o.bytes).toString("utf8"),
      ...(o.signature ? { signature: o.signature } : {}),
    };
    await client.publishAsync(topics.command(CONFIG_APPLY_COMMAND), JSON.stringify(payload), { qos: 1 });
    return await result;
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}
