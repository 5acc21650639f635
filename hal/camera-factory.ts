import type { Logger } from "pino";
import type { PillarConfig } from "../config/schema.js";
import type { Camera } from "./camera.js";
import { RpicamCamera, V4l2Camera } from "./camera-drivers.js";
import { SimCamera } from "./sim/sim-camera.js";

/** The camera driver a config asks for ("auto": sim with the sim HAL, else rpicam). */
export function cameraDriverOf(config: PillarConfig): "sim" | "rpicam" | "v4l2" {
  const d = config.call.camera.driver;
  return d === "auto" ? (config.hal.driver === "sim" ? "sim" : "rpicam") : d;
}

/** Composition root helper: builds the camera driver (only this file imports camera drivers). */
export function createCamera(config: PillarConfig, log?: Logger): Camera {
  const c = config.call.camera;
  const settings = { width: c.width, height: c.height, fps: c.fps, bitrateKbps: c.bitrateKbps, rotation: c.rotation };
  switch (cameraDriverOf(config)) {
    case "sim":
      return new SimCamera(settings, config.pillar.id, log);
    case "rpicam":
      return new RpicamCamera(settings, { log });
    case "v4l2":
      return new V4l2Camera(settings, { device: c.device, mode: c.v4l2Mode, log });
  }
}
