// Connections to the control Redis: the one that holds queues, migrations and audit streams. It is
// never one of the servers being migrated.
import type { ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import { connect, redisOptions } from '../redis/connect.js';
import { type Endpoint, EndpointUrlError, parseEndpointUrl } from '../redis/endpoint.js';
import { UserError } from '../util/errors.js';

/** `control.url` from the config, else CONTROL_REDIS_URL. */
export function controlEndpoint(config: Config | undefined, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const url = config?.control?.url ?? env.CONTROL_REDIS_URL;
  if (!url) {
    throw new UserError(
      'no control Redis: set control.url in the config file or the CONTROL_REDIS_URL environment variable',
    );
  }
  try {
    const password = config?.control?.url ? config.control.password : undefined;
    return parseEndpointUrl(url, 'control', password ? { password } : {});
  } catch (err) {
    if (err instanceof EndpointUrlError) throw new UserError(`control Redis URL ${err.message}`);
    throw err;
  }
}

/** Keep reconnecting for as long as the process lives: workers must ride out control Redis restarts. */
const FOREVER = Number.MAX_SAFE_INTEGER;

/**
 * Connection settings for BullMQ (it opens its own clients from them). Commands wait through a
 * reconnect instead of failing (`maxRetriesPerRequest: null`, which BullMQ workers require).
 */
export function bullConnection(endpoint: Endpoint, role: string): ConnectionOptions {
  // ioredis's option type and BullMQ's structural copy of it differ only in typing details.
  return redisOptions(endpoint, {
    role,
    maxRetriesPerRequest: null,
    maxReconnects: FOREVER,
  }) as ConnectionOptions;
}

/** A ready client for the runbook store (same patience as the workers). */
export function connectControl(endpoint: Endpoint, role = 'control'): Promise<Redis> {
  return connect(endpoint, { role, maxRetriesPerRequest: null, maxReconnects: FOREVER });
}

/**
 * Calls `onRestart(before, after)` when a connection to the control Redis comes back from a
 * reconnect to a different server process (INFO run_id changed): a restart, which without
 * persistence means every migration, queue and lease is gone. Returns a function that stops it.
 */
export async function watchControlRestarts(
  redis: Redis,
  onRestart: (before: string, after: string) => void,
): Promise<() => void> {
  const runId = async () => /^run_id:(\w+)/m.exec(await redis.info('server'))?.[1] ?? '';
  let known = await runId();
  const onReady = () => {
    runId().then(
      (now) => {
        if (now && known && now !== known) onRestart(known, now);
        if (now) known = now;
      },
      () => undefined,
    );
  };
  redis.on('ready', onReady);
  return () => redis.off('ready', onReady);
}
