// A pure parser for the text of `/migrate ...`. It never throws, and it never repeats back what
// was typed: the parser cannot tell a name from a password that looks like one ("Fz-pw-9731"), so
// its errors name the position (the source, an option) and list what is allowed instead.
import type { NonEmptyTargetPolicy, PlanOptions } from '../../planner/types.js';
import { containsCredentials } from '../pasted-credentials.js';
import { isSubcommand, overviewUsage, STRATEGY_CHOICES, type Subcommand, USAGE } from './usage.js';

export interface PlanCommand {
  kind: 'plan';
  source: string;
  target: string;
  strategy: PlanOptions['strategy'];
  /** Slack user id of the named buddy (from an escaped mention), never a display name. */
  buddyId?: string;
  dbs: 'all' | number[];
  match?: string;
  onNonEmptyTarget: NonEmptyTargetPolicy;
}

export type MigrateCommand =
  | { kind: 'help'; topic?: Subcommand }
  | { kind: 'endpoints' }
  | PlanCommand
  | { kind: 'status'; id?: string }
  | { kind: 'list' }
  | { kind: 'verify'; id: string }
  | { kind: 'abort'; id: string }
  | { kind: 'audit'; id: string }
  | { kind: 'unlock'; endpoint: string };

export type ParseError = {
  ok: false;
  /** What was wrong, in one or two sentences; safe to show (never contains what looked secret). */
  error: string;
  /** The right form of the command. */
  usage: string;
  /** True when the text was refused because it looked like a connection string or password. */
  sensitive?: boolean;
};
export type ParseResult = { ok: true; command: MigrateCommand } | ParseError;

/** Same rule as endpoint names in the config schema. */
export const ENDPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Migration ids: no ':' (BullMQ job ids), no spaces, bounded. */
export const MIGRATION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;
const MAX_TEXT = 1000;
const MAX_MATCH = 256;
const MAX_DB = 100_000;

export const SENSITIVE_REFUSAL =
  'That looked like a connection string or a password, so it was not used (and is not repeated here). ' +
  'Endpoints are named in the config, never pasted into Slack, because channel history is forever: ' +
  'run `/migrate endpoints` to see the names. If it was a real password, consider rotating it.';

export function parseMigrateCommand(text: string): ParseResult {
  try {
    return parse(typeof text === 'string' ? text : '');
  } catch {
    // Defensive: the rules below should not throw, but a refusal is the only safe answer if they do.
    return fail('That could not be read.', overviewUsage());
  }
}

function parse(text: string): ParseResult {
  if (text.length > MAX_TEXT) {
    return fail(`That is too long for a /migrate command (over ${MAX_TEXT} characters).`, overviewUsage());
  }
  const sensitive = containsCredentials(text);
  if (sensitive) return { ok: false, error: SENSITIVE_REFUSAL, usage: usageFor(text), sensitive: true };

  const words = tokenize(text);
  if (words.length === 0) return { ok: true, command: { kind: 'help' } };
  const [first, ...rest] = words as [string, ...string[]];
  const sub = first.toLowerCase();
  if (!isSubcommand(sub)) return fail('Unknown subcommand.', overviewUsage());
  switch (sub) {
    case 'help': {
      if (rest.length === 0) return { ok: true, command: { kind: 'help' } };
      const topic = rest[0]!.toLowerCase();
      if (rest.length === 1 && isSubcommand(topic)) return { ok: true, command: { kind: 'help', topic } };
      return fail('help takes at most one subcommand name.', USAGE.help);
    }
    case 'endpoints':
    case 'list':
      if (rest.length > 0) return fail(`${sub} takes no arguments.`, USAGE[sub]);
      return { ok: true, command: { kind: sub } };
    case 'status': {
      if (rest.length === 0) return { ok: true, command: { kind: 'status' } };
      if (rest.length > 1) return fail('status takes at most one migration id.', USAGE.status);
      const id = parseId(rest[0]!);
      if (!id) return fail(badIdMessage(), USAGE.status);
      return { ok: true, command: { kind: 'status', id } };
    }
    case 'verify':
    case 'abort':
    case 'audit': {
      if (rest.length !== 1) return fail(`${sub} needs exactly one migration id.`, USAGE[sub]);
      const id = parseId(rest[0]!);
      if (!id) return fail(badIdMessage(), USAGE[sub]);
      return { ok: true, command: { kind: sub, id } };
    }
    case 'plan':
      return parsePlan(rest);
    case 'unlock': {
      if (rest.length !== 1 || !ENDPOINT_NAME.test(rest[0]!)) {
        return fail(
          'unlock needs exactly one endpoint name (`/migrate endpoints` lists them).',
          USAGE.unlock,
        );
      }
      return { ok: true, command: { kind: 'unlock', endpoint: rest[0]! } };
    }
  }
}

