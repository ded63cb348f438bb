// Making sure the source publishes the keyspace notifications live sync needs (notify-config.ts
// says which): read with CONFIG GET; set with CONFIG SET when allowed, and put back at stop; where
// CONFIG is refused, proven by a canary write whose events must arrive on the subscriber.
//
// The order is LiveSync's: ensure() before subscribing (it picks the channel kind), canaryCheck()
// after (the canary's events can only be seen once subscribed), restore() at teardown.

import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { sleepOrAbort } from '../../util/sleep.js';
import { LiveSyncError, withLiveSyncTimeout } from './live-sync-error.js';
import {
  checkNotifyFlags,
  missingNotificationsMessage,
  type NotifyChannelKind,
  withNeededFlags,
} from './notify-config.js';

export interface NotifySetupOptions {
  enableNotifications?: boolean | undefined;
  trustNotifyConfig?: boolean | undefined;
  logger?: Logger | undefined;
  /**
   * A hash tag for the canary keys (`{tag}`), on a cluster node: one that hashes to a slot the node
   * serves, so the canary's MULTI stays in one slot and is not redirected elsewhere.
   */
  canaryTag?: string | undefined;
}

export const CANARY_PREFIX = 'migration-buddy:canary:';

/**
 * Event each canary write must bring, and the class (notify-config.ts) that publishes it. Evictions
 * (class e) cannot be provoked, so they stay unchecked.
 */
export const CANARY_EVENTS: ReadonlyMap<string, string> = new Map([
  ['set', '$'],
  ['rpush', 'l'],
  ['sadd', 's'],
  ['hset', 'h'],
  ['zadd', 'z'],
  ['xadd', 't'],
  ['del', 'g'],
  ['expired', 'x'],
]);

/**
 * The flags a canary proved missing, from the events it saw: none at all means no channel is on
 * either, so a channel flag (E) comes first. Empty when every expected event arrived.
 */
export function canaryMissingFlags(seen: ReadonlySet<string>): string[] {
  const missing = [...CANARY_EVENTS].filter(([event]) => !seen.has(event)).map(([, flag]) => flag);
  if (missing.length === 0) return [];
  return seen.size === 0 ? ['E', ...missing] : missing;
}

/** The db the canary writes in: the lowest followed one (db 0 when every db is followed). */
export function canaryDb(dbs: 'all' | readonly number[]): number {
  return dbs === 'all' ? 0 : Math.min(...dbs);
}

export class NotifySetup {
  /** The channel family to subscribe to: keyspace only when the server has K without E. */
  kind: NotifyChannelKind = 'keyevent';
  /** The value CONFIG SET replaced, to put back at stop. */
  private replaced: string | null = null;
  private canary: ((event: string, key: Buffer) => void) | null = null;

  constructor(
    private readonly control: Redis,
    private readonly where: string,
    private readonly options: NotifySetupOptions,
  ) {}

  /** Returns true when the setting could not be read and canaryCheck() must prove it instead. */
  async ensure(): Promise<boolean> {
    if (this.options.trustNotifyConfig) return false;
    const control = this.control;
    let value: string;
    try {
      const reply = (await control.config('GET', 'notify-keyspace-events')) as string[];
      value = reply[1] ?? '';
    } catch (err) {
      this.options.logger?.warn(
        { source: this.where, err: errorMessage(err) },
        'cannot read notify-keyspace-events (CONFIG GET refused); checking with a canary write instead',
      );
      return true;
    }
    const check = checkNotifyFlags(value);
    if (check.ok) {
      this.kind = check.kind!;
      return false;
    }
    if (!this.options.enableNotifications)
      throw new LiveSyncError(missingNotificationsMessage(this.where, check));
    const wanted = withNeededFlags(value);
    try {
      await control.config('SET', 'notify-keyspace-events', wanted);
    } catch (err) {
      throw new LiveSyncError(
        `could not turn keyspace notifications on with CONFIG SET (${errorMessage(err)}). ` +
          missingNotificationsMessage(this.where, check),
      );
    }
    this.replaced = value;
    const reply = (await control.config('GET', 'notify-keyspace-events')) as string[];
    const after = checkNotifyFlags(reply[1] ?? '');
    if (!after.ok) throw new LiveSyncError(missingNotificationsMessage(this.where, after));
    this.kind = after.kind!;
    this.options.logger?.warn(
      { source: this.where, before: value, now: reply[1] },
      'turned keyspace notifications on with CONFIG SET; the old value is restored when live sync stops',
    );
    return false;
  }

