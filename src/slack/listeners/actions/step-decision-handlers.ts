// Step button clicks -> the runbook. The runbook decides (requester, buddy/approver, step hash,
// expiry, already decided) in one compare-and-set; a refusal comes back as a value and is shown to
// the clicker only. Accepted decisions need no reply here: their events update the thread.
import type { ActionResult, MigrationService } from '../../../runbook/service.js';
import type { StepRef } from '../../blocks/approval.js';
import { errorReply } from '../../blocks/error.js';
import { message, section } from '../../blocks/message.js';
import { escapeMrkdwn, sentence } from '../../blocks/text.js';
import type { CommandReply } from '../reply.js';

/** A click on a step's button: which step version, by whom, on which message. */
export interface StepDecisionRequest extends StepRef {
  userId: string;
  channelId?: string;
  messageTs?: string;
  /** The thread the clicked message is in (the migration's root message). */
  threadTs?: string;
  /** Rejections: what the person wrote in the dialog (already checked for pasted secrets). */
  reason?: string;
}

/**
 * Step button clicks, forwarded as is. The runbook decides whether the click counts (not the
 * requester, the right person, the current step hash, not expired, not decided yet) and updates
 * the messages from its own events; the reply here is only for the clicker (e.g. a refusal).
 */
export interface StepDecisionHandlers {
  approve(request: StepDecisionRequest): Promise<CommandReply | undefined>;
  reject(request: StepDecisionRequest): Promise<CommandReply | undefined>;
  /** "Done" on a step waiting for a person to confirm an outside action. */
  confirm(request: StepDecisionRequest): Promise<CommandReply | undefined>;
  /** Run a failed step again. */
  retry(request: StepDecisionRequest): Promise<CommandReply | undefined>;
  /** Ask again for an approval that expired. */
  requestAgain(request: StepDecisionRequest): Promise<CommandReply | undefined>;
}

export type StepDecisionKind = keyof StepDecisionHandlers;

/** The runbook calls a step decision makes. */
export type StepDecisionService = Pick<
  MigrationService,
  'approve' | 'reject' | 'confirm' | 'retryStep' | 'requestApproval'
>;

const NEXT: Partial<Record<string, string>> = {
  requester: 'Your buddy (or an approver) has to decide this one.',
  not_buddy: 'Only the buddy named in the plan can decide; ask them to look at the thread.',
  not_approver: 'Ask one of the configured approvers to decide.',
  needs_buddy: 'Ask the buddy named in the plan to approve: their approval is one of those needed.',
  stale_hash: 'Use the newest request in the thread.',
  expired: 'Ask for the approval again with the button in the thread.',
  not_awaiting: '`/migrate status` shows where the migration stands.',
  finished: '`/migrate status` shows where the migration stands.',
  busy: 'Try again in a moment.',
};

export class StepDecisions implements StepDecisionHandlers {
  constructor(private readonly service: StepDecisionService) {}

  async approve(r: StepDecisionRequest): Promise<CommandReply | undefined> {
    const res = await this.service.approve(r.migrationId, r.stepId, r.userId, r.stepHash);
    if (!res.ok) return refusal(res);
    const step = res.migration.steps.find((s) => s.id === r.stepId);
    // A quorum of several: this approval counted, more are needed.
    if (step?.status === 'awaiting_approval') return info(res.message);
    return undefined;
  }

  async reject(r: StepDecisionRequest): Promise<CommandReply | undefined> {
    const res = await this.service.reject(r.migrationId, r.stepId, r.userId, r.stepHash, r.reason ?? '');
    return res.ok ? undefined : refusal(res);
  }

  async confirm(r: StepDecisionRequest): Promise<CommandReply | undefined> {
    const res = await this.service.confirm(r.migrationId, r.stepId, r.userId, r.stepHash);
    return res.ok ? undefined : refusal(res);
  }

  async retry(r: StepDecisionRequest): Promise<CommandReply | undefined> {
    const res = await this.service.retryStep(r.migrationId, r.stepId, r.userId);
    return res.ok ? undefined : refusal(res);
  }

  async requestAgain(r: StepDecisionRequest): Promise<CommandReply | undefined> {
    const res = await this.service.requestApproval(r.migrationId, r.stepId, r.userId);
    return res.ok ? undefined : refusal(res);
  }
}

/** A button naming no step here (edited, or its migration deleted): its ids are not repeated. */
const NO_SUCH_STEP = errorReply({
  problem: 'That button does not belong to a step of any migration here.',
  next: 'Use the latest request in the thread, or `/migrate list` to find the migration.',
});

function refusal(res: Exclude<ActionResult, { ok: true }>): CommandReply {
  if (res.code === 'not_found') return NO_SUCH_STEP;
  const next = NEXT[res.code];
  return errorReply(next ? { problem: sentence(res.reason), next } : { problem: sentence(res.reason) });
}

function info(text: string): CommandReply {
  return message(sentence(text), [section(`:ballot_box_with_check: ${escapeMrkdwn(sentence(text))}`)]);
}
