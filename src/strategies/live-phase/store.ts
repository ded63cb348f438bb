// The follower's record on the control Redis, one hash per migration (`<prefix>:mig:<id>:follower`):
//   run, epoch, lease, owner   which run is current and who holds it (fencing, like step claims)
//   status                     the current run's FollowerStatus (JSON), written only by its holder
//   cmd, cmdseq                the goal (FollowerCommand JSON) and the command counter
//   reconcile                  whether the run was launched needing a reconcile pass
//   prev-status                the last status of the previous run (kept when a new run starts)
//   notify-original            notify-keyspace-events before the migration changed it
//   psync-resume               a psync feed's applied (replid, offset) (PsyncResumePoint JSON),
//                              kept across runs: the next holder continues with PSYNC from it
// Every write that depends on who holds what is one Lua script, so a worker that stalled and woke up
// cannot write over the one that took its run over.
import type { Redis } from 'ioredis';
import type { AuditEvent } from '../../runbook/events.js';
import type { MigrationStore } from '../../runbook/store.js';
import { scrubDeep } from '../../util/secrets.js';
import type {
  ClaimResult,
  FollowerChannel,
  FollowerCommand,
  FollowerGoal,
  FollowerRef,
  FollowerStatus,
  HeartbeatResult,
  PsyncResumePoint,
  PublishResult,
} from './types.js';

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

const GOAL_RANK = `
local rank = {collect = 1, follow = 2, pause = 3, resume = 4, stop = 5, abort = 6}
`;

/** KEYS: follower. ARGV: expectedRun, goal, at, by, reconcile (0|1), channel, migrationId. */
const START_RUN = `
local run = tonumber(redis.call('HGET', KEYS[1], 'run') or '0')
if run ~= tonumber(ARGV[1]) then return {'conflict', tostring(run)} end
local seq = redis.call('HINCRBY', KEYS[1], 'cmdseq', 1)
local cmd = cjson.encode({seq = seq, goal = ARGV[2], at = ARGV[3], by = ARGV[4]})
local last = redis.call('HGET', KEYS[1], 'status')
if last then redis.call('HSET', KEYS[1], 'prev-status', last) end
redis.call('HDEL', KEYS[1], 'status', 'status-at')
redis.call('HSET', KEYS[1], 'run', tostring(run + 1), 'epoch', '0', 'lease', '0', 'owner', '', 'cmd', cmd,
  'reconcile', ARGV[5])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return {'ok', tostring(run + 1), tostring(seq)}
`;

/**
 * A goal for the current run; never a step back (a goal of lower rank than the current one is kept
 * as it is). The same goal again gets a new seq: the follower tries again a goal it gave up on. KEYS: follower. ARGV: goal, at, by, channel, migrationId, expectedRun ('' = any).
 * Returns {'ok'|'kept', run, seq} | {'norun'} | {'conflict', run}.
 */
const COMMAND = `
${GOAL_RANK}
local run = tonumber(redis.call('HGET', KEYS[1], 'run') or '0')
if run == 0 then return {'norun'} end
if ARGV[6] ~= '' and tonumber(ARGV[6]) ~= run then return {'conflict', tostring(run)} end
local current = redis.call('HGET', KEYS[1], 'cmd')
if current then
  local c = cjson.decode(current)
  if rank[c.goal] and rank[ARGV[1]] and rank[ARGV[1]] < rank[c.goal] then
    return {'kept', tostring(run), tostring(c.seq)}
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 'cmdseq', 1)
redis.call('HSET', KEYS[1], 'cmd', cjson.encode({seq = seq, goal = ARGV[1], at = ARGV[2], by = ARGV[3]}))
redis.call('PUBLISH', ARGV[4], ARGV[5])
return {'ok', tostring(run), tostring(seq)}
`;

