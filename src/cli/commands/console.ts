export { command } from "../../console/console-command.js";
