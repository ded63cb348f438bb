// The status card: the root message of a migration, updated in place as it moves. It takes a view
// model (filled from the runbook elsewhere) and always fits one message, however long the lists are.
import { MIGRATION_STATUSES, STEP_STATUSES } from '../../runbook/model.js';
import { LIMITS } from './limits.js';
import {
  contextBlock,
  divider,
  header,
  message,
  type SlackMessage,
  section,
  sectionsFromLines,
} from './message.js';
import {
  escapeMrkdwn,
  fitLines,
  formatCount,
  formatDuration,
  type KnownBlock,
  mention,
  mrkdwn,
  slackDate,
  truncate,
} from './text.js';

// The card's states are the runbook's statuses (one source: runbook/model.ts) plus what only a
// card shows: a step left out of the run, a migration not yet started (planned, or blocked).
export const CARD_STEP_STATES = [...STEP_STATUSES, 'skipped'] as const;
export type CardStepState = (typeof CARD_STEP_STATES)[number];

export const CARD_MIGRATION_STATES = ['planned', 'blocked', ...MIGRATION_STATUSES] as const;
export type CardMigrationState = (typeof CARD_MIGRATION_STATES)[number];

export interface CardEndpoint {
  name: string;
  /** Short facts, e.g. "Redis 7.2.4 · 1.2M keys · rediss://***@cache:6380". Never credentials. */
  detail?: string;
}

export interface CardStep {
  id: string;
  title: string;
  state: CardStepState;
  /** Waits for a person (approval or confirmation) before it runs. */
  gated?: boolean;
  /** One short line: why it failed, who approved, how long it took. */
  note?: string;
  /** A person the note is about ("approved by", "waiting for"), shown as a mention after it. */
  by?: string;
}

export interface CardProgress {
  /** What is being counted, e.g. "Bulk copy" or "Sync". */
  label?: string;
  /** Keys done so far; leave unset for steps that do not count keys. */
  keysCopied?: number;
  keysTotal?: number;
  keysPerSecond?: number;
  etaSeconds?: number | null;
  lagSeconds?: number;
  lagBytes?: number;
  /** A short free-text line from the step, e.g. "db0: 1,200 keys, link up". */
  detail?: string;
  /** A step run as one job per cluster shard: a line each (the totals above sum them). */
  shards?: CardShardLine[];
}

export interface CardShardLine {
  /** The node scanned, with the shard's id shortened. */
  label: string;
  state: 'waiting' | 'running' | 'done' | 'failed';
  keysDone: number;
  keysTotal: number | null;
  worker?: string;
}

/** Shard lines on the card; the rest are counted in "and N more". */
export const CARD_SHARD_LINES = 10;

export interface MigrationCardView {
  id: string;
  state: CardMigrationState;
  source: CardEndpoint;
  target: CardEndpoint;
  strategy: {
    chosen: string | null;
    /** Why the chosen one. */
    why?: string;
    ruledOut: { strategy: string; reasons: string[] }[];
  };
  blockers: string[];
  warnings: string[];
  /** Which databases are copied into which ("db 3 -> db 5 only (the databases in the URLs)"). */
  databases?: string;
  steps: CardStep[];
  requesterId: string;
  buddyId?: string;
  progress?: CardProgress;
  updatedAt?: Date | string;
  /** A last line, e.g. "Decisions and results are in the thread." */
  footer?: string;
}

const STEP_EMOJI: Record<CardStepState, string> = {
  pending: ':white_circle:',
  awaiting_approval: ':raised_hand:',
  approved: ':ballot_box_with_check:',
  running: ':arrows_counterclockwise:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  rejected: ':no_entry:',
  expired: ':hourglass:',
  aborted: ':octagonal_sign:',
  skipped: ':fast_forward:',
};

export const STATE_LABEL: Record<CardMigrationState, string> = {
  planned: ':memo: Planned',
  blocked: ':no_entry: Blocked',
  created: ':memo: Created',
  running: ':arrows_counterclockwise: Running',
  awaiting_approval: ':raised_hand: Waiting for approval',
  expired: ':hourglass: Approval expired',
  succeeded: ':white_check_mark: Done',
  failed: ':x: Failed',
  rejected: ':no_entry: Rejected',
  aborting: ':octagonal_sign: Aborting',
  aborted: ':octagonal_sign: Aborted',
};

