import type { Logger } from "pino";
import type { PillarBus } from "../bus/events.js";
import type { CommandService } from "../commands/command-service.js";
import type { LiveConfig } from "../config/live-config.js";
import type { ControlServer } from "../control/control-server.js";
import type { EventPublisher } from "../events/event-publisher.js";
import type { FaultRegistry } from "../faults/fault-registry.js";
import type { HealthService } from "../health/health-service.js";
import type { IncidentController } from "../incident/incident-controller.js";
import type { LedService } from "../leds/led-service.js";
import type { MqttUplink } from "../uplink/mqtt-uplink.js";
import type { Drivers } from "./drivers.js";

/** Anything the pillar starts and stops; constructing one does nothing. */
export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What a feature may use of the running pillar. A fresh one is built on every (re)build (a
 * config apply that changes the broker, the pillar id, the HAL… rebuilds everything), and
 * `Feature.attach` is called with it each time: hold on to it only for the services you return.
 */
export interface Core {
  /** The config in force (read `get()` when you need a value: live applies change it). */
  config: LiveConfig;
  bus: PillarBus;
  drivers: Drivers;
  uplink: MqttUplink;
  /** Events to the center (journalled, acknowledged, replayed). */
  events: EventPublisher;
  commands: CommandService;
  /** The local control endpoint: `control.route(method, path, handler)`. */
  control: ControlServer;
  faults: FaultRegistry;
  incidents: IncidentController;
  /** The LEDs and strobe relay (`preview(pattern)` shows one pattern while idle). */
  leds: LedService;
  /** `health.addSection(name, () => object)` adds a section to every health message. */
  health: HealthService;
  log: Logger;
  version: string;
  dataDir: string;
}

/**
 * A feature of the pillar (call, provisioning, recording, self-test…), registered in the
 * composition root's list (`src/app/features.ts`).
 */
export interface Feature {
  readonly name: string;
  /**
   * Runs on every (re)build with the freshly built core: register commands, control routes and
   * health sections, and return the services to start after the core's (stopped before them).
   */
  attach(core: Core): Service[] | Promise<Service[]>;
  /** Once, before the first build: what must happen before the services start (boot config). */
  open?(): Promise<void>;
  /** Once, after the pillar stopped for good: release what outlives rebuilds (a serial port). */
  close?(): Promise<void>;
}
