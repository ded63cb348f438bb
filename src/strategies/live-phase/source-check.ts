// Is the source still the server being migrated? The follower reads its identity (role, run id)
// when no step recorded one, and checks it before pausing writes: a source that became a replica
// or restarted must never be paused (nor its writes followed) as if nothing happened.

import type { Redis } from 'ioredis';
import {
  clientInfo,
  IdentityGuard,
  readIdentity,
  ServerChangedError,
  type ServerIdentity,
} from '../../engine/identity/index.js';
import { LiveSyncError } from '../../engine/live-sync/index.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { errorMessage } from '../../util/errors.js';

/** The source as it is now, or undefined (after `warn`) when it will not say. */
export async function readSourceIdentity(
  admin: Redis,
  dbs: 'all' | number[],
  warn: (message: string) => void,
  clusterNode = false,
): Promise<ServerIdentity | undefined> {
  try {
    return await readIdentity(clientInfo(admin), dbs, { clusterNode });
  } catch (err) {
    warn(
      `cannot read INFO on the source (${errorMessage(err)}): a change of its role or a restart cannot be detected`,
    );
    return undefined;
  }
}

/** Throws a final LiveSyncError when the source changed role or restarted since the baseline. */
export async function checkSourceUnchanged(
  admin: Redis,
  source: {
    endpoint: Endpoint;
    baseline: ServerIdentity | undefined;
    dbs: 'all' | number[];
    /** The admin connection is a source cluster's first primary. */
    clusterNode?: boolean;
  },
  when: string,
  consequence: string,
): Promise<void> {
  if (!source.baseline) return;
  const guard = new IdentityGuard({
    side: 'source',
    where: describeEndpoint(source.endpoint),
    baseline: source.baseline,
    dbs: source.dbs,
    clusterNode: source.clusterNode ?? false,
  });
  try {
    // Key counts are live sync's to judge (against notifications): role and run id here.
    await guard.check(clientInfo(admin), when, consequence, false);
  } catch (err) {
    if (err instanceof ServerChangedError) throw new LiveSyncError(err.message, true);
    throw err;
  }
}
