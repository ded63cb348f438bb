// After an abort (or an abort of a migration that had already failed) with no follower left to
// do it: put the source back as the live phase found it. A follower that is alive does this itself
// when it sees the abort; this covers the one whose worker died and whose job will never run again.

import { resumeWrites } from '../../engine/cutover/index.js';
import type { Endpoint } from '../../redis/endpoint.js';
import type { Migration } from '../../runbook/model.js';
import { errorMessage } from '../../util/errors.js';
import { restoreNotifyKeyspaceEvents } from './notify-setting.js';
import { openSourceNodes, type SourceNodes } from './source-nodes.js';
import { followerSpec } from './spec.js';
import type { FollowerStore } from './store.js';
import type { FollowerLauncher } from './types.js';

/**
 * Lifts a write pause the last follower left on, and restores notify-keyspace-events if this
 * migration changed it. Returns what it did, or undefined when there was nothing to do (no follower
 * ever ran, the last one stopped cleanly, or one is still alive and will stop itself).
 */
export async function cleanupLivePhase(
  lp: { store: FollowerStore; launcher: FollowerLauncher },
  migration: Pick<Migration, 'id' | 'steps'>,
  source: Endpoint,
): Promise<string | undefined> {
  const rec = await lp.store.read(migration.id);
  if (rec.run === 0) return undefined;
  const last = rec.status ?? rec.previous;
  // A stopped follower lifted its pause and restored the setting on the way out.
  if (last?.state === 'stopped') return undefined;
  if (last?.state !== 'failed' && (await lp.launcher.alive({ migrationId: migration.id, run: rec.run })))
    return undefined;
  const spec = followerSpec(migration);
  const original = spec.live?.setConfig ? await lp.store.notifyOriginal(migration.id) : undefined;
  const done: string[] = [];
  let nodes: SourceNodes | undefined;
  try {
    // Every primary of a source cluster was paused and had the setting changed.
    nodes = await openSourceNodes(source, { role: 'live-phase-cleanup', maxReconnects: 2 });
    if (last?.paused && spec.pause.method === 'client-pause') {
      for (const node of nodes.all) await resumeWrites(node.conn);
      done.push('source writes resumed (the write pause its follower left on)');
    }
    let restored = false;
    for (const node of nodes.all) {
      if (original !== undefined && (await restoreNotifyKeyspaceEvents(node.conn, original))) restored = true;
    }
    if (restored) done.push(`notify-keyspace-events restored to "${original}"`);
  } catch (err) {
    return (
      `could not put the source back (${errorMessage(err)})` +
      (done.length ? ` after: ${done.join(', ')}` : '') +
      (original !== undefined ? `; set notify-keyspace-events back to "${original}" by hand` : '') +
      (last?.paused ? '; a write pause left on ends by itself within its timeout' : '')
    );
  } finally {
    nodes?.disconnect();
  }
  return done.length > 0 ? done.join('; ') : undefined;
}
