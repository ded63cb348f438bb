import { DETAILS, SUBCOMMANDS, SUMMARY, type Subcommand, USAGE } from '../slash-command/usage.js';
import { contextBlock, header, message, type SlackMessage, section } from './message.js';

const NEVER_PASTE =
  'Endpoints are named in the config; never paste URLs or passwords into Slack, because channel history is forever.';

/** The `/migrate help` reply: every subcommand, or the details of one. */
export function helpMessage(topic?: Subcommand): SlackMessage {
  if (topic) {
    const lines = [`\`${USAGE[topic]}\``, SUMMARY[topic], ...(DETAILS[topic] ?? [])];
    return message(`${USAGE[topic]}: ${SUMMARY[topic]}`, [
      section(lines.join('\n')),
      contextBlock(NEVER_PASTE),
    ]);
  }
  const lines = SUBCOMMANDS.map((s) => `\`${USAGE[s]}\`\n      ${SUMMARY[s]}`);
  return message('migration-buddy: /migrate plan|status|list|verify|abort|audit|endpoints|help', [
    header('migration-buddy'),
    section(
      'Plans and runs zero-downtime Redis migrations. Every irreversible step waits for a second ' +
        'person, your buddy, to approve it here.',
    ),
    section(lines.join('\n')),
    contextBlock(NEVER_PASTE, '`/migrate help plan` explains the plan options.'),
  ]);
}
