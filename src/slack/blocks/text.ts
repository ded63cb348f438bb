// Text helpers for Block Kit: escaping people-supplied text, and cutting text and lists so that a
// message can never exceed Slack's limits, saying how much was left out.
import type { types } from '@slack/bolt';
import { scrub } from '../../util/secrets.js';

export type KnownBlock = types.KnownBlock;
export type MrkdwnElement = types.MrkdwnElement;
export type PlainTextElement = types.PlainTextElement;

/**
 * Cuts `text` to at most `max` characters, ending with "… (N more characters)" when anything was
 * cut. Never splits a surrogate pair, a Slack `<...>` entity or an `&amp;`-style escape.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // The suffix length depends on N, which depends on where we cut: iterate until it is stable.
  let keep = Math.max(0, max - suffix(text.length).length);
  for (let i = 0; i < 4; i += 1) {
    const cut = safeCut(text, keep);
    const s = suffix(text.length - cut.length);
    if (cut.length + s.length <= max) return cut + s;
    keep = Math.max(0, max - s.length - 1);
  }
  // Degenerate max (smaller than the suffix): a bare ellipsis is all that fits.
  return max >= 1 ? '…' : '';
}

function suffix(omitted: number): string {
  return `… (${omitted} more character${omitted === 1 ? '' : 's'})`;
}

function safeCut(text: string, keep: number): string {
  let end = Math.min(keep, text.length);
  // Don't leave half of a surrogate pair.
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  let cut = text.slice(0, end);
  // Don't cut inside <@U123|name>, <!date^...> or a link: drop the unfinished entity.
  const open = cut.lastIndexOf('<');
  if (open !== -1 && cut.indexOf('>', open) === -1) cut = cut.slice(0, open);
  // Don't cut inside &amp; &lt; &gt;.
  const amp = cut.lastIndexOf('&');
  if (amp !== -1 && amp >= cut.length - 4 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return cut.trimEnd();
}

/** Escapes text from people or servers for mrkdwn, so it cannot mention @channel or forge links. */
export function escapeMrkdwn(text: string): string {
  return scrub(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `code` span that survives backticks in the text. */
export function code(text: string): string {
  return `\`${escapeMrkdwn(text).replace(/`/g, 'ˋ')}\``;
}

/**
 * Joins lines into one text of at most `max` characters; lines that do not fit are replaced by
 * "… and N more <noun>". A single over-long line is itself truncated.
 */
export function fitLines(lines: string[], max: number, noun = 'more'): string {
  const out: string[] = [];
  let used = 0;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const remaining = lines.length - i - 1;
    // Reserve room for the "and N more" line unless this is the last line.
    const reserve = remaining > 0 ? moreLine(remaining, noun).length + 1 : 0;
    const sep = out.length > 0 ? 1 : 0;
    if (used + sep + line.length + reserve <= max) {
      out.push(line);
      used += sep + line.length;
      continue;
    }
    const room = max - used - sep - (remaining > 0 ? moreLine(remaining, noun).length + 1 : 0);
    if (out.length === 0 && room >= 40) {
      // Nothing shown yet: show the start of this line rather than only a count.
      out.push(truncate(line, room));
      if (remaining > 0) out.push(moreLine(remaining, noun));
      return out.join('\n');
    }
    out.push(moreLine(lines.length - i, noun));
    return truncate(out.join('\n'), max);
  }
  return out.join('\n');
}

function moreLine(n: number, noun: string): string {
  return `… and ${n} ${noun}`;
}

/** Keeps at most `max` items; the last kept item is replaced by a summary when some are dropped. */
export function fitItems<T>(items: T[], max: number, summary: (omitted: number) => T): T[] {
  if (items.length <= max) return items;
  const kept = items.slice(0, Math.max(0, max - 1));
  return [...kept, summary(items.length - kept.length)];
}

/** Slack rejects empty text objects, so an empty text becomes a visible placeholder. */
export function mrkdwn(text: string, max: number = 3000): MrkdwnElement {
  return { type: 'mrkdwn', text: truncate(text.trim() ? text : '_(empty)_', max) };
}

export function plain(text: string, max: number): PlainTextElement {
  return { type: 'plain_text', text: truncate(text.trim() ? text : '(empty)', max), emoji: true };
}

/** Slack renders this in each reader's own time zone; the fallback is UTC. */
export function slackDate(at: Date | string | number): string {
  const d = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(d.getTime())) return 'an unknown time';
  const seconds = Math.floor(d.getTime() / 1000);
  const fallback = d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return `<!date^${seconds}^{date_short_pretty} {time_secs}|${fallback}>`;
}

export function mention(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(userId);
}

export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '?';
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${m % 60}m`;
}

/** Refusal reasons from the runbook are lower-case clauses; shown as a sentence. */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const s = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
