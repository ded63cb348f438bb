// resume_writes, the end of the write pause, in the order that loses no write: the application
// connections still on the source are killed first (their writes wait under the pause and would
// run on the source after it, never reaching the target), the last changes are applied and live
// sync stops, notify-keyspace-events is put back, and only then is the pause lifted. The report
// says what was killed, what connected anyway, and how long writes waited.

import {
  killClients,
  listClientsByNode,
  listSourceClients,
  type PausedNode,
  type SourceClient,
} from '../../engine/cutover/index.js';
import { errorMessage } from '../../util/errors.js';
import type { LiveFeed } from './live-feed.js';
import type { PauseLease } from './pause-lease.js';
import type { ResumeReport, SourceClientSummary } from './types.js';

export interface ResumeSteps {
  /** Every source node (one for a standalone source): stale clients are killed on each. */
  nodes: PausedNode[];
  killStaleClients: boolean;
  lease: PauseLease;
  liveSync: LiveFeed | undefined;
  drainTimeoutMs: number;
  /** Stops live sync gracefully (applying what it received); false: it ended with a gap. */
  stopLiveSync: () => Promise<boolean | undefined>;
  restoreNotify: () => Promise<void>;
  /** Lifts the pause; returns how long it lasted. */
  unpause: () => Promise<number>;
}

/** Resumes writes; `warnings` are this resume's own (the follower adds the run's earlier ones). */
export async function resumeSourceWrites(steps: ResumeSteps): Promise<ResumeReport> {
  const { nodes, lease, liveSync } = steps;
  const warnings: string[] = [];
  const killed: SourceClient[] = [];
  if (steps.killStaleClients) {
    for (const node of nodes) {
      try {
        const stale = await listSourceClients(node.conn);
        const result = await killClients(node.conn, stale);
        killed.push(...stale.filter((c) => !result.refused.includes(c)));
      } catch (err) {
        const where = nodes.length > 1 ? ` on ${node.address}` : '';
        warnings.push(`could not kill stale source connections${where}: ${errorMessage(err)}`);
      }
    }
  }
  if (liveSync?.attached && lease.lapsed) {
    // Writes may have reached the source while the pause was off: apply them before stopping.
    await liveSync.drain(steps.drainTimeoutMs).catch((err) => {
      warnings.push(`the extra drain after the pause lapsed failed: ${errorMessage(err)}`);
    });
  }
  if ((await steps.stopLiveSync()) === false) {
    warnings.push(
      'live sync reported a gap it could not reconcile before stopping: check the final verification',
    );
  }
  await steps.restoreNotify();
  let byNode: Record<string, SourceClient[]> = {};
  try {
    byNode = await listClientsByNode(nodes);
  } catch {
    // Only for the report.
  }
  const remaining = Object.values(byNode).flat();
  if (remaining.length > 0) {
    const where =
      nodes.length > 1
        ? ` (${Object.entries(byNode)
            .filter(([, c]) => c.length > 0)
            .map(([address, c]) => `${address}: ${c.length}`)
            .join(', ')})`
        : '';
    warnings.push(
      `${remaining.length} application connection(s) reached the source after the kill${where}; their writes, if ` +
        'any, will not reach the target',
    );
  }
  const startedMs = lease.startedAtMs;
  const pausedMs = await steps.unpause();
  return {
    pausedMs,
    pauseStartedAt: startedMs === undefined ? '' : new Date(startedMs).toISOString(),
    resumedAt: new Date().toISOString(),
    killed: killed.map(summary),
    clientsRemaining: remaining.map(summary),
    ...(nodes.length > 1
      ? {
          clientsRemainingByNode: Object.fromEntries(
            Object.entries(byNode).map(([address, c]) => [address, c.map(summary)]),
          ),
        }
      : {}),
    pauseLapsed: lease.lapsed,
    warnings,
  };
}

function summary(c: SourceClient): SourceClientSummary {
  return { id: c.id, addr: c.addr, name: c.name, lastCommand: c.lastCommand };
}
