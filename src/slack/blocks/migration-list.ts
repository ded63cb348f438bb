// Migrations as a short list (for `/migrate list` and the App Home): one line each with state,
// current step, who asked and where the thread is. Always fits, however many there are.
import { header, message, type SlackMessage, section, sectionsFromLines } from './message.js';
import { type CardMigrationState, STATE_LABEL } from './status-card.js';
import { escapeMrkdwn, type KnownBlock, mention, slackDate } from './text.js';

export interface MigrationSummary {
  id: string;
  source: string;
  target: string;
  state: CardMigrationState;
  /** Title of the step it is at, if any. */
  currentStep?: string;
  requesterId: string;
  buddyId?: string;
  /** Channel of its thread, if it was planned in Slack. */
  channelId?: string;
  createdAt: string;
}

export function migrationLine(m: MigrationSummary): string {
  const parts = [
    `\`${escapeMrkdwn(m.id)}\` *${escapeMrkdwn(m.source)} → ${escapeMrkdwn(m.target)}*`,
    STATE_LABEL[m.state] ?? escapeMrkdwn(String(m.state)),
  ];
  if (m.currentStep) parts.push(`at "${escapeMrkdwn(m.currentStep)}"`);
  parts.push(`by ${mention(m.requesterId)}${m.buddyId ? `, buddy ${mention(m.buddyId)}` : ''}`);
  if (m.channelId && /^[CGD][A-Z0-9]+$/.test(m.channelId)) parts.push(`<#${m.channelId}>`);
  parts.push(slackDate(m.createdAt));
  return parts.join(' · ');
}

/** Section blocks listing `items` under a bold title; at most `maxBlocks` blocks. */
export function migrationListBlocks(title: string, items: MigrationSummary[], maxBlocks = 10): KnownBlock[] {
  if (items.length === 0) return [section(`*${escapeMrkdwn(title)}*\n_none_`)];
  return sectionsFromLines(
    [`*${escapeMrkdwn(title)}* (${items.length})`, ...items.map(migrationLine)],
    maxBlocks,
    'more migrations',
    2900,
  );
}

/** The `/migrate list` reply. */
export function migrationListMessage(items: MigrationSummary[]): SlackMessage {
  if (items.length === 0) {
    return message('No migrations yet.', [
      section('No migrations yet. Start one with `/migrate plan <source> <target> buddy=@someone`.'),
    ]);
  }
  return message(`${items.length} migrations`, [
    header('Migrations'),
    ...migrationListBlocks('Most recent first', items, 20),
  ]);
}