/** KEYS: follower. ARGV: run, owner, leaseMs. */
const CLAIM = `
${NOW_MS}
local run = tonumber(redis.call('HGET', KEYS[1], 'run') or '0')
if run ~= tonumber(ARGV[1]) then return {'stale'} end
local status = redis.call('HGET', KEYS[1], 'status')
if status then
  local st = cjson.decode(status).state
  if st == 'stopped' or st == 'failed' then return {'done'} end
end
local lease = tonumber(redis.call('HGET', KEYS[1], 'lease') or '0')
if lease > now then return {'busy', tostring(lease - now)} end
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'lease', tostring(now + tonumber(ARGV[3])), 'owner', ARGV[2])
return {'ok', tostring(epoch), status or '', redis.call('HGET', KEYS[1], 'cmd') or '',
  redis.call('HGET', KEYS[1], 'reconcile') or '0'}
`;

/**
 * KEYS: follower, migration fence. ARGV: run, epoch, leaseMs. 'lost' when the follower record is
 * gone (the control Redis restarted empty, or someone deleted it): nobody can take the run over
 * then, so the holder must undo what it did on the source. (A migration deleted on its own is
 * seen by the follower's loop, which reads it.)
 */
const HEARTBEAT = `
${NOW_MS}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'lost' end
if tonumber(redis.call('HGET', KEYS[1], 'run') or '0') ~= tonumber(ARGV[1]) or
   tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0') ~= tonumber(ARGV[2]) then
  return 'fenced'
end
redis.call('HSET', KEYS[1], 'lease', tostring(now + tonumber(ARGV[3])))
if redis.call('HEXISTS', KEYS[2], 'abort') == 1 then return 'aborted' end
return 'ok'
`;

/**
 * KEYS: follower. ARGV: run, epoch, status JSON, release (0|1). 'lost' when the record is gone, as
 * the heartbeat says it: a status write is often the first to reach a control Redis restarted empty,
 * and taking that for a takeover would leave the source paused for a holder that never comes.
 */
const PUBLISH_STATUS = `
${NOW_MS}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'lost' end
if tonumber(redis.call('HGET', KEYS[1], 'run') or '0') ~= tonumber(ARGV[1]) or
   tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0') ~= tonumber(ARGV[2]) then
  return 'fenced'
end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'status-at', tostring(now))
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'lease', '0') end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 'ok'
`;

/** KEYS: follower. ARGV: run, epoch, resume point JSON. */
const SAVE_PSYNC_RESUME = `
if tonumber(redis.call('HGET', KEYS[1], 'run') or '0') ~= tonumber(ARGV[1]) or
   tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0') ~= tonumber(ARGV[2]) then
  return 'fenced'
end
redis.call('HSET', KEYS[1], 'psync-resume', ARGV[3])
return 'ok'
`;

/** The record, with the status's age on the server's clock. KEYS: follower. */
const READ = `
${NOW_MS}
local v = redis.call('HMGET', KEYS[1], 'run', 'status', 'cmd', 'prev-status', 'status-at')
local age = ''
if v[5] then age = tostring(now - tonumber(v[5])) end
return {v[1] or '', v[2] or '', v[3] or '', v[4] or '', age}
`;

/** What executors read. */
export interface FollowerRecord {
  /** 0 when no follower was ever started for the migration. */
  run: number;
  status: FollowerStatus | undefined;
  command: FollowerCommand | undefined;
  /** The last status of the run before this one. */
  previous: FollowerStatus | undefined;
  /**
   * How long ago (server clock) the status was published. A follower publishes every status
   * interval: an old status may be the last word of a follower that died.
   */
  statusAgeMs: number | undefined;
}

export type CommandResult =
  | { kind: 'ok' | 'kept'; run: number; seq: number }
  | { kind: 'norun' }
  | { kind: 'conflict'; run: number };

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;
interface WithScripts {
  mbFollowerStartRun: ScriptFn;
  mbFollowerCommand: ScriptFn;
  mbFollowerClaim: ScriptFn;
  mbFollowerHeartbeat: ScriptFn;
  mbFollowerStatus: ScriptFn;
  mbFollowerRead: ScriptFn;
  mbFollowerPsyncResume: ScriptFn;
}

export class FollowerStore implements FollowerChannel {
  readonly redis: Redis;
  private statusListeners:
    | { listeners: Map<string, Set<() => void>>; sub: Redis; ready: Promise<void> }
    | undefined;

