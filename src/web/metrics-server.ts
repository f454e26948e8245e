import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../util/logger.js";
import { renderMetrics } from "../util/metrics.js";

/**
 * `/metrics` on its own port (e.g. `BACKLOG_BOT_METRICS_PORT`), for a Prometheus that scrapes an
 * internal interface while the dashboard port faces people; mount the web handler with
 * `metrics: "off"` then. Answers nothing but `GET /metrics` (404 otherwise). Resolves once listening.
 */
export async function startMetricsServer(options: {
  port: number;
  host?: string;
  log: Logger;
}): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    renderMetrics().then(
      ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
      (error: unknown) => {
        options.log.error({ err: error }, "metrics scrape failed");
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