/**
 * Character budgets per part. Each is far below its Block Kit limit because Slack also refuses
 * messages whose blocks add up to roughly 13,000 characters (`msg_blocks_too_long`, undocumented,
 * slackapi/bolt-js #2509): the whole card stays under CARD_TEXT_BUDGET.
 */
const BUDGET = { field: 300, strategy: 1500, blockers: 1500, warnings: 1500, stepBlock: 2500 } as const;
/** Steps get at most this many section blocks. */
const STEP_BLOCKS = 2;
export const CARD_TEXT_BUDGET = 12_000;

export function migrationCard(view: MigrationCardView): SlackMessage {
  const src = escapeMrkdwn(view.source.name);
  const dst = escapeMrkdwn(view.target.name);
  const blocks: KnownBlock[] = [
    header(`Migration ${view.id}: ${view.source.name} → ${view.target.name}`),
    {
      type: 'section',
      fields: [
        field(`*Status*\n${STATE_LABEL[view.state] ?? escapeMrkdwn(String(view.state))}`),
        field(`*Strategy*\n${view.strategy.chosen ? escapeMrkdwn(view.strategy.chosen) : '_none possible_'}`),
        field(`*Source*\n${src}${view.source.detail ? `\n${escapeMrkdwn(view.source.detail)}` : ''}`),
        field(`*Target*\n${dst}${view.target.detail ? `\n${escapeMrkdwn(view.target.detail)}` : ''}`),
        field(`*Requested by*\n${mention(view.requesterId)}`),
        field(`*Buddy*\n${view.buddyId ? mention(view.buddyId) : '_not named: any approver_'}`),
        ...(view.databases ? [field(`*Databases*\n${escapeMrkdwn(view.databases)}`)] : []),
      ],
    },
  ];
  if (view.progress) blocks.push(section(truncate(progressLine(view.progress), 500)));
  if (view.progress?.shards?.length) blocks.push(section(truncate(shardLines(view.progress.shards), 2900)));

  const strategyLines: string[] = [];
  if (view.strategy.chosen && view.strategy.why) {
    strategyLines.push(`*Why ${escapeMrkdwn(view.strategy.chosen)}:* ${escapeMrkdwn(view.strategy.why)}`);
  }
  if (view.strategy.ruledOut.length > 0) {
    strategyLines.push('*Ruled out:*');
    for (const r of view.strategy.ruledOut) {
      strategyLines.push(
        `• ${escapeMrkdwn(r.strategy)}: ${escapeMrkdwn(r.reasons.join('; ') || 'not viable')}`,
      );
    }
  }
  if (strategyLines.length > 0) blocks.push(section(fitLines(strategyLines, BUDGET.strategy, 'more')));
  if (view.blockers.length > 0) {
    blocks.push(
      listSection(
        `:no_entry: *Blockers (${view.blockers.length})*`,
        view.blockers,
        BUDGET.blockers,
        'more blockers',
      ),
    );
  }
  if (view.warnings.length > 0) {
    blocks.push(
      listSection(
        `:warning: *Warnings (${view.warnings.length})*`,
        view.warnings,
        BUDGET.warnings,
        'more warnings',
      ),
    );
  }
  if (view.steps.length > 0) {
    blocks.push(divider());
    const done = view.steps.filter((s) => s.state === 'succeeded' || s.state === 'skipped').length;
    blocks.push(
      ...sectionsFromLines(
        [`*Steps* (${done}/${view.steps.length} done)`, ...stepLines(view.steps)],
        STEP_BLOCKS,
        'more steps',
        BUDGET.stepBlock,
      ),
    );
  }
  const context: string[] = [];
  if (view.updatedAt) context.push(`Updated ${slackDate(view.updatedAt)}`);
  if (view.footer) context.push(truncate(escapeMrkdwn(view.footer), 300));
  if (context.length > 0) blocks.push(contextBlock(...context));

  const current = view.steps.find((s) => s.state === 'running' || s.state === 'awaiting_approval');
  const fallback =
    `Migration ${view.id} ${view.source.name} → ${view.target.name}: ${view.state}` +
    (current ? ` (${current.title})` : '');
  return message(fallback, blocks);
}

