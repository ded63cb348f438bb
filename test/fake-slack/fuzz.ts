// Random /migrate texts for fuzz tests: a seeded generator (so a failure can be replayed) that
// mixes real command words with unicode, control characters, Slack escapes and pasted secrets.

export type Rng = () => number;

/** mulberry32: small, fast, good enough to spread test inputs. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A word shaped like a name that names nothing configured (a password typed where a name goes):
 * no answer may repeat it.
 */
export const UNCONFIGURED_NAME = 'Fz-pw-9731';

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const int = (rng: Rng, max: number) => Math.floor(rng() * max);

const WORDS = [
  'plan',
  'status',
  'list',
  'verify',
  'abort',
  'audit',
  'endpoints',
  'help',
  'PLAN',
  'Help',
  'old-cache',
  'new-cache',
  'prod.cache',
  'mig-42',
  UNCONFIGURED_NAME,
  UNCONFIGURED_NAME,
  'a',
  '0',
  'replace',
  'flush-target',
  'strategy=auto',
  'strategy=replication',
  'strategy=dump-restore',
  'strategy=migrate',
  'strategy=bogus',
  'db=all',
  'db=0,3',
  'db=1,,2',
  'db=-1',
  'db=999999999',
  'match=session:*',
  'match=',
  'match=a&amp;b',
  'buddy=<@U0BUDDY|alex>',
  'buddy=<@U0BUDDY>',
  'buddy=@alex',
  'buddy=<@lowercase>',
  'foo=bar',
  '=',
  '==',
  '<@U0ALEX|alex>',
  '<#C0CHAN|general>',
  '<!here>',
  '<!subteam^S0GRP|@sre>',
  '<http://evil.example|evil>',
  '<mailto:a@b.c|a@b.c>',
  '&lt;script&gt;',
  '10.0.0.5',
  'host:6379',
  '[::1]:6379',
  'café',
  'ǅ',
  '日本語',
];

const ODD_CHARS = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u200b',
  '\u200e',
  '\u202e',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '\ud83d\ude80',
  '\ud800',
  '\udfff',
  '\t',
  '\n',
  '\r',
  '`',
  '*',
  '_',
  '~',
  '|',
  '<',
  '>',
  '&',
  '"',
  "'",
  '\\',
  '/',
  ':',
  '@',
  '=',
  ',',
  '%',
  '#',
  '!',
  '^',
  '$',
];

/** One random text: words, odd characters, or both; sometimes very long. */
export function randomCommandText(rng: Rng): string {
  const shape = rng();
  if (shape < 0.05) return pick(rng, ODD_CHARS).repeat(1 + int(rng, 6000));
  if (shape < 0.1) {
    // Long random BMP + astral soup.
    let s = '';
    const n = 1 + int(rng, 3000);
    for (let i = 0; i < n; i += 1) s += String.fromCodePoint(int(rng, rng() < 0.9 ? 0x3000 : 0x10ffff));
    return s.replace(/[\ud800-\udfff]/g, (c) => (rng() < 0.5 ? c : ''));
  }
  if (shape < 0.5) return structuredCommand(rng);
  const parts: string[] = [];
  const n = int(rng, 9);
  for (let i = 0; i < n; i += 1) {
    const r = rng();
    if (r < 0.6) parts.push(pick(rng, WORDS));
    else if (r < 0.85) parts.push(pick(rng, WORDS) + pick(rng, ODD_CHARS) + pick(rng, WORDS));
    else {
      let junk = '';
      const m = 1 + int(rng, 12);
      for (let j = 0; j < m; j += 1) junk += pick(rng, ODD_CHARS);
      parts.push(junk);
    }
  }
  const sep = () => pick(rng, [' ', ' ', ' ', '  ', '\t', '\u00a0', '\n', '\u3000']);
  return parts.reduce((acc, p, i) => (i === 0 ? p : acc + sep() + p), '');
}

const NAMES = [
  'old-cache',
  'new-cache',
  'prod.cache',
  'a',
  'b',
  'x_1',
  'old-cache',
  'café',
  '10.0.0.5',
  'h:1',
];
const OPTIONS = [
  'strategy=auto',
  'strategy=replication',
  'strategy=dump-restore',
  'strategy=migrate',
  'strategy=x',
  'db=all',
  'db=0',
  'db=0,3',
  'db=15,2,2',
  'db=a',
  'match=user:*',
  'match=a&amp;b&lt;',
  'match=*',
  'buddy=<@U0BUDDY|alex>',
  'buddy=<@W0X>',
  'buddy=alex',
  'replace',
  'flush-target',
  'REPLACE',
];
const IDS = ['mig-42', 'm_1', 'x', 'mig:1', '1', '-bad', 'a'.repeat(70)];

/** A subcommand followed by plausible arguments, some of them slightly wrong. */
function structuredCommand(rng: Rng): string {
  const sub = pick(rng, [
    'plan',
    'plan',
    'plan',
    'status',
    'verify',
    'abort',
    'audit',
    'list',
    'endpoints',
    'help',
  ]);
  const words = [rng() < 0.1 ? sub.toUpperCase() : sub];
  if (sub === 'plan') {
    const names = rng() < 0.9 ? 2 : int(rng, 4);
    for (let i = 0; i < names; i += 1) words.push(pick(rng, NAMES));
    const options = int(rng, 5);
    for (let i = 0; i < options; i += 1) words.push(pick(rng, OPTIONS));
  } else if (sub !== 'list' && sub !== 'endpoints') {
    if (rng() < 0.8) words.push(sub === 'help' ? pick(rng, ['plan', 'status', 'nope']) : pick(rng, IDS));
  }
  if (rng() < 0.15) words.splice(1 + int(rng, words.length), 0, pick(rng, ODD_CHARS) + pick(rng, WORDS));
  for (let i = words.length - 1; i > 1; i -= 1) {
    const j = 1 + int(rng, i);
    [words[i], words[j]] = [words[j]!, words[i]!];
  }
  return words.join(rng() < 0.8 ? ' ' : '  ');
}

/** A text that embeds `secret` the way people paste credentials; it must be refused, never echoed. */
export function textWithSecret(rng: Rng, secret: string): string {
  const forms = [
    `redis://default:${secret}@db.internal:6379/0`,
    `rediss://:${secret}@cache.example.com:6380`,
    `redis://app:${secret}@10.0.0.5`,
    `http://admin:${secret}@dashboard.example`,
    `<redis://u:${secret}@h:6379|redis://u:${secret}@h:6379>`,
    `<https://x.example/?key=${secret}|link>`,
    `app:${secret}@10.0.0.5:6379`,
    `password=${secret}`,
    `PASSWORD = ${secret}`,
    `requirepass=${secret}`,
    `token=${secret}`,
    `--pass ${secret}`,
    `-a ${secret}`,
    `xoxb-${secret}`,
    `xapp-1-${secret}`,
  ];
  const prefix = pick(rng, ['plan old-cache', 'plan', 'status', '', 'verify', 'plan new-cache old-cache']);
  const suffix = pick(rng, ['', 'new-cache', 'strategy=auto', 'replace', `buddy=<@U0BUDDY|x>`]);
  if (rng() < 0.1) return `AUTH default ${secret}`;
  return [prefix, pick(rng, forms), suffix].filter(Boolean).join(' ');
}

export function randomSecret(rng: Rng): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let s = 'S3';
  for (let i = 0; i < 14; i += 1) s += alphabet[int(rng, alphabet.length)];
  return s;
}
