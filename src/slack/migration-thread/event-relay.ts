// Every event of the audit stream becomes a reply in its migration's thread, so the channel
// history reads as the audit trail. Events come through a consumer group: with several serve
// processes each event is handled by one of them (and again, after a while, if that one died).
//  - approval_requested / confirmation_requested: the reply is the request with its buttons;
//  - a decision (approved, rejected, confirmed, expired, abort): the request's buttons are replaced
//    by who decided and when (chat.update), and the decision gets its own reply;
//  - after each event the status card is refreshed.
// A reply already posted for an event (a redelivery) is not posted again.

import type { Subscription } from '../../runbook/audit.js';
import type { AuditEvent } from '../../runbook/events.js';
import { findStep, type Migration } from '../../runbook/model.js';
import type { MigrationService } from '../../runbook/service.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { sleep } from '../../util/sleep.js';
import { approvalRequestMessage, type DecisionOutcome, decidedApprovalMessage } from '../blocks/approval.js';
import { threadReply } from '../blocks/thread-reply.js';
import { type MessageRef, type SlackGateway, SlackGatewayError } from '../gateway.js';
import { approvalView } from '../migration-views.js';
import type { CardUpdater } from './card-updater.js';
import { eventReplyView } from './event-reply.js';
import { type RequestMessage, rootOf, type SlackMessageStore } from './message-store.js';

export const SLACK_EVENTS_GROUP = 'slack';

function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

export interface EventRelayOptions {
  /** Consumer name within the group (default: host and pid). */
  consumer?: string;
  /** Unacknowledged events are taken over after this long (default 30 s). */
  reclaimIdleMs?: number;
  blockMs?: number;
  /** Who may approve when no buddy is named, as mentions. */
  approversHint?: string;
  /**
   * How long a decision waits for its request message to be known (another process may still be
   * posting it). Default 5 s.
   */
  requestWaitMs?: number;
}

/** Slack errors that no retry can fix for this thread. */
const FINAL_SLACK_ERRORS = new Set([
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'thread_not_found',
  'message_not_found',
  'account_inactive',
  'invalid_auth',
  'token_revoked',
  'missing_scope',
  // Our own bug rather than Slack's state; logged as an error, retrying would not help either.
  'invalid_blocks',
  'msg_too_long',
]);

const DECISIONS: Partial<Record<AuditEvent['type'], DecisionOutcome>> = {
  step_approved: 'approved',
  step_rejected: 'rejected',
  step_confirmed: 'confirmed',
  approval_expired: 'expired',
};

export class EventRelay {
  private sub: Subscription | undefined;

  constructor(
    private readonly service: MigrationService,
    private readonly gateway: SlackGateway,
    private readonly store: SlackMessageStore,
    private readonly cards: CardUpdater,
    private readonly logger: Logger,
    private readonly options: EventRelayOptions = {},
  ) {}

  async start(): Promise<void> {
    const options: Parameters<MigrationService['subscribeEvents']>[1] = {
      group: SLACK_EVENTS_GROUP,
      logger: this.logger,
    };
    if (this.options.consumer) options.consumer = this.options.consumer;
    if (this.options.reclaimIdleMs !== undefined) options.reclaimIdleMs = this.options.reclaimIdleMs;
    if (this.options.blockMs !== undefined) options.blockMs = this.options.blockMs;
    this.sub = await this.service.subscribeEvents((event) => this.handle(event), options);
  }

  async close(): Promise<void> {
    await this.sub?.close();
    this.sub = undefined;
  }

