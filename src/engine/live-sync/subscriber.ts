// The connection that receives the source's keyspace notifications (channels.ts says which).
//
// Notifications are fire-and-forget: whatever is published while this connection is down is lost.
// Reconnects are therefore handled here, not by ioredis' autoResubscribe: a drop is reported as a
// gap (LiveSync asks for a reconcile pass), a reconnect subscribes again and says so, and running
// out of reconnects or being refused the channels loses the subscription for good.

import type { Redis } from 'ioredis';
import { connect } from '../../redis/connect.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { subscriptionPatterns } from './channels.js';
import { LiveSyncError, withLiveSyncTimeout } from './live-sync-error.js';
import type { NotifyChannelKind } from './notify-config.js';

export interface SubscriberHooks {
  /** A message on one of the patterns, raw (keys are binary). */
  message(channel: Buffer, message: Buffer): void;
  /** The connection dropped while subscribed: notifications published meanwhile are lost. */
  gap(): void;
  /** Subscribed again after a reconnect. */
  resubscribed(): void;
  /** The subscription is lost for good. */
  lost(error: LiveSyncError): void;
  /** False once live sync has ended: its connection's events are then ignored. */
  active(): boolean;
}

export interface SubscriberOptions {
  maxReconnects: number;
  logger?: Logger | undefined;
}

export class NotificationSubscriber {
  private conn: Redis | undefined;
  private patternList: string[] = [];
  private isSubscribed = false;
  private closing = false;
  private reconnectCount = 0;

  constructor(
    private readonly source: Endpoint,
    private readonly where: string,
    private readonly hooks: SubscriberHooks,
    private readonly options: SubscriberOptions,
  ) {}

  /** True while notifications are received: false from a drop until subscribed again. */
  get subscribed(): boolean {
    return this.isSubscribed;
  }

  get patterns(): string[] {
    return this.patternList;
  }

  get reconnects(): number {
    return this.reconnectCount;
  }

  /** Connects and subscribes; resolves once every change from now on is notified. */
  async open(kind: NotifyChannelKind, dbs: 'all' | readonly number[]): Promise<void> {
    const sub = await connect(this.source, {
      role: 'live-sync-subscriber',
      maxReconnects: this.options.maxReconnects,
      maxRetriesPerRequest: null,
      extra: { autoResubscribe: false },
    });
    this.conn = sub;
    sub.on('pmessageBuffer', (_pattern: unknown, channel: Buffer, message: Buffer) =>
      this.hooks.message(channel, message),
    );
    sub.on('close', () => this.onClosed());
    // connect() resolved after the first 'ready', so every 'ready' seen here is a reconnect.
    sub.on('ready', () => void this.onReconnected());
    sub.on('end', () => this.onGone());
    sub.on('error', (err: Error) => {
      this.options.logger?.debug({ err: errorMessage(err) }, 'live sync subscriber error');
    });
    this.patternList = subscriptionPatterns(kind, dbs);
    await this.subscribe();
  }

  /**
   * PING on the subscriber: its reply is queued behind every notification published before the
   * server ran it (replies stay in order on a connection), which makes it a barrier.
   */
  ping(timeoutMs: number | undefined, what: string): Promise<unknown> {
    return withLiveSyncTimeout(this.conn!.ping(), timeoutMs, what);
  }

  /** Stops receiving notifications (best effort: close() follows anyway). */
  async unsubscribe(): Promise<void> {
    if (this.conn && this.isSubscribed && this.conn.status === 'ready') {
      await withLiveSyncTimeout(this.conn.punsubscribe(), 5000, 'unsubscribing').catch(() => undefined);
    }
  }

  /** Disconnects; no hook is called for what follows. */
  close(): void {
    this.closing = true;
    this.conn?.disconnect();
  }

  private async subscribe(): Promise<void> {
    try {
      await this.conn!.psubscribe(...this.patternList);
    } catch (err) {
      const msg = errorMessage(err);
      if (/NOPERM/i.test(msg)) {
        throw new LiveSyncError(
          `the source user on ${this.where} may not subscribe to ${this.patternList.join(', ')}: grant the ` +
            `channel permission (ACL: &__key*__:* or allchannels) and try again`,
        );
      }
      throw new LiveSyncError(`cannot subscribe to keyspace notifications on ${this.where}: ${msg}`);
    }
    this.isSubscribed = true;
  }

  private onClosed(): void {
    if (this.closing || !this.isSubscribed) return;
    this.isSubscribed = false;
    this.hooks.gap();
    this.options.logger?.warn({ source: this.where }, 'live sync subscriber disconnected; reconnecting');
  }

  private async onReconnected(): Promise<void> {
    if (this.closing || !this.hooks.active()) return;
    this.reconnectCount++;
    try {
      await this.subscribe();
      this.options.logger?.warn(
        { source: this.where, reconnects: this.reconnectCount },
        'live sync subscriber reconnected; running a reconcile pass for the gap',
      );
      this.hooks.resubscribed();
    } catch (err) {
      // A drop during PSUBSCRIBE brings another 'ready'; a refusal will not get better.
      if (err instanceof LiveSyncError) this.hooks.lost(err);
    }
  }

  private onGone(): void {
    if (this.closing || !this.hooks.active()) return;
    this.hooks.lost(
      new LiveSyncError(
        `lost the keyspace-notification subscription to ${this.where} after ${this.options.maxReconnects} ` +
          `reconnect attempts; changes since then were not followed. Check that the source is reachable, ` +
          `then start live sync again with a reconcile pass (reconcileOnStart) before any cutover.`,
      ),
    );
  }
}
