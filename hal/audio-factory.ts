import type { Logger } from "pino";
import type { PillarConfig } from "../config/schema.js";
import type { Microphone, Speaker } from "./audio.js";
import { AlsaMicrophone, AlsaSpeaker } from "./audio-drivers.js";
import { SimMicrophone } from "./sim/sim-mic.js";
import { SimSpeaker } from "./sim/sim-speaker.js";

export function audioDriverOf(config: PillarConfig): "sim" | "alsa" {
  const d = config.call.audio.driver;
  return d === "auto" ? (config.hal.driver === "sim" ? "sim" : "alsa") : d;
}

/** Composition root helper: builds the microphone and speaker drivers of a config. */
export function createAudio(config: PillarConfig, log?: Logger): { mic: Microphone; speaker: Speaker } {
  const a = config.call.audio;
  const v = config.call.volumes;
  if (audioDriverOf(config) === "sim") {
    return {
      mic: new SimMicrophone({ bitrateKbps: a.bitrateKbps, gainDb: v.micGainDb, log }),
      speaker: new SimSpeaker({ volume: v.speaker, log }),
    };
  }
  return {
    mic: new AlsaMicrophone({ device: a.captureDevice, bitrateKbps: a.bitrateKbps, gainDb: v.micGainDb, log }),
    speaker: new AlsaSpeaker({ device: a.playbackDevice, volume: v.speaker, log }),
  };
}
