// The reject dialog was submitted: a reason that looks like a pasted secret is refused inside the
// dialog (nothing is stored); otherwise the dialog closes and the rejection is forwarded with the
// submitter's user id. A refusal reaches the submitter as an ephemeral message in the channel.
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import {
  decodeRejectMetadata,
  REJECT_REASON_ACTION_ID,
  REJECT_REASON_BLOCK_ID,
  REJECT_REASON_MAX,
} from '../../blocks/reject-modal.js';
import { unknownDialog } from '../../blocks/unknown-dialog.js';
import { containsCredentials } from '../../pasted-credentials.js';
import type { StepDecisionRequest } from '../actions/step-decision-handlers.js';
import type { SlackDeps } from '../deps.js';
import { type CommandReply, failureReply } from '../reply.js';

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & Pick<AllMiddlewareArgs, 'logger'>;

export function rejectSubmitted(deps: Pick<SlackDeps, 'decisions' | 'gateway' | 'logger'>) {
  return async ({ ack, body, view }: Args): Promise<void> => {
    const userId = body.user.id;
    const log = deps.logger.child({ user: userId, action: 'reject' });
    const raw = view.state.values[REJECT_REASON_BLOCK_ID]?.[REJECT_REASON_ACTION_ID]?.value ?? '';
    const reason = cleanReason(raw);
    if (containsCredentials(reason)) {
      log.info('reject reason refused: looked like a credential');
      await ack({
        response_action: 'errors',
        errors: {
          [REJECT_REASON_BLOCK_ID]:
            'That looked like a password or a connection string; it was not used. Describe the reason without it.',
        },
      }).catch((err) => log.error({ error: String(err) }, 'could not ack the reject dialog'));
      return;
    }
    const meta = decodeRejectMetadata(view.private_metadata);
    if (!meta) {
      // Edited or from an older version: say so in the dialog rather than closing it silently.
      log.warn('reject dialog with unreadable metadata');
      await ack({ response_action: 'update', view: unknownDialog() }).catch((err) =>
        log.error({ error: String(err) }, 'could not ack the reject dialog'),
      );
      return;
    }
    try {
      await ack();
    } catch (err) {
      log.error({ error: String(err) }, 'could not ack the reject dialog');
      return;
    }
    const request: StepDecisionRequest = { ...meta, userId };
    if (reason) request.reason = reason;
    const where = { migrationId: meta.migrationId, stepId: meta.stepId };
    log.info(where, 'reject submitted');
    let reply: CommandReply | undefined;
    try {
      reply = await deps.decisions.reject(request);
    } catch (err) {
      reply = failureReply(err, log, where);
    }
    if (!reply) return;
    if (!meta.channelId) {
      log.warn(where, 'no channel to tell the person why the rejection did not count');
      return;
    }
    try {
      await deps.gateway.postEphemeral(meta.channelId, userId, reply, meta.threadTs);
    } catch (err) {
      log.warn({ error: String(err) }, 'could not post the ephemeral reply');
    }
  };
}

/** One paragraph of plain text: control characters out, bounded length. */
function cleanReason(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, '')
    .trim()
    .slice(0, REJECT_REASON_MAX);
}
