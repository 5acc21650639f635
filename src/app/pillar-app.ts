import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import type { PillarIo } from "../../hal/pillar-io.js";
import { SimPillarIo } from "../../hal/sim/sim-pillar-io.js";
import { createBus, type PillarBus } from "../bus/events.js";
import { CommandService } from "../commands/command-service.js";
import { freshnessOf } from "../commands/freshness.js";
import { LiveConfig } from "../config/live-config.js";
import { ControlServer } from "../control/control-server.js";
import { ClockSyncProbe } from "../events/clock-sync.js";
import { EventPublisher } from "../events/event-publisher.js";
import { FaultRegistry } from "../faults/fault-registry.js";
import { HealthService } from "../health/health-service.js";
import { IncidentController } from "../incident/incident-controller.js";
import { IncidentStore } from "../incident/incident-store.js";
import { ButtonMonitor } from "../inputs/button-monitor.js";
import { TamperMonitor } from "../inputs/tamper-monitor.js";
import { LedService } from "../leds/led-service.js";
import { moduleLogger, rootLogger } from "../log/logger.js";
import { Journal } from "../outbox/journal.js";
import { Outbox } from "../outbox/outbox.js";
import { MqttUplink } from "../uplink/mqtt-uplink.js";
import { addSimRoutes } from "./sim-routes.js";
import { IoSupervisor } from "./io-supervisor.js";
import { UplinkWatch } from "./uplink-watch.js";

export interface PillarAppOptions {
  config: PillarConfig;
  /** Builds the I/O for a config (the composition root's driver choice). */
  createIo: (config: PillarConfig) => Promise<PillarIo>;
  version: string;
  log?: Logger;
  /** A clock probe shared by many pillars in one process (the fleet simulator); started by its owner. */
  clock?: ClockSyncProbe;
}

interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Config changes that need every service rebuilt; anything else applies live. */
function needsRestart(a: PillarConfig, b: PillarConfig): boolean {
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  return (
    !same(a.pillar, b.pillar) ||
    !same(a.broker, b.broker) ||
    !same(a.hal, b.hal) ||
    a.dataDir !== b.dataDir ||
    !same(a.control, b.control)
  );
}

/**
 * The running pillar: builds the services in dependency order, starts them, and stops them in
 * reverse. Constructing it does nothing. Later features add their services in `build()`.
 */
export class PillarApp {
  readonly live: LiveConfig;
  readonly log: Logger;
  bus!: PillarBus;
  io!: PillarIo;
  uplink!: MqttUplink;
  outbox!: Outbox;
  events!: EventPublisher;
  faults!: FaultRegistry;
  incidents!: IncidentController;
  commands!: CommandService;
  control!: ControlServer;
  health!: HealthService;
  button!: ButtonMonitor;
  tamper!: TamperMonitor;
  leds!: LedService;
  private started: Service[] = [];
  /** Hooks run after the core is built, so features can add services (call, provisioning…). */
  private readonly extensions: ((app: PillarApp) => Service[] | Promise<Service[]>)[] = [];

  constructor(private readonly opts: PillarAppOptions) {
    this.live = new LiveConfig(opts.config);
    this.log = opts.log ?? rootLogger();
  }

  /** Register a feature that adds services; call before start(). */
  extend(ext: (app: PillarApp) => Service[] | Promise<Service[]>): this {
    this.extensions.push(ext);
    return this;
  }

  get config(): PillarConfig {
    return this.live.get();
  }

