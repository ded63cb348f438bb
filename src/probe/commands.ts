// Which of the PROBED_COMMANDS this user can run here, found without side effects on data or
// server state: nothing in here runs REPLICAOF, CONFIG SET, MIGRATE, SYNC, PSYNC, CLIENT PAUSE,
// RESTORE or FUNCTION RESTORE for real.
//
// Order of evidence, per command:
//   1. COMMAND INFO <name>: nil means the command is unknown (renamed or disabled).
//   2. ACL DRYRUN <user> <command> <args> (Redis 7+): permission for this user, keys and channels.
//   3. A harmless call where one exists (CONFIG GET maxmemory, CLIENT LIST ID <own id>,
//      CLIENT KILL ID <own id> SKIPME yes, DUMP of a missing key, FUNCTION DUMP): it also catches
//      blocks that live outside ACLs (a provider's proxy). Not sent when DRYRUN already said no,
//      so that denials do not pile up in ACL LOG.
//   4. Without DRYRUN: ACL GETUSER (an "everything allowed" user), or no ACLs at all (Redis < 6).
// A user who may not use ACL at all leaves refusals of ACL WHOAMI/DRYRUN/GETUSER in ACL LOG; that
// diagnostic log is the only thing a probe can add to.
import type { Redis } from 'ioredis';
import { scrub } from '../util/secrets.js';
import { aclReason, type DryRunVerdict, parseAclGrants, readDryRun } from './acl.js';
import { versionAtLeast } from './info.js';
import { type CommandAvailability, PROBED_COMMANDS, type ProbedCommand } from './types.js';

export const UNKNOWN_COMMAND = 'unknown command (renamed or disabled)';

/** A key no one has: DUMP of it is a read that finds nothing. */
const MISSING_KEY = `migration-buddy:probe:missing:${process.pid}:${Date.now()}`;
/** The channel pattern a live sync subscribes to. */
export const KEYSPACE_PATTERN = '__keyspace@*__:*';

interface Check {
  /** First word; the second, if any, is the subcommand. */
  words: [string] | [string, string];
  /** Arguments after the command words for ACL DRYRUN (valid arity, never executed). */
  dryRunArgs: string[];
  /** Lowest Redis version that has the command, when it is recent. */
  since?: [number, number];
  /** Arguments of a call without effects that succeeds exactly when the command is usable. */
  harmless?: (env: CheckEnv) => string[] | null;
}

interface CheckEnv {
  version: string;
  ownId: number | null;
}

const CHECKS: Record<ProbedCommand, Check> = {
  REPLICAOF: { words: ['REPLICAOF'], dryRunArgs: ['NO', 'ONE'] },
  'CONFIG GET': {
    words: ['CONFIG', 'GET'],
    dryRunArgs: ['maxmemory'],
    harmless: () => ['CONFIG', 'GET', 'maxmemory'],
  },
  'CONFIG SET': { words: ['CONFIG', 'SET'], dryRunArgs: ['maxmemory', '0'] },
  MIGRATE: {
    words: ['MIGRATE'],
    dryRunArgs: ['127.0.0.1', '6379', '', '0', '1000', 'KEYS', MISSING_KEY],
  },
  SYNC: { words: ['SYNC'], dryRunArgs: [] },
  PSYNC: { words: ['PSYNC'], dryRunArgs: ['?', '-1'] },
  'CLIENT PAUSE': { words: ['CLIENT', 'PAUSE'], dryRunArgs: ['1000', 'WRITE'] },
  'CLIENT LIST': {
    words: ['CLIENT', 'LIST'],
    dryRunArgs: [],
    // CLIENT LIST ID (6.2+) lists just ourselves; older servers get no harmless call.
    harmless: ({ version, ownId }) =>
      ownId !== null && versionAtLeast(version, 6, 2) ? ['CLIENT', 'LIST', 'ID', String(ownId)] : null,
  },
  'CLIENT KILL': {
    words: ['CLIENT', 'KILL'],
    dryRunArgs: ['ID', '1'],
    // The filter matches only our own connection and SKIPME spares it: kills nothing.
    harmless: ({ ownId }) =>
      ownId !== null ? ['CLIENT', 'KILL', 'ID', String(ownId), 'SKIPME', 'yes'] : null,
  },
  DUMP: { words: ['DUMP'], dryRunArgs: [MISSING_KEY], harmless: () => ['DUMP', MISSING_KEY] },
  RESTORE: { words: ['RESTORE'], dryRunArgs: [MISSING_KEY, '0', 'payload'] },
  'FUNCTION DUMP': {
    words: ['FUNCTION', 'DUMP'],
    dryRunArgs: [],
    since: [7, 0],
    harmless: () => ['FUNCTION', 'DUMP'],
  },
  'FUNCTION RESTORE': { words: ['FUNCTION', 'RESTORE'], dryRunArgs: ['payload'], since: [7, 0] },
  PSUBSCRIBE: { words: ['PSUBSCRIBE'], dryRunArgs: [KEYSPACE_PATTERN] },
};

