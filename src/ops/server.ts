// The ops listener's HTTP server (node:http, no framework): /metrics, /healthz, /readyz and, when
// enabled, the queue dashboard. Separate from the Slack receiver, so it answers in Socket Mode and
// HTTP mode alike, and before Slack or the control Redis are reachable.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { DASHBOARD_PATH, type Handler } from './dashboard.js';
import type { OpsMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export interface OpsServerOptions {
  port: number;
  /** Default: every interface (probes and scrapers come from outside the pod or host). */
  host?: string;
  metrics: OpsMetrics;
  readiness: Readiness;
  logger: Logger;
}

export interface OpsServer {
  port: number;
  /** Serves the dashboard at /queues from now on; `off` says why there is none. */
  setDashboard(dashboard: Handler | { off: string }): void;
  close(): Promise<void>;
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { metrics, readiness, logger } = options;
  let dashboard: Handler | { off: string } = { off: 'the queue dashboard is off (set OPS_DASHBOARD_TOKEN)' };
  const text = (res: import('node:http').ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body.endsWith('\n') ? body : `${body}\n`);
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`)) {
      if (typeof dashboard === 'function') dashboard(req, res);
      else text(res, 404, dashboard.off);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'only GET');
    switch (path) {
      case '/healthz':
        return text(res, 200, 'ok');
      case '/readyz':
        void readiness
          .status()
          .then(({ ready, reasons }) =>
            ready ? text(res, 200, 'ready') : text(res, 503, `not ready: ${reasons.join('; ')}`),
          );
        return;
      case '/metrics':
        void metrics.render().then(
          ({ contentType, body }) => {
            res.writeHead(200, { 'content-type': contentType });
            res.end(body);
          },
          (err) => text(res, 500, `metrics failed: ${errorMessage(err)}`),
        );
        return;
      default:
        return text(res, 404, 'not found: the ops listener serves /metrics, /healthz, /readyz and /queues');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, paths: ['/metrics', '/healthz', '/readyz', DASHBOARD_PATH] }, 'ops listener up');
  return {
    port,
    setDashboard(d) {
      dashboard = d;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