  /** Every notification the subscriber reads goes through here: only a running canary looks. */
  observe(event: string, key: Buffer): void {
    this.canary?.(event, key);
  }

  /**
   * Without CONFIG GET, the only way to know notifications are on is to see them: write one short-
   * lived key of each type and wait for their events. The canary keys live under CANARY_PREFIX and
   * are deleted at once.
   */
  async canaryCheck(dbs: 'all' | readonly number[]): Promise<void> {
    const control = this.control;
    const tag = this.options.canaryTag === undefined ? '' : `{${this.options.canaryTag}}`;
    const base = `${CANARY_PREFIX}${tag}${randomBytes(8).toString('hex')}:`;
    const seen = new Set<string>();
    let allSeen: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allSeen = resolve;
    });
    this.canary = (event, key) => {
      if (!key.toString('latin1').startsWith(base)) return;
      seen.add(event);
      if ([...CANARY_EVENTS.keys()].every((e) => seen.has(e))) allSeen();
    };
    const keys = ['s', 'l', 'set', 'h', 'z', 'x', 'exp'].map((k) => base + k);
    try {
      await control.select(canaryDb(dbs));
      await control
        .multi()
        .set(`${base}s`, '1')
        .rpush(`${base}l`, '1')
        .sadd(`${base}set`, '1')
        .hset(`${base}h`, 'f', '1')
        .zadd(`${base}z`, 1, 'm')
        .xadd(`${base}x`, '*', 'f', '1')
        .set(`${base}exp`, '1', 'PX', 1)
        .exec();
      await control.del(`${base}s`, `${base}l`, `${base}set`, `${base}h`, `${base}z`, `${base}x`);
      // Expiry fires when the key is reclaimed: touching it after its deadline reclaims it.
      await sleepOrAbort(5);
      await control.exists(`${base}exp`);
      await withLiveSyncTimeout(done, 2000, 'canary').catch(() => undefined);
    } catch (err) {
      throw new LiveSyncError(
        `cannot check notify-keyspace-events on ${this.where}: CONFIG GET is refused and the canary write ` +
          `failed (${errorMessage(err)}). Make sure notify-keyspace-events includes KEA (provider ` +
          `parameter group) and start live sync with trustNotifyConfig.`,
      );
    } finally {
      this.canary = null;
      await control.del(...keys).catch(() => undefined);
    }
    const missing = canaryMissingFlags(seen);
    if (missing.length > 0) {
      throw new LiveSyncError(
        missingNotificationsMessage(this.where, {
          ok: false,
          kind: null,
          missing,
          current: '(unreadable: CONFIG GET is refused; checked by a canary write)',
        }),
      );
    }
    this.options.logger?.warn(
      { source: this.where },
      'notify-keyspace-events checked by canary (CONFIG GET refused); eviction events (e) could not be checked',
    );
  }

  /**
   * Puts back the value ensure() replaced. Returns it once put back; null when nothing was replaced
   * or putting it back failed (logged: someone must set it by hand).
   */
  async restore(): Promise<string | null> {
    const value = this.replaced;
    if (value === null) return null;
    try {
      await withLiveSyncTimeout(
        this.control.config('SET', 'notify-keyspace-events', value),
        5000,
        'CONFIG SET',
      );
      return value;
    } catch (err) {
      this.options.logger?.warn(
        { err: errorMessage(err), value },
        'could not restore notify-keyspace-events; set it back by hand',
      );
      return null;
    }
  }
}
