// The write pause on every source primary of a cluster (or the one server): CLIENT PAUSE WRITE on
// each node at once, each bounded by a deadline. All or nothing: when one node refuses (ACL, an old
// server) or does not answer in time (hung, stopped), every pause is lifted again (CLIENT UNPAUSE on
// each, the refusing node too in case its pause did land) and PauseNotEverywhereError says which
// node and why: a cutover must then repoint nothing. The safety timeout of each pause still lifts
// a node that could not even be told to unpause.
import type { Redis } from 'ioredis';
import { errorMessage, UserError } from '../../util/errors.js';
import { withTimeout } from '../../util/timeout.js';
import { listSourceClients, type SourceClient } from './clients.js';
import { pauseWrites, type ResumeResult, resumeWrites, type WritePause } from './pause.js';

export interface PausedNode {
  /** `host:port` of the node. */
  address: string;
  /** A connection to it (the caller's: it stays open while paused, to unpause on). */
  conn: Redis;
}

export interface EveryPause {
  nodes: { address: string; conn: Redis; pause: WritePause }[];
  startedAt: number;
}

export class PauseNotEverywhereError extends UserError {
  constructor(
    readonly failed: { address: string; reason: string }[],
    readonly liftedOn: string[],
  ) {
    super(
      `writes could not be paused on every source node: ${failed.map((f) => `${f.address}: ${f.reason}`).join('; ')}; ` +
        `the pause was lifted again on ${liftedOn.length ? liftedOn.join(', ') : 'no node'} and nothing was repointed`,
    );
    this.name = 'PauseNotEverywhereError';
  }
}

export interface PauseEveryOptions {
  /** Safety timeout of each node's pause (CLIENT PAUSE <ms>). */
  timeoutMs: number;
  /** How long each node may take to confirm its pause (default 2000 ms). */
  answerWithinMs?: number;
}

/** Pauses writes on every node, or on none (PauseNotEverywhereError). */
export async function pauseEveryNode(
  nodes: readonly PausedNode[],
  options: PauseEveryOptions,
): Promise<EveryPause> {
  const within = options.answerWithinMs ?? 2000;
  const startedAt = Date.now();
  const results = await Promise.allSettled(
    nodes.map((n) =>
      withTimeout(
        pauseWrites(n.conn, { timeoutMs: options.timeoutMs }),
        within,
        `CLIENT PAUSE on ${n.address}`,
      ),
    ),
  );
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ address: nodes[i]!.address, reason: errorMessage(r.reason) }] : [],
  );
  if (failed.length === 0) {
    return {
      startedAt,
      nodes: nodes.map((n, i) => ({ ...n, pause: (results[i] as PromiseFulfilledResult<WritePause>).value })),
    };
  }
  const lifted = await Promise.allSettled(
    nodes.map((n) => withTimeout(resumeWrites(n.conn), within, `CLIENT UNPAUSE on ${n.address}`)),
  );
  throw new PauseNotEverywhereError(
    failed,
    nodes.filter((_, i) => lifted[i]!.status === 'fulfilled').map((n) => n.address),
  );
}

export interface EveryResume {
  /** The longest pause any node saw (CLIENT PAUSE sent to CLIENT UNPAUSE answered). */
  pausedMs: number;
  perNode: Record<string, ResumeResult>;
  /** Nodes that could not be told to unpause (their safety timeout lifts the pause). */
  failed: { address: string; reason: string }[];
}

/** Lifts the pause on every node (each tried, whatever the others do). */
export async function resumeEveryNode(every: EveryPause, answerWithinMs = 2000): Promise<EveryResume> {
  const results = await Promise.allSettled(
    every.nodes.map((n) =>
      withTimeout(resumeWrites(n.conn, n.pause), answerWithinMs, `CLIENT UNPAUSE on ${n.address}`),
    ),
  );
  const perNode: Record<string, ResumeResult> = {};
  const failed: EveryResume['failed'] = [];
  results.forEach((r, i) => {
    const address = every.nodes[i]!.address;
    if (r.status === 'fulfilled') perNode[address] = r.value;
    else failed.push({ address, reason: errorMessage(r.reason) });
  });
  return { pausedMs: Math.max(0, ...Object.values(perNode).map((r) => r.pausedMs)), perNode, failed };
}

/** The drain check on every node: application connections still there, by `host:port`. */
export async function listClientsByNode(
  nodes: readonly PausedNode[],
): Promise<Record<string, SourceClient[]>> {
  const lists = await Promise.all(nodes.map((n) => listSourceClients(n.conn)));
  const out: Record<string, SourceClient[]> = {};
  nodes.forEach((n, i) => {
    out[n.address] = lists[i]!;
  });
  return out;
}

/** One line per node with clients left, for a step summary ('' when none is left anywhere). */
export function describeClientsByNode(byNode: Record<string, SourceClient[]>): string {
  return Object.entries(byNode)
    .filter(([, clients]) => clients.length > 0)
    .map(
      ([address, clients]) =>
        `${address}: ${clients.length} (${clients
          .slice(0, 5)
          .map((c) => c.addr)
          .join(', ')}${clients.length > 5 ? ', …' : ''})`,
    )
    .join('; ');
}
