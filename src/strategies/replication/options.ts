// Timing of the replication steps. Defaults suit production; tests pass short ones.

import type { VerifyOptions } from '../../engine/verify/index.js';
import type { Endpoint } from '../../redis/endpoint.js';

export interface ReplicationOptions {
  /** Between two INFO polls while waiting (default 1 s). */
  pollIntervalMs?: number;
  /**
   * How long the target may go without any contact with the source (link down, no sync under
   * way, not listed by the source) before the step gives up: after REPLICAOF, and while syncing
   * (default 30 s).
   */
  linkTimeoutMs?: number;
  /** How long verify and promote wait for the replication lag to reach 0 (default 60 s). */
  lagTimeoutMs?: number;
  /** Full syncs since REPLICAOF that count as a loop (default 3: the first, and two restarts). */
  maxFullSyncs?: number;
  /** How long the drain check waits for clients to leave the source (default 5 min). */
  drainTimeoutMs?: number;
  /** Between two CLIENT LIST polls of the drain check (default 2 s). */
  drainPollMs?: number;
  /** Passed to the verify engine (e.g. shorter re-check delays). */
  verify?: Partial<Omit<VerifyOptions, 'dbs' | 'signal' | 'logger' | 'onProgress'>>;
  /**
   * The address the target uses to reach the source, when it differs from the one this worker
   * uses (NAT, private networks). Default: the source endpoint's host and port.
   */
  replicaOfAddress?: (source: Endpoint) => { host: string; port: number };
}

export type ResolvedReplicationOptions = Required<Omit<ReplicationOptions, 'verify' | 'replicaOfAddress'>> &
  Pick<ReplicationOptions, 'verify'> & {
    replicaOfAddress: (source: Endpoint) => { host: string; port: number };
  };

export function resolveOptions(options: ReplicationOptions = {}): ResolvedReplicationOptions {
  return {
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    linkTimeoutMs: options.linkTimeoutMs ?? 30_000,
    lagTimeoutMs: options.lagTimeoutMs ?? 60_000,
    maxFullSyncs: options.maxFullSyncs ?? 3,
    drainTimeoutMs: options.drainTimeoutMs ?? 300_000,
    drainPollMs: options.drainPollMs ?? 2000,
    verify: options.verify,
    replicaOfAddress: options.replicaOfAddress ?? ((s) => ({ host: s.host, port: s.port })),
  };
}