  constructor(
    readonly migrations: MigrationStore,
    private readonly now: () => number = Date.now,
  ) {
    this.redis = migrations.redis;
    this.redis.defineCommand('mbFollowerStartRun', { numberOfKeys: 1, lua: START_RUN });
    this.redis.defineCommand('mbFollowerCommand', { numberOfKeys: 1, lua: COMMAND });
    this.redis.defineCommand('mbFollowerClaim', { numberOfKeys: 1, lua: CLAIM });
    this.redis.defineCommand('mbFollowerHeartbeat', { numberOfKeys: 2, lua: HEARTBEAT });
    this.redis.defineCommand('mbFollowerStatus', { numberOfKeys: 1, lua: PUBLISH_STATUS });
    this.redis.defineCommand('mbFollowerRead', { numberOfKeys: 1, lua: READ });
    this.redis.defineCommand('mbFollowerPsyncResume', { numberOfKeys: 1, lua: SAVE_PSYNC_RESUME });
  }

  private get scripts(): WithScripts {
    return this.redis as unknown as WithScripts;
  }

  key(migrationId: string): string {
    return `${this.migrations.key(migrationId)}:follower`;
  }

  /** Pub/sub channel of command nudges (message: the migration id). */
  get channel(): string {
    return `${this.migrations.prefix}:follower`;
  }

  async read(migrationId: string): Promise<FollowerRecord> {
    const [run, status, cmd, prev, age] = (await this.scripts.mbFollowerRead(
      this.key(migrationId),
    )) as string[];
    return {
      run: Number(run || 0),
      status: status ? (JSON.parse(status) as FollowerStatus) : undefined,
      command: cmd ? (JSON.parse(cmd) as FollowerCommand) : undefined,
      previous: prev ? (JSON.parse(prev) as FollowerStatus) : undefined,
      statusAgeMs: status && age ? Number(age) : undefined,
    };
  }

  /**
   * Starts run `expectedRun + 1` with this goal, if `expectedRun` is still the current run (two
   * steps racing to start one both see the same winner). Returns the run now current.
   */
  async startRun(
    migrationId: string,
    expectedRun: number,
    goal: FollowerGoal,
    by: string,
    reconcile: boolean,
  ): Promise<{ started: boolean; run: number }> {
    const res = (await this.scripts.mbFollowerStartRun(
      this.key(migrationId),
      String(expectedRun),
      goal,
      this.iso(),
      by,
      reconcile ? '1' : '0',
      this.channel,
      migrationId,
    )) as string[];
    return { started: res[0] === 'ok', run: Number(res[1]) };
  }

  /** The current run's goal. */
  async command(migrationId: string): Promise<FollowerCommand | undefined> {
    return (await this.read(migrationId)).command;
  }

  /** Sets the goal of the current run (never a step back) and nudges its follower. */
  async setGoal(
    migrationId: string,
    goal: FollowerGoal,
    by: string,
    expectedRun?: number,
  ): Promise<CommandResult> {
    const res = (await this.scripts.mbFollowerCommand(
      this.key(migrationId),
      goal,
      this.iso(),
      by,
      this.channel,
      migrationId,
      expectedRun === undefined ? '' : String(expectedRun),
    )) as string[];
    if (res[0] === 'norun') return { kind: 'norun' };
    if (res[0] === 'conflict') return { kind: 'conflict', run: Number(res[1]) };
    return { kind: res[0] as 'ok' | 'kept', run: Number(res[1]), seq: Number(res[2]) };
  }

  // ---- the follower's side (FollowerChannel) -------------------------------------------------

  async claim(ref: FollowerRef, owner: string, leaseMs: number): Promise<ClaimResult> {
    const res = (await this.scripts.mbFollowerClaim(
      this.key(ref.migrationId),
      String(ref.run),
      owner,
      String(leaseMs),
    )) as string[];
    switch (res[0]) {
      case 'stale':
        return { kind: 'stale' };
      case 'done':
        return { kind: 'done' };
      case 'busy':
        return { kind: 'busy', retryInMs: Number(res[1]) };
    }
    const command = res[3]
      ? (JSON.parse(res[3]) as FollowerCommand)
      : { seq: 0, goal: 'follow' as const, at: this.iso(), by: 'system' };
    return {
      kind: 'claimed',
      epoch: Number(res[1]),
      previous: res[2] ? (JSON.parse(res[2]) as FollowerStatus) : undefined,
      command,
      reconcile: res[4] === '1',
    };
  }

