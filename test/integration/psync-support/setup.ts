// Shared setup of the psync engine tests: a source and a target (real servers), a replica between
// them, and a wait until the target holds everything the source has written.
import assert from 'node:assert/strict';
import { type PsyncEvent, PsyncReplica, type PsyncReplicaOptions } from '../../../src/engine/psync/index.js';
import { parseEndpointUrl } from '../../../src/redis/endpoint.js';
import { createLogger } from '../../../src/util/logger.js';
import { type RedisServer, type RedisServerOptions, startRedis } from '../../harness/redis-server.js';

export const logger = createLogger({ level: 'silent' });

export interface Pair {
  source: RedisServer;
  target: RedisServer;
  stop(): Promise<void>;
}

export async function startPair(
  source: RedisServerOptions = {},
  target: RedisServerOptions = {},
): Promise<Pair> {
  // A diskless sync waits repl-diskless-sync-delay (5 s by default) for more replicas: none come.
  const sourceOptions = {
    ...source,
    configLines: ['repl-diskless-sync-delay 0', ...(source.configLines ?? [])],
  };
  const [s, t] = await Promise.all([startRedis(sourceOptions), startRedis(target)]);
  return {
    source: s,
    target: t,
    stop: async () => {
      await Promise.all([s.stop(), t.stop()]);
    },
  };
}

export function replicaOf(
  pair: Pair,
  extra: Partial<PsyncReplicaOptions> = {},
): { replica: PsyncReplica; events: PsyncEvent[] } {
  const events: PsyncEvent[] = [];
  const replica = new PsyncReplica({
    source: parseEndpointUrl(pair.source.url),
    target: parseEndpointUrl(pair.target.url),
    mapping: { dbs: 'all' },
    logger,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return { replica, events };
}

/** Waits until the applied offset reaches the source's current master_repl_offset. */
export async function caughtUp(replica: PsyncReplica, timeoutMs = 10_000): Promise<void> {
  const offset = await replica.sourceOffset();
  assert.ok(await replica.waitForOffset(offset, timeoutMs), `applied offset reaches ${offset}`);
}
