import type { IClientOptions, MqttClient } from "mqtt";
import type { Logger } from "pino";
import { loadTlsMaterial, type TlsMaterial, TlsFileError, TlsFileWatcher } from "../../src/security/tls-credentials.js";

/** The console config's `brokerTls`: the pillar's `broker.tls`, for the center's certificate. */
export interface ConsoleBrokerTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  serverName?: string;
  pollS: number;
}

/**
 * The console's client certificate for a mutual-TLS broker (the shipped Mosquitto config: every
 * client shows a fleet-CA certificate; the ACL names the center by its CN, "center"). The files
 * are read and checked at `start` (bounded, key owner-only, key matching the certificate: an
 * error names the config field) and re-read when they change (TlsFileWatcher, as on the pillar):
 * every MQTT connection of the console then reconnects with the new certificate.
 */
export class BrokerTls {
  private material: TlsMaterial | undefined;
  private watcher: TlsFileWatcher | undefined;
  private readonly clients = new Set<MqttClient>();

  constructor(
    private readonly settings: ConsoleBrokerTls,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const s = { ...this.settings, expiryWarningDays: 30 };
    try {
      this.material = await loadTlsMaterial(s);
    } catch (err) {
      throw err instanceof TlsFileError
        ? new Error(`console config /brokerTls/${err.field}: ${err.message.replace(/^config \S+: /, "")}`)
        : err;
    }
    this.log.info({ clientCert: this.material.info }, "broker TLS: client certificate loaded");
    this.watcher = new TlsFileWatcher({
      settings: () => s,
      current: () => this.material?.digest,
      onChange: (m) => this.rotate(m),
      onError: (err) => this.log.warn({ err: err.message }, "broker TLS files changed but are not usable yet"),
    });
    this.watcher.start();
  }

  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
    this.clients.clear();
  }

  /** The TLS part of an MQTT.js client's options. */
  options(): IClientOptions {
    const m = this.material;
    if (!m) throw new Error("broker TLS not started");
    return {
      ca: m.ca,
      cert: m.cert,
      key: m.key,
      rejectUnauthorized: true,
      ...(this.settings.serverName ? { servername: this.settings.serverName } : {}),
    };
  }

  /** A connection to move to a new certificate when the files change (forgotten when it ends). */
  track(client: MqttClient): void {
    this.clients.add(client);
    client.once("end", () => this.clients.delete(client));
  }

  private rotate(m: TlsMaterial): void {
    this.material = m;
    this.log.info({ clientCert: m.info }, "broker TLS files changed: reconnecting with the new client certificate");
    for (const client of this.clients) {
      // MQTT.js builds each connection from client.options: the next (re)connect uses these
      Object.assign(client.options, this.options());
      if (client.connected) client.stream.destroy();
    }
  }
}
