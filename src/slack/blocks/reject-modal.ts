// The dialog a Reject click opens: it is the confirmation ("reject this step?") and asks for an
// optional reason. It carries the step reference and where the click came from in
// private_metadata, so the submission can be decided and answered without any other state.
import { decodeStepRef, encodeStepRef, type StepRef } from './approval.js';
import { contextBlock, section } from './message.js';
import { escapeMrkdwn, type KnownBlock, plain } from './text.js';

export const REJECT_MODAL_CALLBACK_ID = 'mb_reject_step';
export const REJECT_REASON_BLOCK_ID = 'mb_reject_reason';
export const REJECT_REASON_ACTION_ID = 'reason';
export const REJECT_REASON_MAX = 500;

/** Modal limits (docs.slack.dev/reference/views): title, submit and close at most 24 characters. */
const MODAL_TITLE_MAX = 24;
const PRIVATE_METADATA_MAX = 3000;
const SLACK_ID = /^[A-Z0-9]{1,32}$/;
const SLACK_TS = /^\d{1,12}\.\d{1,8}$/;

export interface RejectOrigin {
  channelId?: string;
  /** The thread the approval request is in (the migration's root message). */
  threadTs?: string;
  /** The approval request message itself. */
  messageTs?: string;
}

export interface RejectModalView {
  type: 'modal';
  callback_id: string;
  title: ReturnType<typeof plain>;
  submit: ReturnType<typeof plain>;
  close: ReturnType<typeof plain>;
  private_metadata: string;
  blocks: KnownBlock[];
}

export function rejectModal(ref: StepRef, origin: RejectOrigin = {}): RejectModalView {
  const metadata: Record<string, string> = { r: encodeStepRef(ref) };
  if (origin.channelId && SLACK_ID.test(origin.channelId)) metadata.c = origin.channelId;
  if (origin.threadTs && SLACK_TS.test(origin.threadTs)) metadata.t = origin.threadTs;
  if (origin.messageTs && SLACK_TS.test(origin.messageTs)) metadata.m = origin.messageTs;
  const input = {
    type: 'input',
    block_id: REJECT_REASON_BLOCK_ID,
    optional: true,
    label: plain('Reason (optional, shown in the thread)', 2000),
    element: {
      type: 'plain_text_input',
      action_id: REJECT_REASON_ACTION_ID,
      multiline: true,
      max_length: REJECT_REASON_MAX,
      placeholder: plain('e.g. wait until the batch jobs are done', 150),
    },
  } as unknown as KnownBlock;
  return {
    type: 'modal',
    callback_id: REJECT_MODAL_CALLBACK_ID,
    title: plain('Reject this step?', MODAL_TITLE_MAX),
    submit: plain('Reject', MODAL_TITLE_MAX),
    close: plain('Cancel', MODAL_TITLE_MAX),
    private_metadata: JSON.stringify(metadata).slice(0, PRIVATE_METADATA_MAX),
    blocks: [
      section(
        `Reject step \`${escapeMrkdwn(ref.stepId)}\` of migration \`${escapeMrkdwn(ref.migrationId)}\`? ` +
          'The migration stops at this step; planning it again starts over.',
      ),
      input,
      contextBlock('Never paste passwords or connection strings here: the reason goes into the audit trail.'),
    ],
  };
}

/** Reads back what rejectModal stored; undefined for anything it did not write. */
export function decodeRejectMetadata(text: unknown): (StepRef & RejectOrigin) | undefined {
  if (typeof text !== 'string' || text.length > PRIVATE_METADATA_MAX) return undefined;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object') return undefined;
  const ref = decodeStepRef(raw.r);
  if (!ref) return undefined;
  const out: StepRef & RejectOrigin = { ...ref };
  if (typeof raw.c === 'string' && SLACK_ID.test(raw.c)) out.channelId = raw.c;
  if (typeof raw.t === 'string' && SLACK_TS.test(raw.t)) out.threadTs = raw.t;
  if (typeof raw.m === 'string' && SLACK_TS.test(raw.m)) out.messageTs = raw.m;
  return out;
}