  /**
   * Waits (at most `timeoutMs`) until the group has read everything in the stream and nothing it
   * read is unhandled: used at shutdown so the last events still reach the thread.
   */
  async caughtUp(timeoutMs: number): Promise<boolean> {
    const { redis, globalEventsKey } = this.service.store;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const last = (
          (await redis.xrevrange(globalEventsKey, '+', '-', 'COUNT', 1)) as [string, string[]][]
        )[0]?.[0];
        const groups = (await redis.call('XINFO', 'GROUPS', globalEventsKey)) as unknown[][];
        const info = groups.map(pairs).find((g) => g.name === SLACK_EVENTS_GROUP);
        if (!last || (info && info['last-delivered-id'] === last && Number(info.pending) === 0)) return true;
      } catch {
        return false;
      }
      if (Date.now() >= deadline) return false;
      await sleep(100);
    }
  }

  /** Posts one event (throws when Slack refused it, so the event is delivered again later). */
  async handle(event: AuditEvent): Promise<void> {
    const m = await this.service.get(event.migrationId);
    if (!m || !event.id) return;
    const root = rootOf(m);
    if (!root) return; // planned outside Slack (e.g. the CLI's migrate)
    const log = this.logger.child({ migrationId: m.id, event: event.type, eventId: event.id });
    if (await this.store.posted(m.id, event.id)) {
      void this.cards.refresh(m.id);
      return;
    }
    let ts: string;
    try {
      ts = await this.post(event, m, root, log);
    } catch (err) {
      // Slack said no for good (channel archived or gone, app removed): retrying every few seconds
      // would only fill the logs. The event stays in the audit stream; it is skipped here.
      if (err instanceof SlackGatewayError && err.slackError && FINAL_SLACK_ERRORS.has(err.slackError)) {
        log.error({ slackError: err.slackError }, 'the thread cannot take this event; skipped');
        await this.store.markPosted(m.id, event.id, `skipped:${err.slackError}`);
        return;
      }
      throw err; // delivered again after the reclaim interval
    }
    await this.store.markPosted(m.id, event.id, ts);
    void this.cards.refresh(m.id);
  }

  private async post(event: AuditEvent, m: Migration, root: MessageRef, log: Logger): Promise<string> {
    const step = event.stepId ? findStep(m, event.stepId) : undefined;
    if ((event.type === 'approval_requested' || event.type === 'confirmation_requested') && step) {
      const gate = event.type === 'approval_requested' ? 'approval' : 'confirmation';
      const stepHash = typeof event.data?.stepHash === 'string' ? event.data.stepHash : step.hash;
      const previous = await this.store.request(m.id, step.id);
      if (previous && !previous.decided) await this.settle(m, previous, 'superseded', event, log);
      const request: { gate: typeof gate; stepHash: string; expiresAt?: string; prompt?: string } = {
        gate,
        stepHash,
      };
      if (typeof event.data?.expiresAt === 'string') request.expiresAt = event.data.expiresAt;
      if (typeof event.data?.prompt === 'string') request.prompt = event.data.prompt;
      const posted = await this.gateway.postThreadReply(
        root,
        approvalRequestMessage(approvalView(m, step, request, this.options.approversHint)),
      );
      await this.store.saveRequest(m.id, { ...posted, stepId: step.id, hash: stepHash, gate });
      log.info({ stepId: step.id }, `${gate} requested in the thread`);
      return posted.ts;
    }

    const outcome = DECISIONS[event.type];
    if (outcome && event.stepId) {
      const request = await this.waitForRequest(m.id, event.stepId);
      if (request && !request.decided) await this.settle(m, request, outcome, event, log);
    }
    if (event.type === 'migration_aborted') {
      for (const request of await this.store.openRequests(m.id)) {
        await this.settle(m, request, 'aborted', event, log);
      }
    }
    const reply = await this.gateway.postThreadReply(root, threadReply(eventReplyView(event, m)));
    return reply.ts;
  }

  /** Replaces a request's buttons with its outcome. */
  private async settle(
    m: Migration,
    request: RequestMessage,
    outcome: DecisionOutcome,
    event: AuditEvent,
    log: Logger,
  ): Promise<void> {
    const step = findStep(m, request.stepId);
    if (!step) return;
    const view = approvalView(m, step, { gate: request.gate, stepHash: request.hash });
    const decision: Parameters<typeof decidedApprovalMessage>[1] = { outcome, at: event.at };
    if (/^[UW][A-Z0-9]+$/.test(event.actor) && outcome !== 'expired' && outcome !== 'superseded') {
      decision.by = event.actor;
    }
    const reason = event.data?.reason;
    if (outcome === 'rejected' && typeof reason === 'string' && reason) decision.reason = reason;
    const result = await this.gateway.update(request, decidedApprovalMessage(view, decision));
    if (!result.ok) {
      log.warn({ stepId: request.stepId, error: result.error }, 'could not update the request message');
      return;
    }
    await this.store.saveRequest(m.id, { ...request, decided: true });
  }

  /** The request message of a step; waits a little when another process may still be posting it. */
  private async waitForRequest(migrationId: string, stepId: string): Promise<RequestMessage | undefined> {
    const deadline = Date.now() + (this.options.requestWaitMs ?? 5000);
    for (;;) {
      try {
        const request = await this.store.request(migrationId, stepId);
        if (request || Date.now() >= deadline) return request;
      } catch (err) {
        this.logger.warn({ migrationId, error: errorMessage(err) }, 'could not read request messages');
        return undefined;
      }
      await sleep(250);
    }
  }
}