  async heartbeat(ref: FollowerRef, epoch: number, leaseMs: number): Promise<HeartbeatResult> {
    return (await this.scripts.mbFollowerHeartbeat(
      this.key(ref.migrationId),
      this.migrations.key(ref.migrationId, 'fence'),
      String(ref.run),
      String(epoch),
      String(leaseMs),
    )) as HeartbeatResult;
  }

  async publish(
    ref: FollowerRef,
    epoch: number,
    status: FollowerStatus,
    release = false,
  ): Promise<PublishResult> {
    const res = await this.scripts.mbFollowerStatus(
      this.key(ref.migrationId),
      String(ref.run),
      String(epoch),
      JSON.stringify(scrubDeep(status)),
      release ? '1' : '0',
      this.statusChannel,
      ref.migrationId,
    );
    return res as PublishResult;
  }

  /** Pub/sub channel on which every status publication is announced (message: the migration id). */
  get statusChannel(): string {
    return `${this.channel}:status`;
  }

  /**
   * Calls `handler` each time the follower of this migration publishes a status, until the returned
   * function is called; ready once subscribed. One connection serves every listener of this store.
   */
  async onStatus(migrationId: string, handler: () => void): Promise<() => void> {
    if (!this.statusListeners) {
      const listeners = new Map<string, Set<() => void>>();
      const sub = this.redis.duplicate();
      sub.on('error', () => {});
      sub.on('message', (_channel: string, id: string) => {
        for (const h of listeners.get(id) ?? []) h();
      });
      this.statusListeners = {
        listeners,
        sub,
        ready: sub.subscribe(this.statusChannel).then(() => undefined),
      };
    }
    const state = this.statusListeners;
    let set = state.listeners.get(migrationId);
    if (!set) {
      set = new Set();
      state.listeners.set(migrationId, set);
    }
    set.add(handler);
    const remove = () => {
      const current = state.listeners.get(migrationId);
      current?.delete(handler);
      if (current?.size === 0) state.listeners.delete(migrationId);
      if (state.listeners.size === 0 && this.statusListeners === state) {
        this.statusListeners = undefined;
        state.sub.disconnect();
      }
    };
    try {
      await state.ready;
    } catch (err) {
      remove();
      throw err;
    }
    return remove;
  }

  async rememberNotifyOriginal(migrationId: string, value: string): Promise<string> {
    await this.redis.hsetnx(this.key(migrationId), 'notify-original', value);
    return (await this.redis.hget(this.key(migrationId), 'notify-original')) ?? value;
  }

  async notifyOriginal(migrationId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.key(migrationId), 'notify-original')) ?? undefined;
  }

  async savePsyncResume(ref: FollowerRef, epoch: number, point: PsyncResumePoint): Promise<boolean> {
    const res = await this.scripts.mbFollowerPsyncResume(
      this.key(ref.migrationId),
      String(ref.run),
      String(epoch),
      JSON.stringify(point),
    );
    return res === 'ok';
  }

  async psyncResume(migrationId: string): Promise<PsyncResumePoint | undefined> {
    const raw = await this.redis.hget(this.key(migrationId), 'psync-resume');
    return raw ? (JSON.parse(raw) as PsyncResumePoint) : undefined;
  }

  async note(migrationId: string, actor: string, message: string, data?: Record<string, unknown>) {
    const event: AuditEvent = {
      migrationId,
      type: 'note',
      at: this.iso(),
      actor,
      message,
      ...(data ? { data } : {}),
    };
    await this.migrations.append(migrationId, [event]);
  }

  /** Calls `handler(migrationId)` for every command nudge, on a connection of its own. */
  async subscribe(handler: (migrationId: string) => void): Promise<{ close(): void }> {
    const sub = this.redis.duplicate();
    sub.on('error', () => {});
    sub.on('message', (_channel: string, message: string) => handler(message));
    await sub.subscribe(this.channel);
    return { close: () => sub.disconnect() };
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
