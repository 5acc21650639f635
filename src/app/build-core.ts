import type { Logger } from "pino";
import { createBus } from "../bus/events.js";
import { CommandService } from "../commands/command-service.js";
import { freshnessOf } from "../commands/freshness.js";
import type { LiveConfig } from "../config/live-config.js";
import { ControlServer } from "../control/control-server.js";
import { ClockSyncProbe } from "../events/clock-sync.js";
import { EventPublisher } from "../events/event-publisher.js";
import { FaultRegistry } from "../faults/fault-registry.js";
import { HealthService } from "../health/health-service.js";
import { IncidentController } from "../incident/incident-controller.js";
import { IncidentStatePublisher } from "../incident/incident-state-publisher.js";
import { IncidentStore } from "../incident/incident-store.js";
import { ButtonMonitor } from "../inputs/button-monitor.js";
import { TamperMonitor } from "../inputs/tamper-monitor.js";
import { LedService } from "../leds/led-service.js";
import { moduleLogger } from "../log/logger.js";
import { Journal } from "../outbox/journal.js";
import { Outbox } from "../outbox/outbox.js";
import { MqttUplink } from "../uplink/mqtt-uplink.js";
import { type Drivers, simControlsOf } from "./drivers.js";
import type { Core, Feature, Service } from "./feature.js";
import { IoSupervisor } from "./io-supervisor.js";
import { UplinkWatch } from "./uplink-watch.js";

/** The core plus what only the app and its tests look at. */
export interface AppCore extends Core {
  outbox: Outbox;
  button: ButtonMonitor;
  tamper: TamperMonitor;
  /** Starts the I/O driver and retries it; with `button`, what keeps watching during a restart. */
  io: IoSupervisor;
  components(): Record<string, string>;
  state(): Record<string, unknown>;
}

/**
 * Builds one generation of the pillar: every core service from the config in force and the
 * drivers, then each feature attached to it. Returns them in start order (stopped in reverse).
 * Nothing is started here.
 */
export async function buildCore(o: {
  live: LiveConfig;
  drivers: Drivers;
  features: readonly Feature[];
  /** A clock probe shared by many pillars in one process (the fleet simulator); started by its owner. */
  clock?: ClockSyncProbe;
  version: string;
  log: Logger;
}): Promise<{ core: AppCore; services: Service[] }> {
  const { live, drivers, log } = o;
  const c = live.get();
  const cfg = () => live.get();
  const bus = createBus(moduleLogger("bus", log));
  const clock = o.clock ?? new ClockSyncProbe();
  const uplink = new MqttUplink({
    pillarId: c.pillar.id,
    settings: { ...c.broker, clientId: c.broker.clientId ?? `pillar-${c.pillar.id}` },
    version: o.version,
    location: () => cfg().location,
    bus,
    log: moduleLogger("uplink", log),
  });
  const journal = new Journal({
    dir: c.dataDir,
    compactBytes: c.outbox.compactBytes,
    topicPrefix: `${uplink.topics.base}/`,
    log: moduleLogger("journal", log),
  });
  const outbox = new Outbox({
    journal,
    publisher: uplink,
    bus,
    log: moduleLogger("outbox", log),
    maxBytes: c.outbox.maxBytes,
  });
  const events = new EventPublisher({ config: live, outbox, clock, eventTopic: () => uplink.topics.event });
  const faults = new FaultRegistry({ bus, events, log: moduleLogger("faults", log) });
  const incidents = new IncidentController({
    bus,
    events,
    log: moduleLogger("incident", log),
    closeAfterAckS: () => cfg().incident.closeAfterAckS,
    store: new IncidentStore({ dir: c.dataDir, log: moduleLogger("incident", log) }),
  });
  const commands = new CommandService({
    transport: uplink,
    log: moduleLogger("commands", log),
    freshness: () => freshnessOf(cfg()),
  });
  const leds = new LedService({ outputs: drivers.io.outputs, bus, patterns: () => cfg().leds });
  const button = new ButtonMonitor({
    input: drivers.io.button,
    bus,
    log: moduleLogger("button", log),
    settings: () => cfg().button,
  });
  const tamper = new TamperMonitor({ input: drivers.io.tamper, bus, debounceMs: () => cfg().tamper.debounceMs });
  const health = new HealthService({
    pillarId: () => cfg().pillar.id,
    dataDir: () => cfg().dataDir,
    intervalS: () => cfg().heartbeat.intervalS,
    outbox,
    healthTopic: () => uplink.topics.health,
    faults: () => faults.list(),
    components: () => core.components(),
    clientCert: () => uplink.certInfo(),
    log: moduleLogger("health", log),
  });
  const control = new ControlServer({ port: c.control.port, log: moduleLogger("control", log) });
  const io = new IoSupervisor({ io: drivers.io, bus, log: moduleLogger("hal", log) });
  const core: AppCore = {
    config: live,
    bus,
    drivers,
    uplink,
    events,
    commands,
    control,
    faults,
    incidents,
    health,
    log,
    version: o.version,
    dataDir: c.dataDir,
    outbox,
    leds,
    button,
    tamper,
    io,
    components: () => ({
      hal: drivers.io.driver,
      uplink: uplink.isConnected() ? "connected" : "disconnected",
      button: faults.has("button") ? "failed" : button.isStuck() ? "stuck" : "ok",
      tamper: tamper.isOpen() ? "open" : "closed",
      leds: leds.pattern(),
    }),
    state: () => ({
      pillarId: cfg().pillar.id,
      incident: incidents.snapshot(),
      components: core.components(),
      outbox: { depth: outbox.depth, bytes: outbox.pendingBytes },
      faults: faults.list(),
    }),
  };
  for (const def of incidents.commands()) commands.register(def);
  commands.register({ name: "ping", description: "answer with the pillar's state", args: {}, handle: core.state });
  control.route("GET", "/health", () => health.snapshot());
  control.route("GET", "/state", core.state);
  for (const hook of simControlsOf(drivers))
    control.route(hook.method, hook.path, (_req, _body, url) => hook.handle(url.searchParams));

  // The start order (stopped in reverse), then every feature's services.
  const services: Service[] = [
    faults, // first: hears every fault raised while the rest starts
    outbox,
    ...(o.clock ? [] : [clock]),
    io,
    leds, // before the incidents: it must hear a restored incident's state
    incidents,
    button,
    tamper,
    commands,
    uplink,
    new UplinkWatch({ bus, uplink }),
    new IncidentStatePublisher({
      bus,
      incidents,
      uplink,
      clock,
      pillarId: () => c.pillar.id,
      location: () => {
        const { lat, lon, address, district } = cfg().location;
        return { lat, lon, address, district };
      },
      topic: () => uplink.topics.sub("incident"),
      log: moduleLogger("incident", log),
    }),
    health,
    control,
  ];
  for (const feature of o.features) services.push(...(await feature.attach(core)));
  return { core, services };
}
