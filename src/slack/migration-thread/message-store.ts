// Where a migration's Slack messages are, so any serve process can update them.
//  - The root message (the status card) is stored with the migration itself: `meta.slackChannel`
//    and `meta.slackTs`, written in the same commit that creates it (the card is posted first).
//  - Approval requests and which events were already posted live in one small hash per migration
//    on the control Redis (`<prefix>:slack:mig:<id>`), because the runbook has no place for them.
import type { Redis } from 'ioredis';
import type { MessageRef } from '../gateway.js';

// The root message's place in the migration's meta is the runbook's (the CLI reads it too).
export { META_CHANNEL, META_TS, rootMeta, rootOf } from '../../runbook/thread-ref.js';

/** An approval or confirmation request posted in a thread. */
export interface RequestMessage extends MessageRef {
  stepId: string;
  /** The step version it asked about. */
  hash: string;
  gate: 'approval' | 'confirmation';
  /** Set once the message shows the outcome (buttons gone). */
  decided?: boolean;
}

/** Kept this long after the last write (the audit trail itself lives in the runbook's streams). */
const TTL_SECONDS = 90 * 24 * 3600;

export class SlackMessageStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'mb',
  ) {}

  key(migrationId: string): string {
    return `${this.prefix}:slack:mig:${migrationId}`;
  }

  async request(migrationId: string, stepId: string): Promise<RequestMessage | undefined> {
    const raw = await this.redis.hget(this.key(migrationId), `req:${stepId}`);
    return raw ? (JSON.parse(raw) as RequestMessage) : undefined;
  }

  async saveRequest(migrationId: string, request: RequestMessage): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(migrationId), `req:${request.stepId}`, JSON.stringify(request))
      .expire(this.key(migrationId), TTL_SECONDS)
      .exec();
  }

  /** Requests still showing buttons. */
  async openRequests(migrationId: string): Promise<RequestMessage[]> {
    const all = await this.redis.hgetall(this.key(migrationId));
    return Object.entries(all)
      .filter(([field]) => field.startsWith('req:'))
      .map(([, value]) => JSON.parse(value) as RequestMessage)
      .filter((r) => !r.decided);
  }

  /** The ts of the thread reply posted for an event, if it was posted. */
  posted(migrationId: string, eventId: string): Promise<string | null> {
    return this.redis.hget(this.key(migrationId), `ev:${eventId}`);
  }

  async markPosted(migrationId: string, eventId: string, ts: string): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(migrationId), `ev:${eventId}`, ts)
      .expire(this.key(migrationId), TTL_SECONDS)
      .exec();
  }

  /**
   * One card refresh per migration per interval across every serve process: true for the caller
   * that may refresh now.
   */
  async claimRefresh(migrationId: string, intervalMs: number): Promise<boolean> {
    const res = await this.redis.set(`${this.key(migrationId)}:tick`, '1', 'PX', intervalMs, 'NX');
    return res === 'OK';
  }
}
