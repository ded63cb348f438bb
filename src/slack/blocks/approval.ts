// The approval request posted for a gated step, and what replaces it once someone decided. The
// buttons carry only opaque ids; whether a click counts is decided by the runbook, never here.
import type { types } from '@slack/bolt';
import { LIMITS } from './limits.js';
import { contextBlock, message, type SlackMessage, section } from './message.js';
import { escapeMrkdwn, mention, plain, slackDate, truncate } from './text.js';

export const APPROVE_ACTION_ID = 'mb_step_approve';
/** Opens a dialog asking for an optional reason; the rejection is made when it is submitted. */
export const REJECT_ACTION_ID = 'mb_step_reject';
/** "Done" on a step waiting for a person to confirm an outside action (repoint the apps). */
export const CONFIRM_ACTION_ID = 'mb_step_confirm';
/** Follow-ups offered in the thread: run a failed step again, ask again for an expired approval. */
export const RETRY_ACTION_ID = 'mb_step_retry';
export const REREQUEST_ACTION_ID = 'mb_step_rerequest';

/** Identifies exactly one version of one step: an approval binds to the step's parameter hash. */
export interface StepRef {
  migrationId: string;
  stepId: string;
  stepHash: string;
}

const REF_PART = /^[A-Za-z0-9._-]{1,128}$/;
const VALUE_VERSION = 'v1';

/** `v1|<migration>|<step>|<hash>`: at most ~400 characters, well under the 2000 a button value allows. */
export function encodeStepRef(ref: StepRef): string {
  for (const part of [ref.migrationId, ref.stepId, ref.stepHash]) {
    if (!REF_PART.test(part)) throw new Error('step reference parts must be short ids ([A-Za-z0-9._-])');
  }
  return [VALUE_VERSION, ref.migrationId, ref.stepId, ref.stepHash].join('|');
}

/** The reverse of encodeStepRef; undefined for anything else (a click's value is untrusted input). */
export function decodeStepRef(value: unknown): StepRef | undefined {
  if (typeof value !== 'string' || value.length > LIMITS.buttonValue) return undefined;
  const parts = value.split('|');
  if (parts.length !== 4 || parts[0] !== VALUE_VERSION) return undefined;
  const [, migrationId, stepId, stepHash] = parts as [string, string, string, string];
  if (![migrationId, stepId, stepHash].every((p) => REF_PART.test(p))) return undefined;
  return { migrationId, stepId, stepHash };
}

export interface ApprovalRequestView extends StepRef {
  /** 'approval' asks the buddy to allow a step; 'confirmation' asks someone to say a manual step is done. */
  gate: 'approval' | 'confirmation';
  stepTitle: string;
  description: string;
  irreversible: boolean;
  requesterId: string;
  buddyId?: string;
  /** Who else may approve, already formatted (e.g. "<!subteam^S123>"); shown as is. */
  approversHint?: string;
  /** What a confirmation asks people to do before confirming. */
  prompt?: string;
  expiresAt?: Date | string;
}

export type DecisionOutcome = 'approved' | 'rejected' | 'confirmed' | 'expired' | 'aborted' | 'superseded';

export interface DecisionView {
  outcome: DecisionOutcome;
  /** Slack user id of the person who decided; none for expiry. */
  by?: string;
  at: Date | string;
  reason?: string;
}