  private async build(): Promise<Service[]> {
    const c = this.config;
    const log = this.log;
    const cfg = () => this.live.get();
    this.bus = createBus(moduleLogger("bus", log));
    this.io = await this.opts.createIo(c);
    const clock = this.opts.clock ?? new ClockSyncProbe();
    this.uplink = new MqttUplink({
      pillarId: c.pillar.id,
      settings: { ...c.broker, clientId: c.broker.clientId ?? `pillar-${c.pillar.id}` },
      version: this.opts.version,
      bus: this.bus,
      log: moduleLogger("uplink", log),
    });
    const journal = new Journal({
      dir: c.dataDir,
      compactBytes: c.outbox.compactBytes,
      topicPrefix: `${this.uplink.topics.base}/`,
      log: moduleLogger("journal", log),
    });
    this.outbox = new Outbox({
      journal,
      publisher: this.uplink,
      bus: this.bus,
      log: moduleLogger("outbox", log),
      maxBytes: c.outbox.maxBytes,
    });
    this.events = new EventPublisher({
      config: this.live,
      outbox: this.outbox,
      clock,
      eventTopic: () => this.uplink.topics.event,
    });
    this.faults = new FaultRegistry({ bus: this.bus, events: this.events, log: moduleLogger("faults", log) });
    this.incidents = new IncidentController({
      bus: this.bus,
      events: this.events,
      log: moduleLogger("incident", log),
      closeAfterAckS: () => cfg().incident.closeAfterAckS,
      store: new IncidentStore({ dir: c.dataDir, log: moduleLogger("incident", log) }),
    });
    this.commands = new CommandService({
      transport: this.uplink,
      log: moduleLogger("commands", log),
      freshness: () => freshnessOf(cfg()),
    });
    for (const def of this.incidents.commands()) this.commands.register(def);
    this.commands.register({
      name: "ping",
      description: "answer with the pillar's state",
      args: {},
      handle: () => this.state(),
    });
    this.leds = new LedService({ outputs: this.io.outputs, bus: this.bus, patterns: () => cfg().leds });
    this.button = new ButtonMonitor({
      input: this.io.button,
      bus: this.bus,
      log: moduleLogger("button", log),
      settings: () => cfg().button,
    });
    this.tamper = new TamperMonitor({
      input: this.io.tamper,
      bus: this.bus,
      debounceMs: () => cfg().tamper.debounceMs,
    });
    this.health = new HealthService({
      pillarId: () => cfg().pillar.id,
      dataDir: () => cfg().dataDir,
      intervalS: () => cfg().heartbeat.intervalS,
      outbox: this.outbox,
      healthTopic: () => this.uplink.topics.health,
      faults: () => this.faults.list(),
      components: () => this.components(),
      clientCert: () => this.uplink.certInfo(),
      log: moduleLogger("health", log),
    });
    this.control = new ControlServer({ port: c.control.port, log: moduleLogger("control", log) });
    this.control.route("GET", "/health", () => this.health.snapshot());
    this.control.route("GET", "/state", () => this.state());
    if (this.io instanceof SimPillarIo) addSimRoutes(this.control, this.io);
    const watch = new UplinkWatch({ bus: this.bus, uplink: this.uplink });
    const core: Service[] = [
      this.faults, // first: hears every fault raised while the rest starts
      this.outbox,
      ...(this.opts.clock ? [] : [clock]),
      new IoSupervisor({ io: this.io, bus: this.bus, log: moduleLogger("hal", log) }),
      this.leds, // before the incidents: it must hear a restored incident's state
      this.incidents,
      this.button,
      this.tamper,
      this.commands,
      this.uplink,
      watch,
      this.health,
      this.control,
    ];
    for (const ext of this.extensions) core.push(...(await ext(this)));
    return core;
  }

  async start(): Promise<void> {
    const services = await this.build();
    for (const s of services) {
      try {
        await s.start();
        this.started.push(s);
      } catch (err) {
        this.log.error({ err }, "start failed; stopping what started");
        await this.stop();
        throw err;
      }
    }
    this.log.info(
      { pillarId: this.config.pillar.id, driver: this.io.driver, control: this.control.port },
      "pillar running",
    );
  }

  async stop(): Promise<void> {
    const list = this.started.reverse();
    this.started = [];
    for (const s of list) {
      try {
        await s.stop();
      } catch (err) {
        this.log.warn({ err }, "stop failed");
      }
    }
  }

  /** Use a new (validated) config: live where possible, else rebuild every service. */
  async applyConfig(next: PillarConfig): Promise<"live" | "restarted"> {
    const prev = this.config;
    if (!needsRestart(prev, next)) {
      this.live.set(next);
      this.leds.render(true);
      this.log.info("config applied live");
      return "live";
    }
    await this.stop();
    this.live.set(next);
    await this.start();
    this.log.info("config applied; services restarted");
    return "restarted";
  }

  components(): Record<string, string> {
    return {
      hal: this.io.driver,
      uplink: this.uplink.isConnected() ? "connected" : "disconnected",
      button: this.faults.has("button") ? "failed" : this.button.isStuck() ? "stuck" : "ok",
      tamper: this.tamper.isOpen() ? "open" : "closed",
      leds: this.leds.pattern(),
    };
  }

  state(): Record<string, unknown> {
    return {
      pillarId: this.config.pillar.id,
      incident: this.incidents.snapshot(),
      components: this.components(),
      outbox: { depth: this.outbox.depth, bytes: this.outbox.pendingBytes },
      faults: this.faults.list(),
    };
  }
}