/** The name COMMAND INFO knows: `config|get` on Redis 7+, the container `config` before. */
function commandInfoName(check: Check, version: string): string {
  const [first, sub] = check.words;
  return sub && versionAtLeast(version, 7) ? `${first}|${sub}`.toLowerCase() : first.toLowerCase();
}

/** A failed call's message turned into a reason for people. */
function errorReason(message: string, user: string, command: string): string {
  if (/^NOPERM/i.test(message)) return aclReason(message, user, command);
  if (/unknown command|unknown subcommand/i.test(message)) return UNKNOWN_COMMAND;
  return scrub(message.replace(/^ERR /, ''));
}

/** Why COMMAND INFO or ACL DRYRUN gave no answer, briefly. */
function briefTrouble(message: string): string {
  if (/^NOPERM/i.test(message)) return 'not permitted for this user';
  if (/unknown command|unknown subcommand/i.test(message)) return 'not supported or renamed';
  return scrub(message);
}

type Outcome = { ok: true } | { ok: false; message: string };

async function pipelined(client: Redis, calls: string[][]): Promise<Outcome[]> {
  if (calls.length === 0) return [];
  const pipeline = client.pipeline();
  for (const [cmd, ...args] of calls) pipeline.call(cmd!, ...args);
  const results = (await pipeline.exec()) ?? [];
  // A cluster node redirects a key it does not own (MOVED/ASK) after the ACL check passed: the
  // command exists and is permitted.
  return results.map(([err]) =>
    err && !/^(MOVED|ASK) \d+ /.test(err.message) ? { ok: false, message: err.message } : { ok: true },
  );
}

export interface CommandDetection {
  commands: Record<ProbedCommand, CommandAvailability>;
  /** The ACL user the answers are about. */
  user: string;
  notes: string[];
}

