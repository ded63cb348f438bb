// MigrationStore: migrations, fencing tokens, checkpoints, progress and audit streams on the
// control Redis. Every write that changes a migration is one Lua script (compare-and-set on the
// document's version), so concurrent writers can never both win.
import type { Redis } from 'ioredis';
import { scrubDeep } from '../util/secrets.js';
import type { AuditEvent } from './events.js';
import { parseLockUnit } from './locks.js';
import type { Migration, ProgressUpdate } from './model.js';
import { APPEND, APPEND_ONCE, CLEAR_LOCK, COMMIT, FENCED_HSET, HEARTBEAT } from './scripts.js';

export interface StoreOptions {
  /** Key prefix (default `mb`). */
  prefix?: string;
  /** Approximate length cap of the global events stream (default 100,000). */
  globalEventsMaxLen?: number;
}

export interface ClaimSpec {
  stepId: string;
  /** The epoch read with the document; the claim raises it by one. */
  epoch: number;
  leaseMs: number;
  owner: string;
  /** Only take the step if the current holder's lease has run out (takeover). */
  requireExpired: boolean;
}

export interface CommitOptions {
  claim?: ClaimSpec;
  /** Drop the lease of this epoch so another worker may claim at once. */
  release?: { stepId: string; epoch: number };
  /** Raises the abort flag that running workers poll. */
  abort?: { userId: string; at: string };
  /** Keep the migration in the set of active ones (swept for expiry and repairs). */
  active?: boolean;
  /** New migration: fail if the id exists, add it to the index. */
  create?: boolean;
  /** Server lock units to take (all or none: the commit fails with `locked` if one is held). */
  lock?: readonly string[];
  /** Server lock units to give back (those this migration still holds). */
  unlock?: readonly string[];
}

export type CommitResult =
  | { ok: true; version: number; eventIds: string[] }
  | { ok: false; reason: 'conflict' | 'exists' }
  | { ok: false; reason: 'busy'; retryInMs: number }
  | { ok: false; reason: 'locked'; holderId: string; unit: string };

/** lost: the migration's fence is gone (the control Redis restarted empty, or it was deleted). */
export type HeartbeatResult = 'ok' | 'fenced' | 'aborted' | 'lost';

export class MigrationStore {
  readonly prefix: string;
  private readonly maxLen: number;

