import { UserError } from '../util/errors.js';

/**
 * A refusal for the person in Slack: `message` is plain text (escaped when shown), `next` is
 * mrkdwn written by us (mentions and `code` render) saying what they can do instead, and `usage`
 * the right form of the command when the input was wrong.
 */
export class SlackRefusal extends UserError {
  constructor(
    message: string,
    readonly next?: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'SlackRefusal';
  }
}