function parsePlan(words: string[]): ParseResult {
  const usage = USAGE.plan;
  const positional: string[] = [];
  const seen = new Set<string>();
  const command: PlanCommand = {
    kind: 'plan',
    source: '',
    target: '',
    strategy: 'auto',
    dbs: 'all',
    onNonEmptyTarget: 'refuse',
  };
  let targetPolicy: 'replace' | 'flush-target' | undefined;

  for (const word of words) {
    const lower = word.toLowerCase();
    if (lower === 'replace' || lower === 'flush-target') {
      if (targetPolicy && targetPolicy !== lower) {
        return fail('Choose one of replace and flush-target, not both.', usage);
      }
      targetPolicy = lower;
      continue;
    }
    if (word.startsWith('<@')) return fail('To name a buddy, write buddy=@user.', usage);
    if (word.startsWith('<')) return fail('Only endpoint names and key=value options are expected.', usage);
    const eq = word.indexOf('=');
    if (eq === -1) {
      positional.push(word);
      continue;
    }
    const key = word.slice(0, eq).toLowerCase();
    const value = word.slice(eq + 1);
    if (!['strategy', 'buddy', 'db', 'match'].includes(key)) {
      return fail('Unknown option; plan knows strategy=, buddy=, db= and match=.', usage);
    }
    if (seen.has(key)) return fail(`${key}= is given twice.`, usage);
    seen.add(key);
    switch (key) {
      case 'strategy': {
        const s = value.toLowerCase();
        if (!(STRATEGY_CHOICES as readonly string[]).includes(s)) {
          return fail(`strategy= must be one of ${STRATEGY_CHOICES.join(', ')}.`, usage);
        }
        command.strategy = s as PlanCommand['strategy'];
        break;
      }
      case 'buddy': {
        const id = mentionedUserId(value);
        if (!id) {
          return fail(
            'buddy= must be a Slack mention like buddy=@alex (type @ and pick the person from the list).',
            usage,
          );
        }
        command.buddyId = id;
        break;
      }
      case 'db': {
        const dbs = parseDbs(value);
        if (!dbs) {
          return fail(
            `db= must be all, or database numbers separated by commas like db=0,3 (0 to ${MAX_DB}).`,
            usage,
          );
        }
        command.dbs = dbs;
        break;
      }
      case 'match': {
        const pattern = decodeEntities(value);
        if (pattern.length === 0) return fail('match= needs a key pattern, like match=session:*.', usage);
        if (pattern.length > MAX_MATCH) {
          return fail(`match= pattern is too long (at most ${MAX_MATCH} characters).`, usage);
        }
        if (hasControlCharacters(pattern)) return fail('match= pattern contains control characters.', usage);
        if (looksLikeHostAddress(pattern))
          return { ok: false, error: SENSITIVE_REFUSAL, usage, sensitive: true };
        command.match = pattern;
        break;
      }
    }
  }

  if (positional.length < 2) {
    return fail(
      positional.length === 0
        ? 'plan needs a source and a target endpoint name.'
        : 'plan needs a target endpoint name after the source.',
      usage,
    );
  }
  if (positional.length > 2) {
    return fail(
      'plan takes exactly two endpoint names (source, target); options are written key=value.',
      usage,
    );
  }
  const [source, target] = positional as [string, string];
  for (const [role, name] of [
    ['source', source],
    ['target', target],
  ] as const) {
    if (looksLikeHost(name)) {
      return { ok: false, error: SENSITIVE_REFUSAL, usage, sensitive: true };
    }
    if (!ENDPOINT_NAME.test(name)) {
      return fail(
        `The ${role} is not an endpoint name (letters, digits, dots, dashes and underscores, at most 64 ` +
          'characters). Run `/migrate endpoints` to see the names.',
        usage,
      );
    }
  }
  if (source === target) return fail('Source and target are the same endpoint name.', usage);
  command.source = source;
  command.target = target;
  if (targetPolicy === 'replace') command.onNonEmptyTarget = 'replace';
  if (targetPolicy === 'flush-target') command.onNonEmptyTarget = 'flush';
  return { ok: true, command };
}

