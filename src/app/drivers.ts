import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import type { Microphone, Speaker } from "../../hal/audio.js";
import { AlsaMicrophone, AlsaSpeaker } from "../../hal/audio-drivers.js";
import type { Camera } from "../../hal/camera.js";
import { RpicamCamera, V4l2Camera } from "../../hal/camera-drivers.js";
import type { PillarIo } from "../../hal/pillar-io.js";
import type { SimControl } from "../../hal/sim-controls.js";
import { SimAir } from "../../hal/sim/sim-air.js";
import { SimCamera } from "../../hal/sim/sim-camera.js";
import { SimMicrophone } from "../../hal/sim/sim-mic.js";
import { SimPillarIo } from "../../hal/sim/sim-pillar-io.js";
import { SimSpeaker } from "../../hal/sim/sim-speaker.js";
import { moduleLogger } from "../log/logger.js";

/** Every hardware driver of one pillar, chosen from its config. Services are handed these. */
export interface Drivers {
  io: PillarIo;
  camera: Camera;
  mic: Microphone;
  speaker: Speaker;
}

/** Builds the drivers for a config (tests pass their own to keep a sim they can press). */
export type DriverFactory = (config: PillarConfig, log: Logger) => Promise<Drivers>;

/** The camera driver a config asks for ("auto": sim with the sim HAL, else rpicam). */
export function cameraDriverOf(config: PillarConfig): "sim" | "rpicam" | "v4l2" {
  const d = config.call.camera.driver;
  return d === "auto" ? (config.hal.driver === "sim" ? "sim" : "rpicam") : d;
}

/** The audio driver a config asks for ("auto": sim with the sim HAL, else alsa). */
export function audioDriverOf(config: PillarConfig): "sim" | "alsa" {
  const d = config.call.audio.driver;
  return d === "auto" ? (config.hal.driver === "sim" ? "sim" : "alsa") : d;
}

/**
 * The composition root's driver choice: the only place that picks HAL drivers. The Firmata and
 * GPIO drivers are loaded lazily so a sim pillar never loads serialport or spawns gpio tools.
 * Constructing a driver does nothing; whoever uses it starts it.
 */
export async function createDrivers(config: PillarConfig, log: Logger): Promise<Drivers> {
  return {
    io: await createPillarIo(config, moduleLogger("hal", log)),
    camera: createCamera(config, moduleLogger("camera", log)),
    ...createAudio(config, moduleLogger("audio", log)),
  };
}

export async function createPillarIo(config: PillarConfig, log: Logger): Promise<PillarIo> {
  const { hal } = config;
  switch (hal.driver) {
    case "sim":
      return new SimPillarIo();
    case "firmata": {
      const { createFirmataPillarIo } = await import("../../hal/firmata/firmata-pillar-io.js");
      const f = hal.firmata!;
      return createFirmataPillarIo({
        port: f.port,
        baudRate: f.baudRate,
        heartbeatMs: f.heartbeatMs,
        inputs: hal.inputs,
        outputs: hal.outputs,
        log,
      });
    }
    case "gpio": {
      const { createGpioPillarIo } = await import("../../hal/gpio/gpio-pillar-io.js");
      return createGpioPillarIo({ chipLabel: hal.gpio!.chipLabel, inputs: hal.inputs, outputs: hal.outputs, log });
    }
  }
}

export function createCamera(config: PillarConfig, log?: Logger): Camera {
  const c = config.call.camera;
  const settings = { width: c.width, height: c.height, fps: c.fps, bitrateKbps: c.bitrateKbps, rotation: c.rotation };
  switch (cameraDriverOf(config)) {
    case "sim":
      return new SimCamera(settings, config.pillar.id, log, config.timezone);
    case "rpicam":
      return new RpicamCamera(settings, { log });
    case "v4l2":
      return new V4l2Camera(settings, { device: c.device, mode: c.v4l2Mode, log });
  }
}

export function createAudio(config: PillarConfig, log?: Logger): { mic: Microphone; speaker: Speaker } {
  const a = config.call.audio;
  const v = config.call.volumes;
  if (audioDriverOf(config) === "sim") {
    // one pillar's air: what its simulated speaker plays, its simulated microphone hears
    const air = new SimAir();
    return {
      mic: new SimMicrophone({ bitrateKbps: a.bitrateKbps, gainDb: v.micGainDb, log, air }),
      speaker: new SimSpeaker({ volume: v.speaker, log, air }),
    };
  }
  return {
    mic: new AlsaMicrophone({ device: a.captureDevice, bitrateKbps: a.bitrateKbps, gainDb: v.micGainDb, log }),
    speaker: new AlsaSpeaker({ device: a.playbackDevice, volume: v.speaker, log }),
  };
}

/** Every hook the drivers offer (sim drivers only), for the control endpoint. */
export function simControlsOf(d: Drivers): SimControl[] {
  return [d.io, d.camera, d.mic, d.speaker].flatMap((driver) => driver.simControls?.() ?? []);
}
