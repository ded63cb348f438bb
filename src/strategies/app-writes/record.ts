// The record of keys written on the target after the repoint, on the control Redis, so the final
// check (on any worker) can tell the apps' writes from real differences:
//   <prefix>:mig:<id>:app-writes       SET of key names (raw bytes) the target reported changed
//   <prefix>:mig:<id>:app-writes:meta  HASH: startedMs, owner, heartbeatMs, stopRequested, stoppedMs,
//                                      incomplete (why the record may miss writes), keys
import type { Redis } from 'ioredis';
import type { MigrationStore } from '../../runbook/store.js';

/** Past this many distinct keys the record stops growing and says it is incomplete. */
export const MAX_RECORDED_KEYS = 2_000_000;
/** A watch that has not written for this long is taken for gone (worker died): writes may be missing. */
export const WATCH_SILENT_AFTER_MS = 15_000;
const RECORD_TTL_S = 7 * 24 * 3600;

export interface AppWriteMeta {
  startedMs: number;
  owner: string;
  heartbeatMs: number;
  stopRequested: boolean;
  stoppedMs: number | null;
  /** Why writes after the repoint may be missing from the record (it cannot explain differences then). */
  incomplete: string | null;
  /** Distinct keys recorded. */
  keys: number;
}

/** KEYS: set, meta. ARGV: cap, nowMs, ttl, key... Adds keys unless past the cap; beats the heartbeat. */
const ADD = `
local n = redis.call('SCARD', KEYS[1])
local cap = tonumber(ARGV[1])
if #ARGV > 3 then
  if n + #ARGV - 3 > cap then
    redis.call('HSETNX', KEYS[2], 'incomplete', 'more than ' .. ARGV[1] .. ' keys were written after the repoint')
  else
    redis.call('SADD', KEYS[1], unpack(ARGV, 4))
    n = redis.call('SCARD', KEYS[1])
  end
end
redis.call('HSET', KEYS[2], 'heartbeatMs', ARGV[2], 'keys', tostring(n))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return redis.call('HGET', KEYS[2], 'stopRequested') or '0'
`;

export class AppWriteRecord {
  readonly redis: Redis;

  constructor(
    readonly migrations: MigrationStore,
    private readonly now: () => number = Date.now,
  ) {
    this.redis = migrations.redis;
    this.redis.defineCommand('mbAppWritesAdd', { numberOfKeys: 2, lua: ADD });
  }

  private keys(migrationId: string): [string, string] {
    const base = `${this.migrations.key(migrationId)}:app-writes`;
    return [base, `${base}:meta`];
  }

  /**
   * Starts the record for a watch owned by `owner`. A record whose watch is still alive is kept
   * (false: do not start another); one whose watch went silent is marked incomplete and taken over.
   */
  async begin(migrationId: string, owner: string): Promise<boolean> {
    const [, meta] = this.keys(migrationId);
    const existing = await this.read(migrationId);
    const now = this.now();
    if (existing && existing.stoppedMs === null && now - existing.heartbeatMs < WATCH_SILENT_AFTER_MS) {
      return existing.owner === owner;
    }
    if (existing) {
      const why =
        existing.stoppedMs !== null
          ? 'the record was stopped and started again'
          : `the watch of ${existing.owner} went silent at ${new Date(existing.heartbeatMs).toISOString()}`;
      await this.markIncomplete(migrationId, why);
      await this.redis.hset(meta, { owner, heartbeatMs: now, stoppedMs: '', stopRequested: '0' });
      return true;
    }
    await this.redis.hset(meta, { startedMs: now, owner, heartbeatMs: now, stopRequested: '0' });
    await this.redis.expire(meta, RECORD_TTL_S);
    return true;
  }

  /** Adds keys (and beats the heartbeat); says whether the final check asked the watch to stop. */
  async add(migrationId: string, keys: Buffer[]): Promise<{ stopRequested: boolean }> {
    const [set, meta] = this.keys(migrationId);
    const redis = this.redis as unknown as {
      mbAppWritesAdd(...args: (string | number | Buffer)[]): Promise<string>;
    };
    const stop = await redis.mbAppWritesAdd(set, meta, MAX_RECORDED_KEYS, this.now(), RECORD_TTL_S, ...keys);
    return { stopRequested: stop === '1' };
  }

  async markIncomplete(migrationId: string, why: string): Promise<void> {
    await this.redis.hsetnx(this.keys(migrationId)[1], 'incomplete', why);
  }

  async requestStop(migrationId: string): Promise<void> {
    await this.redis.hset(this.keys(migrationId)[1], 'stopRequested', '1');
  }

  async markStopped(migrationId: string): Promise<void> {
    await this.redis.hset(this.keys(migrationId)[1], 'stoppedMs', this.now());
  }

  async read(migrationId: string): Promise<AppWriteMeta | undefined> {
    const h = await this.redis.hgetall(this.keys(migrationId)[1]);
    if (!h.startedMs) return undefined;
    return {
      startedMs: Number(h.startedMs),
      owner: h.owner ?? '',
      heartbeatMs: Number(h.heartbeatMs ?? 0),
      stopRequested: h.stopRequested === '1',
      stoppedMs: h.stoppedMs ? Number(h.stoppedMs) : null,
      incomplete: h.incomplete || null,
      keys: Number(h.keys ?? 0),
    };
  }

  /** Which of these key names were written on the target after the repoint. */
  async contains(migrationId: string, keys: Buffer[]): Promise<boolean[]> {
    const out: boolean[] = [];
    const [set] = this.keys(migrationId);
    for (let i = 0; i < keys.length; i += 1000) {
      const page = keys.slice(i, i + 1000);
      const replies = (await this.redis.call('SMISMEMBER', set, ...page)) as number[];
      for (const r of replies) out.push(r === 1);
    }
    return out;
  }
}
