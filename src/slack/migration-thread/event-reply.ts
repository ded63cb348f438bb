// An audit event -> its thread reply: the event's own sentence (escaped, with the people in it as
// mentions), details where they matter (verification counts), and what to do next when something
// stopped, with a button when the next move is a click (retry a failed step, ask again).
import type { AuditEvent, AuditEventType } from '../../runbook/events.js';
import { findStep, type Migration } from '../../runbook/model.js';
import { encodeStepRef, REREQUEST_ACTION_ID, RETRY_ACTION_ID } from '../blocks/approval.js';
import { escapeMrkdwn, formatCount, formatDuration, slackDate } from '../blocks/text.js';
import type { ThreadReplyView } from '../blocks/thread-reply.js';

const ICON: Partial<Record<AuditEventType, string>> = {
  migration_created: ':memo:',
  migration_planned: ':clipboard:',
  migration_started: ':arrow_forward:',
  approval_requested: ':raised_hand:',
  approval_recorded: ':ballot_box_with_check:',
  approval_refused: ':no_entry_sign:',
  step_approved: ':white_check_mark:',
  step_rejected: ':no_entry:',
  approval_expired: ':hourglass:',
  confirmation_requested: ':raised_hand:',
  step_confirmed: ':white_check_mark:',
  step_amended: ':pencil2:',
  step_started: ':arrows_counterclockwise:',
  step_resumed: ':repeat:',
  step_retrying: ':repeat:',
  step_succeeded: ':heavy_check_mark:',
  step_failed: ':x:',
  step_fenced: ':shield:',
  step_aborted: ':octagonal_sign:',
  step_retry_requested: ':repeat:',
  verification: ':mag:',
  migration_aborted: ':octagonal_sign:',
  migration_succeeded: ':tada:',
  migration_failed: ':x:',
  migration_rejected: ':no_entry:',
  note: ':information_source:',
  error: ':warning:',
};

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/** User ids this event may mention: the actor and the people of the migration. */
function peopleOf(event: AuditEvent, m: Migration): string[] {
  const ids = new Set<string>([event.actor, m.requester]);
  if (m.buddy) ids.add(m.buddy);
  const approvers = event.data?.approvers;
  if (Array.isArray(approvers)) for (const a of approvers) if (typeof a === 'string') ids.add(a);
  return [...ids].filter((id) => SLACK_USER.test(id)).sort((a, b) => b.length - a.length);
}

/** Escapes the sentence, then turns the known user ids in it into mentions. */
export function mentionize(text: string, people: string[]): string {
  let out = escapeMrkdwn(text);
  for (const id of people) out = out.replace(new RegExp(`\\b${id}\\b`, 'g'), `<@${id}>`);
  return out;
}

/** Per-database counts and difference classes from a verification event's data. */
export function verificationDetails(data: Record<string, unknown> | undefined): string[] {
  if (!data) return [];
  const lines: string[] = [];
  const dbs = Array.isArray(data.dbs) ? (data.dbs as Record<string, unknown>[]) : [];
  for (const d of dbs.slice(0, 16)) {
    if (typeof d?.db !== 'number') continue;
    const src = typeof d.sourceKeys === 'number' ? formatCount(d.sourceKeys) : '?';
    const dst = typeof d.targetKeys === 'number' ? formatCount(d.targetKeys) : '?';
    lines.push(`• db ${d.db}: ${src} keys on the source, ${dst} on the target`);
  }
  if (dbs.length > 16) lines.push(`• … and ${dbs.length - 16} more databases`);
  const diffs = data.differences;
  if (diffs && typeof diffs === 'object') {
    for (const [kind, v] of Object.entries(diffs as Record<string, { count?: number }>)) {
      if (typeof v?.count === 'number' && v.count > 0)
        lines.push(`• ${formatCount(v.count)} ${escapeMrkdwn(kind)}`);
    }
  }
  if (typeof data.keysChecked === 'number') {
    lines.push(`${formatCount(data.keysChecked)} keys checked${data.sampled ? ' (sampled)' : ''}`);
  }
  if (typeof data.lagBytes === 'number') lines.push(`replication lag: ${formatCount(data.lagBytes)} bytes`);
  return lines;
}

export function eventReplyView(event: AuditEvent, m: Migration): ThreadReplyView {
  const people = peopleOf(event, m);
  const step = event.stepId ? findStep(m, event.stepId) : undefined;
  const context = [slackDate(event.at)];
  if (event.stepId) context.push(`step \`${escapeMrkdwn(event.stepId)}\``);
  if (SLACK_USER.test(event.actor)) context.push(`by <@${event.actor}>`);
  else if (event.actor.startsWith('worker:')) context.push(escapeMrkdwn(event.actor));
  const view: ThreadReplyView = {
    icon: ICON[event.type] ?? ':small_blue_diamond:',
    text: mentionize(event.message, people),
    context,
    fallback: event.message,
  };
  const abortHint = `\`/migrate abort ${escapeMrkdwn(m.id)}\``;
  const ref = step ? encodeStepRef({ migrationId: m.id, stepId: step.id, stepHash: step.hash }) : undefined;
  switch (event.type) {
    case 'step_succeeded': {
      const ms = event.data?.durationMs;
      if (typeof ms === 'number') context.push(`took ${formatDuration(ms / 1000)}`);
      break;
    }
    case 'verification':
      view.details = verificationDetails(event.data);
      break;
    case 'step_failed':
      view.next =
        `fix the cause, then run the step again with the button (a gated step asks for approval again), ` +
        `or stop with ${abortHint}.`;
      if (ref && step?.status === 'failed') {
        view.action = {
          actionId: RETRY_ACTION_ID,
          text: 'Run the step again',
          value: ref,
          confirm: {
            title: 'Run the step again?',
            text: `"${step.title}" runs again from its checkpoint.`,
            button: 'Run again',
          },
        };
      }
      break;
    case 'approval_expired':
      view.next = `ask for the approval again with the button, or stop with ${abortHint}.`;
      if (ref && step?.status === 'expired') {
        view.action = { actionId: REREQUEST_ACTION_ID, text: 'Ask again', value: ref };
      }
      break;
    case 'step_rejected':
    case 'migration_rejected':
      view.next = `the migration stopped here. Plan it again with \`/migrate plan\` when the reason is dealt with.`;
      break;
    case 'migration_failed':
      view.next = `see the failed step above: run it again from its message, or stop with ${abortHint}.`;
      break;
    case 'migration_aborted':
      view.next = 'check source and target (above: what ran and what it left behind) before planning again.';
      break;
    case 'step_aborted':
      view.next = 'nothing to click: the abort is under way.';
      break;
    case 'error':
      view.next = `\`/migrate status ${escapeMrkdwn(m.id)}\` shows where it stands; the app logs have details.`;
      break;
    default:
      break;
  }
  return view;
}
