import { findingRoutes } from "./routes-findings.js";
import { taskRoutes } from "./routes-tasks.js";

/** Every API operation, in the order the OpenAPI file lists them. */
export const routes = [...findingRoutes, ...taskRoutes];
