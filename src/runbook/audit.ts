// Reading the audit trail: a migration's events as a list or JSON lines, a live tail of one
// migration, and a consumer-group subscription to every migration's events (what the Slack
// adapter uses, from any number of processes, each event handled once per group).

import type { Redis } from 'ioredis';
import type { Logger } from '../util/logger.js';
import { scrub, scrubDeep } from '../util/secrets.js';
import { sleep } from '../util/sleep.js';
import type { AuditEvent } from './events.js';
import { type MigrationStore, parseEntry } from './store.js';

export type EventHandler = (event: AuditEvent) => void | Promise<void>;

export interface Subscription {
  /** Stops reading; resolves when the loop has ended. */
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Consumer group: each event is handled by one consumer of the group. */
  group: string;
  /** This process's name within the group (default: host + pid). */
  consumer?: string;
  /** Where a new group starts: only new events (default) or everything still in the stream. */
  startAt?: 'new' | 'all';
  /** Events unacknowledged this long (a consumer died, a handler threw) are taken over. Default 30 s. */
  reclaimIdleMs?: number;
  /** How long one blocking read waits (default 1 s); bounds how fast close() returns. */
  blockMs?: number;
  logger?: Logger;
}

export class AuditLog {
  constructor(private readonly store: MigrationStore) {}

  list(migrationId: string): Promise<AuditEvent[]> {
    return this.store.events(migrationId);
  }

  /** One JSON document per line, secrets scrubbed. */
  async exportJsonLines(migrationId: string): Promise<string> {
    const events = await this.list(migrationId);
    return events.map((e) => JSON.stringify(scrubDeep(e))).join('\n') + (events.length ? '\n' : '');
  }

  /**
   * Calls `handler` with each event of one migration in order, starting after `afterId`
   * (default: from the first event), until closed.
   */
  tail(migrationId: string, handler: EventHandler, options: { afterId?: string; blockMs?: number } = {}) {
    const conn = this.store.redis.duplicate();
    conn.on('error', () => {});
    const key = this.store.key(migrationId, 'events');
    let last = options.afterId ?? '0-0';
    return loop(conn, async () => {
      const res = (await conn.xread('COUNT', 100, 'BLOCK', options.blockMs ?? 500, 'STREAMS', key, last)) as
        | [string, [string, string[]][]][]
        | null;
      for (const [, entries] of res ?? []) {
        for (const [id, fields] of entries) {
          await handler(parseEntry(id, fields));
          last = id;
        }
      }
    });
  }

  /**
   * Every migration's events, through a consumer group on the global stream: run one subscription
   * per process with the same `group` and each event reaches exactly one of them; an event whose
   * handler threw, or whose consumer died, is delivered again after `reclaimIdleMs`.
   */
  async subscribe(handler: EventHandler, options: SubscribeOptions): Promise<Subscription> {
    const conn = this.store.redis.duplicate();
    conn.on('error', () => {});
    const key = this.store.globalEventsKey;
    const { group } = options;
    const consumer = options.consumer ?? `${process.env.HOSTNAME ?? 'host'}-${process.pid}`;
    const reclaimIdleMs = options.reclaimIdleMs ?? 30_000;
    try {
      await conn.xgroup('CREATE', key, group, options.startAt === 'all' ? '0' : '$', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) {
        conn.disconnect();
        throw err;
      }
    }
    const handle = async (entries: [string, string[]][]) => {
      for (const [streamId, fields] of entries) {
        if (!fields) continue; // deleted by MAXLEN trimming while pending
        try {
          await handler(parseEntry(streamId, fields));
          await conn.xack(key, group, streamId);
        } catch (err) {
          options.logger?.warn({ err: scrub(String(err)), streamId }, 'event handler failed; will retry');
        }
      }
    };
    let lastReclaim = 0;
    // Our own unacknowledged events first (a restart of this consumer), then new ones.
    let backlog = true;
    return loop(conn, async () => {
      if (Date.now() - lastReclaim >= Math.min(reclaimIdleMs, 5000)) {
        lastReclaim = Date.now();
        const claimed = (await conn.xautoclaim(key, group, consumer, reclaimIdleMs, '0-0', 'COUNT', 100)) as [
          string,
          [string, string[]][],
        ];
        await handle(claimed[1] ?? []);
      }
      const res = (await conn.xreadgroup(
        'GROUP',
        group,
        consumer,
        'COUNT',
        100,
        'BLOCK',
        options.blockMs ?? 1000,
        'STREAMS',
        key,
        backlog ? '0' : '>',
      )) as [string, [string, string[]][]][] | null;
      backlog = false; // failures in the backlog come back through the reclaim above
      await handle(res?.[0]?.[1] ?? []);
    });
  }
}

/** Runs `step` repeatedly on a dedicated connection until closed. */
function loop(conn: Redis, step: () => Promise<void>): Subscription {
  let closed = false;
  const done = (async () => {
    while (!closed) {
      try {
        await step();
      } catch {
        if (closed) break;
        await sleep(200);
      }
    }
  })();
  return {
    async close() {
      closed = true;
      conn.disconnect();
      // A read queued while the connection was reconnecting is never settled by disconnect(): do
      // not wait for it for ever (the connection is closed either way).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((r) => (timer = setTimeout(r, 1000)))]);
      clearTimeout(timer);
    },
  };
}

/** One line for people: time, step, what happened (messages name the person who acted). */
export function formatEvent(event: AuditEvent): string {
  const time = event.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const step = event.stepId ? ` [${event.stepId}]` : '';
  return scrub(`${time}${step} ${event.message}`);
}
