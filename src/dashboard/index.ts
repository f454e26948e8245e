export { codeUrl, elapsed, inlineText, issueUrl } from "./markdown.js";
export { DASHBOARD_MARKER, MAX_BODY, renderDashboard } from "./render.js";
export { checkbox, readTicks, untick } from "./ticks.js";
export type { DashboardAction, DashboardLimits, DashboardState, DashboardTask } from "./types.js";