export function approvalRequestMessage(view: ApprovalRequestView): SlackMessage {
  const ref = encodeStepRef(view);
  const title = escapeMrkdwn(view.stepTitle);
  const asked = view.buddyId ? mention(view.buddyId) : 'an approver';
  const who =
    view.gate === 'approval'
      ? `${asked}${view.approversHint ? ` (or ${view.approversHint})` : ''}, please review. ` +
        `Requested by ${mention(view.requesterId)}, who cannot approve it.`
      : `${asked}${view.approversHint ? ` (or ${view.approversHint})` : ''}: confirm when it is done.`;
  const lines = [
    `${view.irreversible ? ':warning: ' : ''}*${view.gate === 'approval' ? 'Approval needed' : 'Confirmation needed'}: ${title}*`,
    escapeMrkdwn(view.description),
  ];
  if (view.prompt) lines.push(`*To do:* ${escapeMrkdwn(view.prompt)}`);
  if (view.irreversible) lines.push('_This step cannot be undone._');
  const context = [`Migration \`${escapeMrkdwn(view.migrationId)}\` · step \`${escapeMrkdwn(view.stepId)}\``];
  if (view.expiresAt) context.push(`Expires ${slackDate(view.expiresAt)}`);

  const stepName = truncate(view.stepTitle, 60);
  const buttons: types.Button[] =
    view.gate === 'approval'
      ? [
          {
            type: 'button',
            action_id: APPROVE_ACTION_ID,
            text: plain('Approve', LIMITS.buttonText),
            style: 'primary',
            value: ref,
            confirm: confirmDialog(
              `Approve: ${stepName}?`,
              view.irreversible
                ? `"${stepName}" cannot be undone once it runs. Approve it?`
                : `Approve "${stepName}"?`,
              'Approve',
              'primary',
            ),
          },
          {
            // No confirm dialog here: the click opens a dialog that confirms and asks for a reason.
            type: 'button',
            action_id: REJECT_ACTION_ID,
            text: plain('Reject', LIMITS.buttonText),
            style: 'danger',
            value: ref,
          },
        ]
      : [
          {
            type: 'button',
            action_id: CONFIRM_ACTION_ID,
            text: plain('Done', LIMITS.buttonText),
            style: 'primary',
            value: ref,
            confirm: confirmDialog(
              `Done: ${stepName}?`,
              `Confirm that "${stepName}" is done; the migration then goes on.`,
              'Done',
              'primary',
            ),
          },
        ];
  return message(`${view.gate === 'approval' ? 'Approval' : 'Confirmation'} needed: ${view.stepTitle}`, [
    section(lines.join('\n')),
    section(who),
    { type: 'actions', block_id: 'mb_approval', elements: buttons },
    contextBlock(...context),
  ]);
}

const OUTCOME_TEXT: Record<DecisionOutcome, { emoji: string; verb: string }> = {
  approved: { emoji: ':white_check_mark:', verb: 'Approved' },
  confirmed: { emoji: ':white_check_mark:', verb: 'Confirmed' },
  rejected: { emoji: ':no_entry:', verb: 'Rejected' },
  expired: { emoji: ':hourglass:', verb: 'Expired' },
  aborted: { emoji: ':octagonal_sign:', verb: 'Aborted' },
  superseded: { emoji: ':arrows_counterclockwise:', verb: 'Replaced by a newer request' },
};

/** Replaces an approval request once decided: who, when, and no buttons left to click. */
export function decidedApprovalMessage(view: ApprovalRequestView, decision: DecisionView): SlackMessage {
  const { emoji, verb } = OUTCOME_TEXT[decision.outcome];
  const by = decision.by ? ` by ${mention(decision.by)}` : '';
  const lines = [`${emoji} *${verb}${by}: ${escapeMrkdwn(view.stepTitle)}*`, `${slackDate(decision.at)}`];
  if (decision.reason) lines.push(`Reason: ${escapeMrkdwn(decision.reason)}`);
  return message(`${verb}: ${view.stepTitle}`, [
    section(lines.join('\n')),
    contextBlock(
      `Migration \`${escapeMrkdwn(view.migrationId)}\` · step \`${escapeMrkdwn(view.stepId)}\` · ` +
        `requested by ${mention(view.requesterId)}`,
    ),
  ]);
}

function confirmDialog(
  title: string,
  text: string,
  confirm: string,
  style: 'primary' | 'danger',
): types.ConfirmationDialog {
  return {
    title: plain(title, LIMITS.confirmTitle),
    text: plain(text, LIMITS.confirmText),
    confirm: plain(confirm, LIMITS.confirmButton),
    deny: plain('Cancel', LIMITS.confirmButton),
    style,
  };
}
