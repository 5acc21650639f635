// A process that runs a simulated camera and prints its encoder's pid (for the orphan test).
import { SimCamera } from "../../../hal/sim/sim-camera.js";

const cam = new SimCamera({ width: 160, height: 120, fps: 5, bitrateKbps: 100, rotation: 0 }, "orphan-test");
await cam.start();
console.log(JSON.stringify({ encoderPid: cam.pid() }));
setInterval(() => undefined, 1000);
