// SlackGateway: the one way this app writes to Slack outside of acks. Each message, thread and
// recipient has its own lane, so a 429 on one only delays that one:
//  - updates of the same message are coalesced (only the latest content is sent) and sent at most
//    once per `minUpdateIntervalMs`;
//  - replies in one thread go out in the order they were asked for;
//  - errors are logged (scrubbed) and retried with backoff a bounded number of times; a 429 waits
//    out Retry-After. The WebClient must have `rejectRateLimitedCalls: true` so the 429 reaches us
//    instead of pausing the client's whole queue.
import type { webApi } from '@slack/bolt';
import { backoffMs } from '../util/backoff.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { scrubDeep } from '../util/secrets.js';
import { sleep } from '../util/sleep.js';
import type { HomeView, SlackMessage } from './blocks/message.js';

type WebClient = webApi.WebClient;

export interface MessageRef {
  channel: string;
  ts: string;
}

export interface GatewayOptions {
  /** At most one chat.update per message per this many ms (default 3000). */
  minUpdateIntervalMs?: number;
  /** Attempts per call for errors other than 429 (default 4). */
  maxAttempts?: number;
  /** 429s tolerated per call before giving up (default 10). */
  maxRateLimitWaits?: number;
  /** First backoff delay; doubles per attempt with jitter, capped at backoffMaxMs (defaults 500 / 15000). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export type DeliveryResult = { ok: true } | { ok: false; error: string };

/**
 * What to send: the content itself, or a function that builds it right before each send, so a
 * coalesced or delayed update always carries the state of the moment it goes out. A builder that
 * returns null sends nothing.
 */
export type Content<T> = T | (() => Promise<T | null> | T | null);

export class SlackGatewayError extends Error {
  constructor(
    message: string,
    /** Slack's error code (e.g. invalid_blocks, channel_not_found) when there is one. */
    readonly slackError?: string,
  ) {
    super(message);
    this.name = 'SlackGatewayError';
  }
}

/** Platform errors worth another try; anything else (invalid_blocks, channel_not_found...) is final. */
const RETRYABLE_PLATFORM_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
]);

interface CoalescedState {
  latest?: { message: Content<SlackMessage | HomeView>; version: number };
  version: number;
  waiters: { version: number; resolve: (r: DeliveryResult) => void }[];
  lastSentAt: number;
  running: boolean;
  /** Ends the throttle wait early (flush, stop). */
  wake?: () => void;
  /** Forgets the slot once its interval is over and nothing is pending. */
  cleanup?: NodeJS.Timeout;
}