export async function detectCommands(
  client: Redis,
  version: string,
  endpointUser: string | undefined,
): Promise<CommandDetection> {
  const notes: string[] = [];
  const env: CheckEnv = { version, ownId: null };
  const hasAcl = versionAtLeast(version, 6);

  // 1. Existence. One COMMAND INFO for all names; nil entries are unknown commands.
  const exists = new Map<ProbedCommand, boolean>();
  let commandInfoProblem: string | undefined;
  try {
    const names = PROBED_COMMANDS.map((c) => commandInfoName(CHECKS[c], version));
    const reply = (await client.call('COMMAND', 'INFO', ...names)) as unknown[];
    PROBED_COMMANDS.forEach((c, i) => {
      exists.set(c, reply[i] !== null && reply[i] !== undefined);
    });
  } catch (err) {
    commandInfoProblem = briefTrouble((err as Error).message);
  }

  // Who we are (ACL WHOAMI may be blocked; the URL's user is then the best guess) and our own id.
  const [whoami, clientId] = (await client.pipeline().call('ACL', 'WHOAMI').call('CLIENT', 'ID').exec()) as [
    Error | null,
    unknown,
  ][];
  const user = hasAcl && !whoami[0] ? String(whoami[1]) : (endpointUser ?? 'default');
  env.ownId = clientId[0] ? null : Number(clientId[1]);

  const pending = PROBED_COMMANDS.filter((c) => exists.get(c) !== false);

  // 2. ACL DRYRUN for every command that may exist.
  const dryRun = new Map<ProbedCommand, DryRunVerdict>();
  let dryRunProblem: string | undefined = hasAcl ? undefined : 'no ACLs before Redis 6';
  if (versionAtLeast(version, 7) && pending.length > 0) {
    const pipeline = client.pipeline();
    for (const c of pending)
      pipeline.call('ACL', 'DRYRUN', user, ...CHECKS[c].words, ...CHECKS[c].dryRunArgs);
    const results = (await pipeline.exec()) ?? [];
    pending.forEach((c, i) => {
      const [err, reply] = results[i] ?? [new Error('no reply'), null];
      const verdict = readDryRun(err, reply, user, c.toLowerCase());
      dryRun.set(c, verdict);
      if (verdict.kind === 'no-answer') dryRunProblem ??= briefTrouble(verdict.why);
    });
  } else if (hasAcl) {
    dryRunProblem = `ACL DRYRUN needs Redis 7 (this is ${version})`;
  }

  // 4 (fetched early, used last). Without DRYRUN answers: is this a user that may do anything?
  let grants: ReturnType<typeof parseAclGrants> | undefined;
  if (hasAcl && pending.some((c) => dryRun.get(c)?.kind !== 'allowed' && dryRun.get(c)?.kind !== 'denied')) {
    try {
      grants = parseAclGrants(await client.call('ACL', 'GETUSER', user));
    } catch {
      grants = undefined;
    }
  }

  // 3. Harmless calls, except where DRYRUN already answered no.
  const harmless = pending.filter((c) => {
    const verdict = dryRun.get(c)?.kind;
    return verdict !== 'denied' && verdict !== 'unknown-command' && CHECKS[c].harmless?.(env);
  });
  const harmlessArgs = harmless.map((c) => CHECKS[c].harmless!(env)!);
  const harmlessResults = new Map<ProbedCommand, { outcome: Outcome; label: string }>();
  (await pipelined(client, harmlessArgs)).forEach((outcome, i) => {
    const args = harmlessArgs[i]!.map((a, j, all) =>
      a === MISSING_KEY ? '<missing key>' : all[j - 1] === 'ID' ? '<own id>' : a,
    );
    const label = args.join(' ');
    harmlessResults.set(harmless[i]!, { outcome, label });
  });

  const commands = {} as Record<ProbedCommand, CommandAvailability>;
  for (const c of PROBED_COMMANDS) {
    const check = CHECKS[c];
    const name = c.toLowerCase();
    const tooOld = check.since && !versionAtLeast(version, ...check.since);
    const notInVersion = `not in Redis ${version} (needs ${check.since?.join('.')})`;
    const via: string[] = [];
    if (exists.has(c)) via.push('COMMAND INFO');

    if (exists.get(c) === false) {
      commands[c] = {
        available: false,
        reason: tooOld ? notInVersion : UNKNOWN_COMMAND,
        via: via.join(' + '),
      };
      continue;
    }
    const verdict = dryRun.get(c);
    if (verdict) via.push('ACL DRYRUN');
    if (verdict?.kind === 'denied') {
      commands[c] = { available: false, reason: verdict.reason, via: via.join(' + ') };
      continue;
    }
    if (verdict?.kind === 'unknown-command') {
      commands[c] = {
        available: false,
        reason: tooOld ? notInVersion : UNKNOWN_COMMAND,
        via: via.join(' + '),
      };
      continue;
    }
    const call = harmlessResults.get(c);
    if (call) {
      via.push(call.label);
      commands[c] = call.outcome.ok
        ? { available: true, via: via.join(' + ') }
        : {
            available: false,
            reason: tooOld ? notInVersion : errorReason(call.outcome.message, user, name),
            via: via.join(' + '),
          };
      continue;
    }
    if (verdict?.kind === 'allowed') {
      commands[c] = { available: true, via: via.join(' + ') };
      continue;
    }
    const exist = exists.get(c) === true;
    const needsChannels = c === 'PSUBSCRIBE';
    if (exist && grants?.allCommands && grants.allKeys && (!needsChannels || grants.allChannels)) {
      commands[c] = { available: true, via: [...via, 'ACL GETUSER'].join(' + ') };
      continue;
    }
    if (exist && !hasAcl) {
      commands[c] = { available: true, via: `${via.join(' + ')} (no ACLs before Redis 6)` };
      continue;
    }
    // Conservative choice: when neither existence nor permission can be confirmed, report the
    // command as unavailable, so a plan never rests on a command that may fail halfway through a
    // migration. The reason starts with "unsure" so people can tell it from a confirmed "no".
    const missing = exist ? 'cannot check permission' : 'cannot check whether it exists or is permitted';
    const why = [
      commandInfoProblem && !exist ? `COMMAND INFO: ${commandInfoProblem}` : undefined,
      dryRunProblem ? `ACL DRYRUN: ${dryRunProblem}` : undefined,
    ]
      .filter(Boolean)
      .join('; ');
    commands[c] = {
      available: false,
      reason: `unsure: ${missing}${why ? ` (${why})` : ''}; assumed unavailable`,
      via: via.join(' + ') || 'none',
    };
  }

  if (commandInfoProblem) notes.push(`COMMAND INFO is not available (${commandInfoProblem}).`);
  if (dryRunProblem && hasAcl && versionAtLeast(version, 7))
    notes.push(`ACL DRYRUN is not available (${dryRunProblem}); some command permissions are unsure.`);
  return { commands, user, notes };
}
