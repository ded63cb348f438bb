// The /migrate subcommands and how each is written; shared by the parser's errors and the help card.

export const SLASH_COMMAND = '/migrate';

export const SUBCOMMANDS = [
  'plan',
  'status',
  'list',
  'verify',
  'abort',
  'audit',
  'unlock',
  'endpoints',
  'help',
] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

export const STRATEGY_CHOICES = ['auto', 'replication', 'psync', 'dump-restore', 'migrate'] as const;

export const USAGE: Record<Subcommand, string> = {
  plan:
    '/migrate plan <source> <target> [strategy=auto|replication|psync|dump-restore|migrate] [buddy=@user] ' +
    '[db=all|0,3] [match=PATTERN] [replace|flush-target]',
  status: '/migrate status [id]',
  list: '/migrate list',
  verify: '/migrate verify <id>',
  abort: '/migrate abort <id>',
  audit: '/migrate audit <id>',
  unlock: '/migrate unlock <endpoint>',
  endpoints: '/migrate endpoints',
  help: '/migrate help [subcommand]',
};

export const SUMMARY: Record<Subcommand, string> = {
  plan: 'probe both endpoints, pick a strategy and post the plan for your buddy to approve',
  status: 'show a migration (the latest in this channel when no id is given)',
  list: 'list recent migrations',
  verify: 'compare source and target of a migration now',
  abort: 'stop a migration; steps already done stay done',
  audit: 'show the audit trail of a migration',
  unlock: 'clear a stale lock on the server an endpoint names (approvers only)',
  endpoints: 'list the endpoints named in the config',
  help: 'this help',
};

/** Details shown by `help <subcommand>` beyond the usage line. */
export const DETAILS: Partial<Record<Subcommand, string[]>> = {
  plan: [
    '`<source>` and `<target>` are endpoint names from the config (`/migrate endpoints`), never URLs.',
    '`strategy=` forces a strategy; `auto` (the default) picks the best one the servers allow.',
    '`buddy=@user` names the person who approves each irreversible step (never yourself; one of the configured approvers when there are any).',
    '`db=` picks databases (`all`, or numbers like `0,3`); `match=` copies only keys matching a pattern.',
    '`replace` overwrites keys that already exist on the target; `flush-target` empties it first.',
  ],
  unlock: [
    'One migration at a time may use a server, as source or target. A lock whose migration is gone or has ended is stale.',
    '`/migrate unlock <endpoint>` clears the stale locks of the server that endpoint names; a lock of an active migration is never cleared (abort it instead).',
  ],
};

export function isSubcommand(word: string): word is Subcommand {
  return (SUBCOMMANDS as readonly string[]).includes(word);
}

/** Every usage line, for errors that cannot tell which subcommand was meant. */
export function overviewUsage(): string {
  return SUBCOMMANDS.map((s) => USAGE[s]).join('\n');
}
