// Who the source and the target are while live sync runs (src/engine/identity).
//
// The source is checked before every batch (role; run id too after any reconnect of the control
// connection), on every keyspace check and before a reconcile pass writes or deletes: a source that
// became a replica or restarted fails live sync for good (LiveSyncError.final), since following it
// would copy someone else's data or delete the target's. A target that restarted or lost most of
// its keys only needs its keys back: LiveSync asks for a reconcile pass.

import type { Redis } from 'ioredis';
import { connect } from '../../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { type DbRemap, targetDbsOf } from '../db-mapping.js';
import {
  clientInfo,
  collapsed,
  type IdentityChange,
  IdentityGuard,
  identityChange,
  readIdentity,
  ServerChangedError,
  type ServerIdentity,
} from '../identity/index.js';
import { LiveSyncError, NOTHING_MORE_APPLIED } from './live-sync-error.js';

export interface IdentityWatchOptions {
  dbs: 'all' | number[];
  remap?: DbRemap | undefined;
  /** Who the source was when the migration started; default: the source as it is now. */
  sourceIdentity?: ServerIdentity | undefined;
  /** The source is one primary of a cluster, followed on its own (live sync across topologies). */
  clusterNode?: boolean | undefined;
  /**
   * Read the target's identity (default true). Off across topologies: the target is a cluster or
   * a server whose keys come from several source nodes, so no one node's counts say it collapsed.
   */
  watchTarget?: boolean | undefined;
}

export class IdentityWatch {
  private guard: IdentityGuard | undefined;
  private reconnectedSinceCheck = false;
  /** The target as last seen: a restart or a collapse of its keys asks for a reconcile pass. */
  private targetSeen: ServerIdentity | undefined;

  private control: Redis | undefined;

  /** Until capture(), every check passes: there is nothing to compare with yet. */
  constructor(
    private readonly where: string,
    private readonly target: Endpoint,
    private readonly options: IdentityWatchOptions,
  ) {}

  /** The source's identity checked against (to be kept by whoever resumes live sync). */
  get baseline(): ServerIdentity | undefined {
    return this.guard?.baseline;
  }

  /**
   * Takes the baseline (given, or read now) and checks it at once: a follower may start after the
   * change. `control` is a connection to the source that connect() has just made ready; the source
   * is read through it from now on.
   */
  async capture(control: Redis): Promise<void> {
    this.control = control;
    // connect() resolved on the first 'ready': any later one is a reconnect, maybe to a restarted server.
    control.on('ready', () => {
      this.reconnectedSinceCheck = true;
    });
    const dbs = this.options.dbs;
    const clusterNode = this.options.clusterNode ?? false;
    const now = await readIdentity(clientInfo(control), dbs, { clusterNode });
    this.guard = new IdentityGuard({
      side: 'source',
      where: this.where,
      baseline: this.options.sourceIdentity ?? now,
      dbs,
      clusterNode,
    });
    const change = identityChange(this.guard.baseline, now);
    if (change) throw this.final(change, 'before live sync started');
    if (this.options.watchTarget === false) return;
    const target = await connect(this.target, { role: 'live-sync-control' });
    try {
      this.targetSeen = await readIdentity(clientInfo(target), targetDbsOf(this.options, dbs));
    } finally {
      target.disconnect();
    }
  }

  /** The failure for a source that changed: starting live sync again cannot help. */
  final(change: IdentityChange, when: string): LiveSyncError {
    return new LiveSyncError(this.guard!.error(change, when, NOTHING_MORE_APPLIED).message, true);
  }

  /**
   * Throws a final LiveSyncError when the source is no longer the one being migrated: role and run
   * id (key counts are judged against notifications: silent-drops.ts and checkBeforeDeletes).
   */
  async checkSource(when: string, roleOnly = false): Promise<ServerIdentity | undefined> {
    const { guard, control } = this;
    if (!guard || !control) return undefined;
    try {
      if (roleOnly) {
        await guard.checkRole(clientInfo(control), when, NOTHING_MORE_APPLIED);
        return undefined;
      }
      return await guard.check(clientInfo(control), when, NOTHING_MORE_APPLIED, false);
    } catch (err) {
      if (err instanceof ServerChangedError) throw new LiveSyncError(err.message, true);
      throw err;
    }
  }

  /**
   * Before a batch, which may delete keys the source lacks: never for a source that is now
   * someone's replica (role, one INFO), nor one that restarted (run id too, after any reconnect).
   */
  async checkBeforeBatch(): Promise<void> {
    const full = this.reconnectedSinceCheck;
    await this.checkSource('during live sync', !full);
    if (full) this.reconnectedSinceCheck = false;
  }

  /**
   * Before each page of a reconcile pass's deletions: the source's role and run id, and its key
   * count against `lastSeenKeys` (the last keyspace sample; default the baseline's): a flush since
   * would make every target key an "extra".
   */
  async checkBeforeDeletes(lastSeenKeys: number | undefined): Promise<void> {
    const when = 'during live sync, before deleting target keys the source lacks';
    const now = await this.checkSource(when);
    const seen = lastSeenKeys ?? this.guard?.baseline.keys;
    const keys = now?.keys;
    if (seen !== undefined && keys !== undefined && collapsed(seen, keys)) {
      throw this.final(
        { kind: 'dataset', detail: `lost most of its data: ${keys} keys left of ${seen} (flushed?)` },
        when,
      );
    }
  }

  /**
   * Reads the target again (its own connection: it may be down). Returns why a reconcile pass is
   * needed when it restarted or lost most of its keys, else null.
   */
  async checkTarget(): Promise<string | null> {
    const seen = this.targetSeen;
    if (!seen) return null;
    const conn = await connect(this.target, { role: 'live-sync-control', maxReconnects: 0 });
    let now: ServerIdentity;
    try {
      now = await readIdentity(clientInfo(conn), targetDbsOf(this.options, this.options.dbs));
    } finally {
      conn.disconnect();
    }
    this.targetSeen = now;
    const change = identityChange(seen, now);
    if (change && change.kind !== 'role') {
      return `the target ${describeEndpoint(this.target)} ${change.detail}: copying every key again`;
    }
    return null;
  }
}