  constructor(
    readonly redis: Redis,
    options: StoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'mb';
    this.maxLen = options.globalEventsMaxLen ?? 100_000;
    redis.defineCommand('mbCommit', { numberOfKeys: 6, lua: COMMIT });
    redis.defineCommand('mbHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    redis.defineCommand('mbFencedHset', { numberOfKeys: 2, lua: FENCED_HSET });
    redis.defineCommand('mbAppend', { numberOfKeys: 2, lua: APPEND });
    redis.defineCommand('mbClearLock', { numberOfKeys: 1, lua: CLEAR_LOCK });
    redis.defineCommand('mbAppendOnce', { numberOfKeys: 3, lua: APPEND_ONCE });
  }

  private get scripts(): RedisWithScripts {
    return this.redis as unknown as RedisWithScripts;
  }

  // Key layout. The control Redis is a single server (not a cluster), so scripts may touch
  // keys of different migrations and the global stream together.
  key(id: string, part?: 'fence' | 'cp' | 'progress' | 'events' | 'noted'): string {
    return part ? `${this.prefix}:mig:${id}:${part}` : `${this.prefix}:mig:${id}`;
  }
  get globalEventsKey(): string {
    return `${this.prefix}:events`;
  }
  get indexKey(): string {
    return `${this.prefix}:migrations`;
  }
  get activeKey(): string {
    return `${this.prefix}:migrations:active`;
  }
  /** The hash of one server's locks: field = db or '*', value = the holding migration's id. */
  lockKey(server: string): string {
    return `${this.prefix}:lock:${server}`;
  }
  get abortChannel(): string {
    return `${this.prefix}:abort`;
  }
  get progressChannel(): string {
    return `${this.prefix}:progress`;
  }

  /** The migration at its current version, or undefined. */
  async get(id: string, options: { checkpoints?: boolean } = {}): Promise<Migration | undefined> {
    const multi = this.redis.multi().hmget(this.key(id), 'doc', 'version');
    if (options.checkpoints) multi.hgetall(this.key(id, 'cp'));
    const res = await multi.exec();
    const [doc, version] = (res?.[0]?.[1] as [string | null, string | null]) ?? [null, null];
    if (!doc || version === null) return undefined;
    const migration = JSON.parse(doc) as Migration;
    migration.version = Number(version);
    if (options.checkpoints) {
      const cps = (res?.[1]?.[1] as Record<string, string>) ?? {};
      for (const step of migration.steps) {
        if (cps[step.id] !== undefined) {
          step.checkpoint = JSON.parse(cps[step.id]!);
          step.checkpointAt = cps[`${step.id}|at`];
        }
      }
    }
    return migration;
  }

  /** Newest first. */
  async list(options: { limit?: number; activeOnly?: boolean } = {}): Promise<Migration[]> {
    const ids = options.activeOnly
      ? await this.redis.smembers(this.activeKey)
      : await this.redis.zrevrange(this.indexKey, 0, (options.limit ?? 50) - 1);
    const found = await Promise.all(ids.map((id) => this.get(id)));
    const out = found.filter((m): m is Migration => m !== undefined);
    out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return options.limit ? out.slice(0, options.limit) : out;
  }

  /**
   * Writes `next` if the stored version is still `expectedVersion` (-1 for a new migration),
   * together with its events and fencing changes, all or nothing.
   */
  async commit(
    next: Migration,
    expectedVersion: number,
    events: AuditEvent[],
    options: CommitOptions = {},
  ): Promise<CommitResult> {
    const id = next.id;
    const control: Record<string, unknown> = {
      v: options.create ? -1 : expectedVersion,
      id,
      maxlen: this.maxLen,
    };
    if (options.create) control.created = Date.parse(next.createdAt);
    if (options.active !== undefined) control.active = options.active;
    if (options.claim) {
      const c = options.claim;
      control.claim = {
        step: c.stepId,
        epoch: c.epoch,
        lease: c.leaseMs,
        owner: c.owner,
        requireExpired: c.requireExpired,
      };
    }
    if (options.lock?.length) control.lock = this.lockSpecs(options.lock);
    if (options.unlock?.length) control.unlock = this.lockSpecs(options.unlock);
    if (options.release) control.release = { step: options.release.stepId, epoch: options.release.epoch };
    if (options.abort) {
      const flag = JSON.stringify(options.abort);
      control.abort = flag;
      control.publish = [this.abortChannel, JSON.stringify({ migrationId: id, ...options.abort })];
    }
    const doc = { ...next, version: options.create ? 0 : expectedVersion + 1 };
    for (const step of doc.steps) {
      // Checkpoints live in their own hash; never copy them into the document.
      delete step.checkpoint;
      delete step.checkpointAt;
    }
    const res = (await this.scripts.mbCommit(
      this.key(id),
      this.key(id, 'fence'),
      this.key(id, 'events'),
      this.globalEventsKey,
      this.indexKey,
      this.activeKey,
      JSON.stringify(control),
      JSON.stringify(scrubDeep(doc)),
      ...events.map((e) => JSON.stringify(scrubDeep(e))),
    )) as string[];
    switch (res[0]) {
      case 'ok':
        return { ok: true, version: Number(res[1]), eventIds: res.slice(2) };
      case 'busy':
        return { ok: false, reason: 'busy', retryInMs: Number(res[1]) };
      case 'exists':
        return { ok: false, reason: 'exists' };
      case 'locked':
        return { ok: false, reason: 'locked', holderId: String(res[1]), unit: String(res[2]) };
      default:
        return { ok: false, reason: 'conflict' };
    }
  }

  private lockSpecs(units: readonly string[]): { k: string; f: string; u: string }[] {
    return units.map((u) => {
      const parsed = parseLockUnit(u);
      if (!parsed) throw new Error(`not a lock unit: ${u}`);
      return { k: this.lockKey(parsed.server), f: parsed.db, u };
    });
  }

  /** Who holds which databases of a server: unit -> migration id. */
  async locksOf(server: string): Promise<Map<string, string>> {
    const held = await this.redis.hgetall(this.lockKey(server));
    return new Map(Object.entries(held).map(([db, id]) => [`${server}/${db}`, id]));
  }

  /** Clears a lock unit if `holderId` still holds it; true when it did. */
  async clearLock(unit: string, holderId: string): Promise<boolean> {
    const parsed = parseLockUnit(unit);
    if (!parsed) return false;
    return (await this.scripts.mbClearLock(this.lockKey(parsed.server), parsed.db, holderId)) === 1;
  }

  async heartbeat(id: string, stepId: string, epoch: number, leaseMs: number): Promise<HeartbeatResult> {
    return (await this.scripts.mbHeartbeat(
      this.key(id, 'fence'),
      stepId,
      String(epoch),
      String(leaseMs),
    )) as HeartbeatResult;
  }

  /** Saves a checkpoint if `epoch` still holds the step; false when fenced out. */
  async saveCheckpoint(id: string, stepId: string, epoch: number, checkpoint: unknown): Promise<boolean> {
    const res = await this.scripts.mbFencedHset(
      this.key(id, 'fence'),
      this.key(id, 'cp'),
      stepId,
      String(epoch),
      JSON.stringify(scrubDeep(checkpoint) ?? null),
      new Date().toISOString(),
      '',
    );
    return res === 'ok';
  }

  async getCheckpoint(id: string, stepId: string): Promise<unknown | undefined> {
    const raw = await this.redis.hget(this.key(id, 'cp'), stepId);
    return raw === null ? undefined : JSON.parse(raw);
  }

  /** Stores and publishes progress if `epoch` still holds the step. */
  async saveProgress(id: string, stepId: string, epoch: number, update: ProgressUpdate): Promise<boolean> {
    const res = await this.scripts.mbFencedHset(
      this.key(id, 'fence'),
      this.key(id, 'progress'),
      stepId,
      String(epoch),
      JSON.stringify(scrubDeep(update)),
      update.at,
      this.progressChannel,
    );
    return res === 'ok';
  }

  async getProgress(id: string): Promise<Record<string, ProgressUpdate>> {
    const raw = await this.redis.hgetall(this.key(id, 'progress'));
    const out: Record<string, ProgressUpdate> = {};
    for (const [field, value] of Object.entries(raw)) {
      if (!field.includes('|')) out[field] = JSON.parse(value) as ProgressUpdate;
    }
    return out;
  }

  /** Who holds a step and until when (server time, ms), for status displays and tests. */
  async lease(id: string, stepId: string): Promise<{ epoch: number; leaseUntil: number; owner?: string }> {
    const [epoch, lease, owner] = await this.redis.hmget(
      this.key(id, 'fence'),
      stepId,
      `${stepId}|lease`,
      `${stepId}|owner`,
    );
    return { epoch: Number(epoch ?? 0), leaseUntil: Number(lease ?? 0), ...(owner ? { owner } : {}) };
  }

  /** Appends events that are not part of a transition (refusals, notes from fenced workers). */
  async append(id: string, events: AuditEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    return (await this.scripts.mbAppend(
      this.key(id, 'events'),
      this.globalEventsKey,
      String(this.maxLen),
      ...events.map((e) => JSON.stringify(scrubDeep(e))),
    )) as string[];
  }

  /**
   * Appends `event` unless one with the same `dedupe` key was appended to this migration before
   * (atomically, so concurrent clicks record it once). Returns whether it was appended.
   */
  async appendOnce(id: string, dedupe: string, event: AuditEvent): Promise<boolean> {
    const res = await this.scripts.mbAppendOnce(
      this.key(id, 'events'),
      this.globalEventsKey,
      this.key(id, 'noted'),
      String(this.maxLen),
      dedupe,
      JSON.stringify(scrubDeep(event)),
    );
    return res !== null;
  }

  /** The migration's events in order, from after `afterId` (exclusive). */
  async events(id: string, options: { afterId?: string; count?: number } = {}): Promise<AuditEvent[]> {
    const start = options.afterId ? `(${options.afterId}` : '-';
    const entries = options.count
      ? await this.redis.xrange(this.key(id, 'events'), start, '+', 'COUNT', options.count)
      : await this.redis.xrange(this.key(id, 'events'), start, '+');
    return entries.map(([entryId, fields]) => parseEntry(entryId, fields));
  }
}

/** Turns a stream entry (`e` = JSON event, `ref` = per-migration id on the global stream) into an event. */
export function parseEntry(entryId: string, fields: string[]): AuditEvent {
  let json = '{}';
  let ref: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'e') json = fields[i + 1]!;
    if (fields[i] === 'ref') ref = fields[i + 1];
  }
  const event = JSON.parse(json) as AuditEvent;
  event.id = ref ?? entryId;
  return event;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;
interface RedisWithScripts {
  mbCommit: ScriptFn;
  mbHeartbeat: ScriptFn;
  mbFencedHset: ScriptFn;
  mbAppend: ScriptFn;
  mbClearLock: ScriptFn;
  mbAppendOnce: ScriptFn;
}
