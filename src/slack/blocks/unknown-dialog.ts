import type { types } from '@slack/bolt';

/** Replaces a dialog this app cannot act on (unknown, or its hidden data unreadable). */
export function unknownDialog(): types.ModalView {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'migration-buddy' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: ':warning: This dialog is not one this app knows (it may be from an older version of it); nothing was done. Close it and start again from the migration thread.',
        },
      },
    ],
  };
}
