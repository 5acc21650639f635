import type { SimPillarIo } from "../../hal/sim/sim-pillar-io.js";
import type { ControlServer } from "../control/control-server.js";

/** The simulated hardware's hooks on the control endpoint (see README "Simulation"). */
export function addSimRoutes(control: ControlServer, sim: SimPillarIo): void {
  control.route("POST", "/sim/button/press", () => {
    sim.button.press();
    return { button: "pressed" };
  });
  control.route("POST", "/sim/button/release", () => {
    sim.button.release();
    return { button: "released" };
  });
  control.route("POST", "/sim/button/bounce", () => {
    sim.button.bounce(true);
    return { button: "bounced to pressed" };
  });
  control.route("POST", "/sim/button/fail", () => {
    sim.button.failLink();
    return { button: "line failed" };
  });
  control.route("POST", "/sim/button/restore", () => {
    sim.button.restoreLink();
    return { button: "line restored" };
  });
  control.route("POST", "/sim/tamper/open", () => {
    sim.tamper.press();
    return { tamper: "open" };
  });
  control.route("POST", "/sim/tamper/close", () => {
    sim.tamper.release();
    return { tamper: "closed" };
  });
  control.route("GET", "/sim/leds", () => sim.leds());
}
