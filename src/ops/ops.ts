// The ops listener as `serve` and `worker` run it: metrics, readiness and the dashboard, started
// before anything else (probes get answers while the start is retried) and attached to the
// runtime once the control Redis is reached.
import type { Runtime } from '../jobs/runtime.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { withTimeout } from '../util/timeout.js';
import { controlSource } from './control-snapshot.js';
import { dashboardHandler } from './dashboard.js';
import { OpsMetrics } from './metrics.js';
import { Readiness } from './readiness.js';
import { type OpsServer, startOpsServer } from './server.js';

export const CONTROL_READINESS = 'control';

export interface OpsOptions {
  port: number;
  host?: string;
  /** OPS_DASHBOARD_TOKEN: the dashboard is served only with one. */
  dashboardToken?: string;
  logger: Logger;
}

export interface Ops {
  metrics: OpsMetrics;
  readiness: Readiness;
  server: OpsServer;
  /** Reads metrics from, and checks readiness against, this runtime's control Redis. */
  attach(rt: Runtime): void;
  /** Before (or after) the runtime closes; with a reason, unready for it until attached again. */
  detach(reason?: string): void;
  close(): Promise<void>;
}

export async function startOps(options: OpsOptions): Promise<Ops> {
  const logger = options.logger.child({ component: 'ops' });
  const metrics = new OpsMetrics(logger);
  const readiness = new Readiness();
  readiness.block(CONTROL_READINESS, 'starting: the control Redis is not connected yet');
  const server = await startOpsServer({
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    metrics,
    readiness,
    logger,
  });
  return {
    metrics,
    readiness,
    server,
    attach(rt) {
      metrics.readFrom(controlSource(rt));
      readiness.clear(CONTROL_READINESS);
      readiness.check(CONTROL_READINESS, async () => {
        try {
          await withTimeout(rt.redis.ping(), 2000, 'PING');
          return undefined;
        } catch (err) {
          return `the control Redis does not answer: ${errorMessage(err)}`;
        }
      });
      if (options.dashboardToken) {
        server.setDashboard(dashboardHandler([rt.queue.queue, rt.followers.queue], options.dashboardToken));
      }
    },
    detach(reason) {
      metrics.readFrom(undefined);
      readiness.uncheck(CONTROL_READINESS);
      if (reason) readiness.block(CONTROL_READINESS, reason);
      else readiness.clear(CONTROL_READINESS); // the caller holds its own reason (serve's start loop)
      server.setDashboard({
        off: 'the queue dashboard is not available: the control Redis is not connected',
      });
    },
    close: () => server.close(),
  };
}