// --- word-level helpers -------------------------------------------------------------------------

/**
 * Splits on any Unicode whitespace, keeping Slack's escaped `<...>` sequences whole (a mention's
 * label may contain spaces).
 */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '<') {
      const end = text.indexOf('>', i);
      if (end === -1) {
        current += text.slice(i);
        break;
      }
      current += text.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    if (/\s/.test(ch)) {
      if (current) words.push(current);
      current = '';
    } else {
      current += ch;
    }
    i += 1;
  }
  if (current) words.push(current);
  return words;
}

/** `<@U123|alex>` or `<@U123>` -> `U123`; the label after `|` is ignored (it can be changed by anyone). */
function mentionedUserId(value: string): string | undefined {
  const m = /^<@([A-Z0-9]+)(\|[^>]*)?>$/.exec(value);
  if (!m || !SLACK_USER_ID.test(m[1]!)) return undefined;
  return m[1];
}

function parseDbs(value: string): 'all' | number[] | undefined {
  if (value.toLowerCase() === 'all') return 'all';
  if (!/^\d{1,6}(,\d{1,6})*$/.test(value)) return undefined;
  const dbs = [...new Set(value.split(',').map(Number))].sort((a, b) => a - b);
  return dbs.every((n) => n <= MAX_DB) ? dbs : undefined;
}

function parseId(word: string): string | undefined {
  return MIGRATION_ID.test(word) ? word : undefined;
}

function badIdMessage(): string {
  return 'That is not a migration id (letters, digits, dashes and underscores; `/migrate list` shows them).';
}

/** Slack escapes &, < and > in command text; a key pattern wants the characters themselves. */
function decodeEntities(value: string): string {
  return value.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function hasControlCharacters(value: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value);
}

function usageFor(text: string): string {
  const first = tokenize(text)[0]?.toLowerCase();
  return first && isSubcommand(first) ? USAGE[first] : USAGE.plan;
}

function fail(error: string, usage: string): ParseError {
  return { ok: false, error, usage };
}

/**
 * In a key pattern, only unmistakable addresses count (an IPv4 address, or a dotted host with a
 * port): `user:1000` is a fine key, `cache.example.com:6379` is not.
 */
function looksLikeHostAddress(value: string): boolean {
  return (
    /^\d{1,3}(\.\d{1,3}){3}(:\d+)?$/.test(value) || /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+:\d{2,5}$/.test(value)
  );
}

/** An IP address or a host:port is a connection detail, not a name. */
function looksLikeHost(word: string): boolean {
  return (
    /^\d{1,3}(\.\d{1,3}){3}(:\d+)?$/.test(word) ||
    /^\[?[0-9a-f]*:[0-9a-f:.]*\]?(:\d+)?$/i.test(word) ||
    /^[A-Za-z0-9.-]+:\d{1,5}$/.test(word)
  );
}
