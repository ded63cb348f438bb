// The one guard on a server's identity (see server-identity.ts): reads it with whatever client the
// caller has, compares it with the baseline captured at the start, and throws ServerChangedError
// with a sentence that says what happened, what was (not) done about it, and what to do next.
import type { Redis } from 'ioredis';
import { ExitCode, UserError } from '../../util/errors.js';
import { ClusterNodeError, isClusterNode } from '../cluster/standalone-only.js';
import type { RespConnection } from '../resp/connection.js';
import { RespError, replyText } from '../resp/reply.js';
import {
  IDENTITY_SECTIONS,
  type IdentityChange,
  identityChange,
  parseIdentity,
  roleChange,
  type ServerIdentity,
} from './server-identity.js';

/** INFO <section> on some connection. */
export type InfoReader = (section: string) => Promise<string>;

export function respInfo(conn: RespConnection): InfoReader {
  return async (section) => {
    const [reply] = await conn.exec([['INFO', section]]);
    if (reply instanceof RespError) throw new UserError(`INFO ${section} was refused: ${reply.message}`);
    return replyText(reply ?? null) ?? '';
  };
}

export function clientInfo(client: Redis): InfoReader {
  return (section) => client.info(section);
}

export async function readIdentity(
  info: InfoReader,
  dbs: 'all' | readonly number[] = 'all',
  options: { clusterNode?: boolean } = {},
): Promise<ServerIdentity> {
  const texts = await Promise.all(IDENTITY_SECTIONS.map((s) => info(s)));
  const text = texts.join('\n');
  // Every copy, live sync and verification captures an identity first: a cluster node stops them
  // here, unless the caller follows that one node knowingly (live sync across topologies).
  if (isClusterNode(text) && !options.clusterNode) throw new ClusterNodeError(clusterNodeWhere(text));
  return parseIdentity(text, dbs);
}

export type Side = 'source' | 'target';

/** A server is no longer the one the migration started with. Exit code 1: a problem, not bad input. */
export class ServerChangedError extends UserError {
  constructor(
    readonly side: Side,
    readonly change: IdentityChange,
    message: string,
  ) {
    super(message, ExitCode.problem);
    this.name = 'ServerChangedError';
  }
}

/** What to do next, per side and kind of change. */
function nextStep(side: Side, change: IdentityChange): string {
  if (side === 'target') return 'check the target, then run the copy again from the start';
  if (change.kind === 'role') {
    return 'find out who ran REPLICAOF on the source (INFO replication, its log); once it is the master again, plan the migration again';
  }
  return 'check the source (its log, INFO persistence) and whether its data is complete, then plan the migration again';
}

/**
 * The sentence for a change (`when`: "during live sync", "since the checkpoint was saved"): "the source old (redis://…:6390) became a replica of 127.0.0.1:7000
 * during live sync; nothing more was applied to the target; the target keeps what it had. Find out…".
 */
export function changedMessage(
  side: Side,
  where: string,
  change: IdentityChange,
  when: string,
  consequence: string,
): string {
  return `the ${side} ${where} ${change.detail} ${when}; ${consequence}. ${capitalize(nextStep(side, change))}`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export interface GuardOptions {
  side: Side;
  /** describeEndpoint() of the server. */
  where: string;
  baseline: ServerIdentity;
  dbs?: 'all' | readonly number[];
  /** The server is one primary of a cluster, followed on its own (see readIdentity). */
  clusterNode?: boolean;
}

/** Holds a baseline and checks a server against it. */
export class IdentityGuard {
  readonly side: Side;
  readonly where: string;
  readonly baseline: ServerIdentity;
  private readonly dbs: 'all' | readonly number[];
  private readonly clusterNode: boolean;

  constructor(options: GuardOptions) {
    this.side = options.side;
    this.where = options.where;
    this.baseline = options.baseline;
    this.dbs = options.dbs ?? 'all';
    this.clusterNode = options.clusterNode ?? false;
  }

  /**
   * Throws ServerChangedError when the server changed; returns what it is now otherwise. Without
   * `compareKeys` only role and run id count (for callers that judge key counts themselves).
   */
  async check(
    info: InfoReader,
    when: string,
    consequence: string,
    compareKeys = true,
  ): Promise<ServerIdentity> {
    const now = await readIdentity(info, this.dbs, { clusterNode: this.clusterNode });
    const change = identityChange(compareKeys ? this.baseline : { ...this.baseline, keys: 0 }, now);
    if (change) this.fail(change, when, consequence);
    return now;
  }

  /** Role only (one INFO replication): cheap enough before every batch of changes. */
  async checkRole(info: InfoReader, when: string, consequence: string): Promise<void> {
    const now = parseIdentity(await info('replication'));
    const change = roleChange(this.baseline, now);
    if (change) this.fail(change, when, consequence);
  }

  fail(change: IdentityChange, when: string, consequence: string): never {
    throw this.error(change, when, consequence);
  }

  error(change: IdentityChange, when: string, consequence: string): ServerChangedError {
    return new ServerChangedError(
      this.side,
      change,
      changedMessage(this.side, this.where, change, when, consequence),
    );
  }
}

/** The node as INFO names it (the caller's endpoint name is not known here). */
function clusterNodeWhere(text: string): string {
  const port = /^tcp_port:(\d+)/m.exec(text)?.[1];
  return port ? `the server on port ${port}` : 'one of the servers';
}
