import type { Check } from "./check.js";
import { audioLoopCheck } from "./checks/audio-check.js";
import { brokerCheck } from "./checks/broker-check.js";
import { CAMERA_CHECKS } from "./checks/camera-checks.js";
import { buttonContactCheck, buttonPressCheck, ledsCheck, serialCheck, tamperCheck } from "./checks/input-checks.js";
import { journalCheck, storageFreeCheck, storageWriteCheck } from "./checks/storage-check.js";
import { clockCheck, configCheck, signatureCheck, versionCheck } from "./checks/system-checks.js";

/** Every check, in the order a run takes them (the installer's prompts before the long ones). */
export function allChecks(o: { configPath?: string }): Check[] {
  return [
    configCheck(o.configPath),
    signatureCheck(o.configPath),
    versionCheck,
    clockCheck,
    storageWriteCheck,
    storageFreeCheck,
    journalCheck,
    brokerCheck,
    serialCheck,
    tamperCheck,
    buttonContactCheck,
    // the patterns before the press: a real press opens an incident, whose pattern then wins
    ledsCheck,
    buttonPressCheck,
    // the camera's video is grabbed from the start of the run (in the background), meanwhile the tone loop
    audioLoopCheck,
    ...CAMERA_CHECKS,
  ];
}

/** The non-intrusive subset supervision runs on its interval (no sound, no prompt). */
export const SUPERVISED = ["clock", "storage", "broker", "serial", "tamper", "button.contact", "camera"] as const;
/** What the daily run at the quiet hour adds. */
export const DAILY = ["audio"] as const;