export class SlackGateway {
  private readonly minUpdateIntervalMs: number;
  private readonly maxAttempts: number;
  private readonly maxRateLimitWaits: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  /** Serial lanes (thread replies, root posts per channel, ephemerals per person): the tail of each chain. */
  private readonly lanes = new Map<string, Promise<unknown>>();
  /** Coalescing slots (message updates, home tabs). */
  private readonly slots = new Map<string, CoalescedState>();
  private flushing = false;
  private stopped = false;

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
    options: GatewayOptions = {},
  ) {
    this.minUpdateIntervalMs = options.minUpdateIntervalMs ?? 3000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.maxRateLimitWaits = options.maxRateLimitWaits ?? 10;
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    this.backoffMaxMs = options.backoffMaxMs ?? 15_000;
  }

  /** Posts a new top-level message (a migration's status card); resolves with its ts. */
  postRoot(channel: string, message: SlackMessage): Promise<MessageRef> {
    return this.serial(`channel:${channel}`, 'chat.postMessage', async () => {
      const res = await this.client.chat.postMessage({ channel, ...scrubDeep(message) });
      const ref = { channel, ts: String(res.ts) };
      // The post counts as the first "update" of that message for throttling.
      const slot = this.slot(slotKey(ref));
      slot.lastSentAt = Date.now();
      this.scheduleCleanup(slotKey(ref), slot);
      return ref;
    });
  }

  /** Posts a reply in the thread of `root`; replies to one thread keep the order they were asked in. */
  postThreadReply(root: MessageRef, message: SlackMessage): Promise<MessageRef> {
    return this.serial(`thread:${root.channel}:${root.ts}`, 'chat.postMessage', async () => {
      const res = await this.client.chat.postMessage({
        channel: root.channel,
        thread_ts: root.ts,
        ...scrubDeep(message),
      });
      return { channel: root.channel, ts: String(res.ts) };
    });
  }

  /** A message only `user` sees (not part of history, cannot be updated later). */
  postEphemeral(channel: string, user: string, message: SlackMessage, threadTs?: string): Promise<void> {
    return this.serial(`ephemeral:${channel}:${user}`, 'chat.postEphemeral', async () => {
      await this.client.chat.postEphemeral({
        channel,
        user,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...scrubDeep(message),
      });
    });
  }

  /**
   * Replaces the content of a message. Rapid updates are coalesced: only the latest content is sent,
   * at most once per interval. Resolves (never rejects) once content at least this new was sent,
   * or with the error that stopped it. `message` may be a builder, called at send time.
   */
  update(ref: MessageRef, message: Content<SlackMessage>): Promise<DeliveryResult> {
    return this.coalesce(slotKey(ref), 'chat.update', message, async (latest) => {
      await this.client.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        ...scrubDeep(latest as SlackMessage),
      });
    });
  }

  /** Publishes a user's App Home; coalesced like message updates. */
  publishHome(userId: string, view: Content<HomeView>): Promise<DeliveryResult> {
    return this.coalesce(`home:${userId}`, 'views.publish', view, async (latest) => {
      await this.client.views.publish({ user_id: userId, view: scrubDeep(latest as HomeView) });
    });
  }

  /** Sends every pending update now (ignoring the interval) and waits until all lanes are idle. */
  async flush(): Promise<void> {
    this.flushing = true;
    try {
      for (;;) {
        for (const s of this.slots.values()) s.wake?.();
        const busy: Promise<unknown>[] = [...this.lanes.values()];
        for (const s of this.slots.values()) if (s.running) busy.push(this.idle(s));
        if (busy.length === 0) return;
        await Promise.allSettled(busy);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Drops pending updates (their promises resolve with an error); sends in flight finish. */
  stop(): void {
    this.stopped = true;
    for (const s of this.slots.values()) {
      s.wake?.();
      if (s.cleanup) clearTimeout(s.cleanup);
    }
  }

  // --- lanes ----------------------------------------------------------------------------------

  private serial<T>(lane: string, method: string, send: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new SlackGatewayError('the Slack gateway is stopped'));
    const previous = this.lanes.get(lane) ?? Promise.resolve();
    const run = previous.then(() => this.call(method, send));
    const tail = run.catch(() => undefined);
    this.lanes.set(lane, tail);
    void tail.then(() => {
      if (this.lanes.get(lane) === tail) this.lanes.delete(lane);
    });
    return run;
  }

  private slot(key: string): CoalescedState {
    let s = this.slots.get(key);
    if (!s) {
      s = { version: 0, waiters: [], lastSentAt: 0, running: false };
      this.slots.set(key, s);
    }
    if (s.cleanup) clearTimeout(s.cleanup);
    s.cleanup = undefined;
    return s;
  }

  /** Remembers a send time for throttling until the interval is over, then forgets the slot. */
  private scheduleCleanup(key: string, s: CoalescedState): void {
    if (s.cleanup) clearTimeout(s.cleanup);
    s.cleanup = setTimeout(
      () => {
        if (!s.running && !s.latest && s.waiters.length === 0) this.slots.delete(key);
      },
      Math.max(0, s.lastSentAt + this.minUpdateIntervalMs - Date.now()) + 10,
    );
    s.cleanup.unref();
  }

  private coalesce(
    key: string,
    method: string,
    message: Content<SlackMessage | HomeView>,
    send: (latest: SlackMessage | HomeView) => Promise<void>,
  ): Promise<DeliveryResult> {
    if (this.stopped) return Promise.resolve({ ok: false, error: 'the Slack gateway is stopped' });
    const s = this.slot(key);
    s.version += 1;
    s.latest = { message, version: s.version };
    const done = new Promise<DeliveryResult>((resolve) => s.waiters.push({ version: s.version, resolve }));
    if (!s.running) void this.drain(key, s, method, send);
    return done;
  }

  /** Sends the latest content of one slot until nothing newer is pending. One drain per slot at a time. */
  private async drain(
    key: string,
    s: CoalescedState,
    method: string,
    send: (latest: SlackMessage | HomeView) => Promise<void>,
  ): Promise<void> {
    s.running = true;
    try {
      while (s.latest && !this.stopped) {
        const wait = s.lastSentAt + this.minUpdateIntervalMs - Date.now();
        if (wait > 0 && !this.flushing) await this.sleepInSlot(s, wait);
        if (this.stopped || !s.latest) break;
        let current = s.latest;
        s.latest = undefined;
        let result: DeliveryResult;
        try {
          await this.call(method, async () => {
            // A retry (after a 429 wait or a backoff) sends whatever is newest by then.
            if (s.latest) {
              current = s.latest;
              s.latest = undefined;
            }
            const content = typeof current.message === 'function' ? await current.message() : current.message;
            if (content) await send(content);
          });
          result = { ok: true };
        } catch (err) {
          result = { ok: false, error: errorMessage(err) };
        }
        s.lastSentAt = Date.now();
        // Everyone who asked for this version or an older one is served by this send.
        const served = s.waiters.filter((w) => w.version <= current.version);
        s.waiters = s.waiters.filter((w) => w.version > current.version);
        for (const w of served) w.resolve(result);
      }
    } finally {
      s.running = false;
      if (this.stopped) {
        for (const w of s.waiters) w.resolve({ ok: false, error: 'the Slack gateway is stopped' });
        s.waiters = [];
      } else {
        this.scheduleCleanup(key, s);
      }
    }
  }

  private sleepInSlot(s: CoalescedState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        s.wake = undefined;
        resolve();
      }
      s.wake = finish;
    });
  }

  private idle(s: CoalescedState): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (s.running ? setTimeout(check, 10) : resolve());
      check();
    });
  }

  // --- retries --------------------------------------------------------------------------------

  /** One API call with bounded retries: 429 waits Retry-After; transient errors back off. */
  private async call<T>(method: string, send: () => Promise<T>): Promise<T> {
    let attempts = 0;
    let rateLimitWaits = 0;
    for (;;) {
      try {
        return await send();
      } catch (err) {
        const info = classify(err);
        if (info.kind === 'rate_limited' && rateLimitWaits < this.maxRateLimitWaits && !this.stopped) {
          rateLimitWaits += 1;
          this.logger.warn({ method, retryAfterSec: info.retryAfterSec }, 'Slack rate limit; waiting');
          await sleep(info.retryAfterSec * 1000);
          continue;
        }
        attempts += 1;
        const message = errorMessage(err);
        if (info.kind === 'retryable' && attempts < this.maxAttempts && !this.stopped) {
          const delay = this.backoff(attempts);
          this.logger.warn(
            { method, attempt: attempts, delayMs: delay, error: message },
            'Slack call failed; retrying',
          );
          await sleep(delay);
          continue;
        }
        this.logger.error({ method, attempts, error: message }, 'Slack call failed');
        throw new SlackGatewayError(`${method} failed: ${message}`, info.slackError);
      }
    }
  }

  private backoff(attempt: number): number {
    const base = backoffMs(attempt - 1, { baseMs: this.backoffBaseMs, maxMs: this.backoffMaxMs });
    return Math.round(base / 2 + Math.random() * (base / 2));
  }
}

function slotKey(ref: MessageRef): string {
  return `message:${ref.channel}:${ref.ts}`;
}

type ErrorInfo =
  | { kind: 'rate_limited'; retryAfterSec: number; slackError?: string }
  | { kind: 'retryable' | 'final'; slackError?: string };

/** Sorts a WebClient error by its `code` (the web-api error classes are CommonJS; codes are stable). */
function classify(err: unknown): ErrorInfo {
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number };
  switch (e?.code) {
    case 'slack_webapi_rate_limited_error':
      return { kind: 'rate_limited', retryAfterSec: Math.max(0, Number(e.retryAfter) || 1) };
    case 'slack_webapi_request_error':
      return { kind: 'retryable' };
    case 'slack_webapi_http_error':
      return { kind: (e.statusCode ?? 500) >= 500 ? 'retryable' : 'final' };
    case 'slack_webapi_platform_error': {
      const slackError = e.data?.error;
      const info: ErrorInfo = {
        kind: slackError && RETRYABLE_PLATFORM_ERRORS.has(slackError) ? 'retryable' : 'final',
      };
      if (slackError) info.slackError = slackError;
      return info;
    }
    default:
      return { kind: 'final' };
  }
}