function field(text: string) {
  return mrkdwn(text, Math.min(BUDGET.field, LIMITS.sectionFieldText));
}

function listSection(title: string, items: string[], budget: number, noun: string): KnownBlock {
  return section(fitLines([title, ...items.map((i) => `• ${escapeMrkdwn(i)}`)], budget, noun));
}

/** One line per step; when the list is long, runs of finished steps fold into one line. */
export function stepLines(steps: CardStep[]): string[] {
  const line = (s: CardStep, i: number) =>
    `${STEP_EMOJI[s.state] ?? ':grey_question:'} ${i + 1}. ${escapeMrkdwn(s.title)}` +
    `${s.gated ? ' :lock:' : ''}${s.note ? ` — ${escapeMrkdwn(s.note)}` : ''}` +
    `${s.by ? `${s.note ? ' ' : ' — '}${mention(s.by)}` : ''}`;
  const full = steps.map(line);
  if (full.join('\n').length <= STEP_BLOCKS * BUDGET.stepBlock - 200) return full;
  const out: string[] = [];
  for (let i = 0; i < steps.length; ) {
    let j = i;
    while (j < steps.length && steps[j]!.state === 'succeeded') j += 1;
    if (j - i >= 2) {
      out.push(`${STEP_EMOJI.succeeded} ${i + 1}–${j}. ${j - i} steps succeeded`);
      i = j;
    } else {
      out.push(line(steps[i]!, i));
      i += 1;
    }
  }
  return out;
}

const SHARD_ICON: Record<CardShardLine['state'], string> = {
  waiting: ':hourglass:',
  running: ':arrows_counterclockwise:',
  done: ':white_check_mark:',
  failed: ':x:',
};

/** A line per shard, running and failed ones first, up to CARD_SHARD_LINES, then "and N more". */
export function shardLines(lines: CardShardLine[]): string {
  const order = { failed: 0, running: 1, waiting: 2, done: 3 } as const;
  const sorted = [...lines].sort((a, b) => order[a.state] - order[b.state]);
  const shown = sorted.slice(0, CARD_SHARD_LINES).map((l) => {
    const keys =
      l.keysTotal !== null && l.keysTotal > 0
        ? `${formatCount(l.keysDone)} / ${formatCount(l.keysTotal)} keys`
        : `${formatCount(l.keysDone)} keys`;
    const who = l.worker ? ` · ${escapeMrkdwn(truncate(l.worker, 60))}` : '';
    return `${SHARD_ICON[l.state]} \`${escapeMrkdwn(truncate(l.label, 80))}\` ${l.state} · ${keys}${who}`;
  });
  const rest = sorted.length - shown.length;
  const done = lines.filter((l) => l.state === 'done').length;
  return [
    `*Shards:* ${done} of ${lines.length} done`,
    ...shown,
    ...(rest > 0 ? [`_and ${rest} more_`] : []),
  ].join('\n');
}

export function progressLine(p: CardProgress): string {
  const parts: string[] = [];
  if (p.keysCopied !== undefined) {
    const copied = formatCount(p.keysCopied);
    if (p.keysTotal !== undefined && p.keysTotal > 0) {
      const pct = Math.min(100, (p.keysCopied / p.keysTotal) * 100);
      parts.push(`${copied} / ${formatCount(p.keysTotal)} keys (${pct.toFixed(pct < 10 ? 1 : 0)}%)`);
    } else {
      parts.push(`${copied} keys`);
    }
  }
  if (p.keysPerSecond !== undefined) parts.push(`${formatCount(p.keysPerSecond)} keys/s`);
  if (p.etaSeconds !== undefined && p.etaSeconds !== null) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  if (p.lagSeconds !== undefined) parts.push(`lag ${formatDuration(p.lagSeconds)}`);
  if (p.lagBytes !== undefined) parts.push(`lag ${formatCount(p.lagBytes)} bytes`);
  if (p.detail) parts.push(escapeMrkdwn(truncate(p.detail, 200)));
  const what = parts.length > 0 ? parts.join(' · ') : 'running';
  return `:arrows_counterclockwise: *${escapeMrkdwn(p.label ?? 'Progress')}:* ${what}`;
}
