// Sends commands about single keys to the cluster node that owns each key's slot, pipelined per
// node, over the lean RESP connection. The slot map comes from CLUSTER SLOTS; a MOVED reply (the
// slot has a new owner: a resharding finished, a failover) updates it and the command is sent
// again there, with the whole map read afresh; an ASK reply (the slot is being moved right now)
// sends ASKING + the command to the importing node once, without changing the map.

import { nodeAddress, parseClusterSlots } from '../../probe/cluster-topology.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { nodeEndpoint } from '../../redis/node-endpoint.js';
import { UserError } from '../../util/errors.js';
import { RespConnection } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply } from '../resp/reply.js';
import type { KeyHolders } from './nodes.js';
import { plain } from './plain-reply.js';
import { keySlot, SLOT_COUNT } from './slot.js';

export interface RoutedCommand {
  /** The key the command is about: it decides the node. */
  key: Buffer;
  command: readonly RespArg[];
}

/**
 * Commands sent together to the node owning `key`'s slot, in order: one command, or a
 * MULTI ... EXEC whose commands are all about keys of that slot. A redirect of any of them sends
 * the whole unit again (a transaction with a redirected command is aborted: EXECABORT).
 */
export interface RoutedUnit {
  key: Buffer;
  commands: readonly (readonly RespArg[])[];
}

/** Runs single-key commands where their keys live: a cluster (ClusterRouter) or one server. */
export interface KeyRouter {
  /** Replies in the order of the commands; error replies are values, as on RespConnection. */
  exec(items: readonly RoutedCommand[]): Promise<RespReply[]>;
  /** Each unit's replies, in order; `maxBulkBytes` caps each node's pipeline (RespConnection.exec). */
  execUnits(units: readonly RoutedUnit[], maxBulkBytes?: number): Promise<RespReply[][]>;
  /** `host:port` of the node a key's commands go to now (the slot's owner in a cluster). */
  nodeOf(key: Buffer): string;
  close(): Promise<void>;
}

export interface RouterOptions {
  /** CLIENT SETNAME suffix of its connections. */
  role?: string;
  /** Redirects one command may follow before it fails (default 5). */
  maxRedirects?: number;
}

export interface RedirectCounts {
  moved: number;
  ask: number;
  /** Times the slot map was read again. */
  refreshes: number;
}

/** "host:port" of a MOVED/ASK reply (an empty host means the node that replied). */
function parseRedirect(
  message: string,
  repliedBy: string,
): { kind: 'MOVED' | 'ASK'; slot: number; address: string } | null {
  const m = /^(MOVED|ASK) (\d+) (\S*)$/.exec(message);
  if (!m) return null;
  const target = m[3]!;
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon).replace(/^\[(.*)\]$/, '$1') || splitAddress(repliedBy).host;
  return {
    kind: m[1] as 'MOVED' | 'ASK',
    slot: Number(m[2]),
    address: nodeAddress({ host, port: Number(target.slice(colon + 1)) }),
  };
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return {
    host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
    port: Number(address.slice(colon + 1)),
  };
}

export class ClusterRouter implements KeyRouter {
  /** Slot -> address of its primary. */
  private owners: (string | undefined)[] = new Array(SLOT_COUNT);
  private readonly conns = new Map<string, Promise<RespConnection>>();
  readonly redirects: RedirectCounts = { moved: 0, ask: 0, refreshes: 0 };

  private constructor(
    private readonly endpoint: Endpoint,
    private readonly options: RouterOptions,
  ) {}

  /** Connects through the node the endpoint names and reads the slot map. */
  static async open(endpoint: Endpoint, options: RouterOptions = {}): Promise<ClusterRouter> {
    const router = new ClusterRouter(endpoint, options);
    try {
      await router.refresh();
    } catch (err) {
      await router.close();
      throw err;
    }
    return router;
  }

  nodeOf(key: Buffer): string {
    return this.owners[keySlot(key)] ?? 'no node (slot unassigned)';
  }

  /** The primaries' addresses, as the slot map has them. */
  nodes(): string[] {
    return [...new Set(this.owners.filter((o): o is string => o !== undefined))].sort();
  }

  /** Reads CLUSTER SLOTS from a node already connected (or the endpoint's) and replaces the map. */
  async refresh(): Promise<void> {
    this.redirects.refreshes++;
    const via = [...this.conns.keys(), nodeAddress(this.endpoint)];
    let lastError: unknown;
    for (const address of new Set(via)) {
      try {
        const conn = await this.connection(address);
        const [reply] = await conn.exec([['CLUSTER', 'SLOTS']]);
        if (reply instanceof RespError) throw new Error(reply.message);
        const owners: (string | undefined)[] = new Array(SLOT_COUNT);
        for (const shard of parseClusterSlots(plain(reply ?? null), splitAddress(address).host)) {
          const owner = nodeAddress(shard.primary);
          for (const [first, last] of shard.slots) for (let s = first; s <= last; s++) owners[s] = owner;
        }
        this.owners = owners;
        return;
      } catch (err) {
        lastError = err;
      }
    }
    throw new UserError(
      `cannot read the slot map of cluster ${describeEndpoint(this.endpoint)} (CLUSTER SLOTS): ` +
        `${(lastError as Error)?.message ?? 'no node answered'}; check that its nodes are up and the user may run CLUSTER SLOTS`,
    );
  }

  async exec(items: readonly RoutedCommand[]): Promise<RespReply[]> {
    const out = await this.execUnits(items.map((i) => ({ key: i.key, commands: [i.command] })));
    return out.map((r) => r[0] ?? null);
  }

  async execUnits(units: readonly RoutedUnit[], maxBulkBytes?: number): Promise<RespReply[][]> {
    const replies: RespReply[][] = new Array(units.length);
    const slots = units.map((u) => keySlot(u.key));
    const askTo = new Map<number, string>();
    const maxRedirects = this.options.maxRedirects ?? 5;
    const failAll = (i: number, message: string) => {
      replies[i] = units[i]!.commands.map(() => new RespError(message));
    };
    let pending = units.map((_, i) => i);
    for (let round = 0; pending.length > 0; round++) {
      if (round > maxRedirects) {
        for (const i of pending) {
          failAll(
            i,
            `ERR slot ${slots[i]} of ${describeEndpoint(this.endpoint)} still redirected after ${maxRedirects} redirects (resharding or failover in progress)`,
          );
        }
        break;
      }
      const groups = new Map<string, number[]>();
      for (const i of pending) {
        const address = askTo.get(i) ?? this.owners[slots[i]!];
        if (address === undefined) {
          failAll(
            i,
            `CLUSTERDOWN slot ${slots[i]} is not served by any node of ${describeEndpoint(this.endpoint)}`,
          );
          continue;
        }
        const group = groups.get(address);
        if (group) group.push(i);
        else groups.set(address, [i]);
      }
      const next: number[] = [];
      let moved = false;
      let asked = false;
      await Promise.all(
        [...groups].map(async ([address, indexes]) => {
          const conn = await this.connection(address);
          const commands: (readonly RespArg[])[] = [];
          for (const i of indexes) {
            // ASKING holds for the next command, and through a whole MULTI ... EXEC.
            if (askTo.has(i)) commands.push(['ASKING']);
            commands.push(...units[i]!.commands);
          }
          const out = await conn.exec(commands, maxBulkBytes);
          let at = 0;
          for (const i of indexes) {
            if (askTo.has(i)) at++; // ASKING's +OK
            askTo.delete(i);
            const mine = out.slice(at, at + units[i]!.commands.length);
            at += units[i]!.commands.length;
            let redirect: ReturnType<typeof parseRedirect> = null;
            for (const reply of mine) {
              redirect = reply instanceof RespError ? parseRedirect(reply.message, address) : null;
              if (redirect) break;
            }
            if (!redirect) {
              replies[i] = mine;
              continue;
            }
            next.push(i);
            if (redirect.kind === 'MOVED') {
              this.redirects.moved++;
              this.owners[redirect.slot] = redirect.address;
              moved = true;
            } else {
              this.redirects.ask++;
              askTo.set(i, redirect.address);
              asked = true;
            }
          }
        }),
      );
      // One MOVED usually means more slots moved: read the whole map once per round.
      if (moved) await this.refresh().catch(() => undefined);
      // An ASK again and again (a transaction whose keys are half moved): give the move time.
      if (asked && round > 1) await new Promise((r) => setTimeout(r, 20 * round));
      pending = next;
    }
    return replies;
  }

  async close(): Promise<void> {
    const conns = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(conns.map(async (c) => (await c.catch(() => null))?.destroy()));
  }

  private connection(address: string): Promise<RespConnection> {
    let conn = this.conns.get(address);
    if (!conn) {
      const { host, port } = splitAddress(address);
      conn = RespConnection.open(nodeEndpoint(this.endpoint, host, port), {
        db: 0,
        role: this.options.role ?? 'cluster-router',
      });
      // A failed connect is not kept: the next command tries again.
      conn.catch(() => this.conns.delete(address));
      this.conns.set(address, conn);
    }
    return conn;
  }
}

/** One server as a KeyRouter: every command goes to it. */
export class SingleNodeRouter implements KeyRouter {
  constructor(
    private readonly conn: RespConnection,
    private readonly address: string,
  ) {}

  nodeOf(): string {
    return this.address;
  }

  exec(items: readonly RoutedCommand[]): Promise<RespReply[]> {
    return this.conn.exec(items.map((i) => i.command));
  }

  async execUnits(units: readonly RoutedUnit[], maxBulkBytes?: number): Promise<RespReply[][]> {
    const out = await this.conn.exec(
      units.flatMap((u) => u.commands),
      maxBulkBytes,
    );
    let at = 0;
    return units.map((u) => {
      const mine = out.slice(at, at + u.commands.length);
      at += u.commands.length;
      return mine;
    });
  }

  async close(): Promise<void> {
    this.conn.destroy();
  }
}

/** A router to where an endpoint's keys live: its cluster's primaries, or the one server (on `db`). */
export async function openRouter(
  endpoint: Endpoint,
  holders: KeyHolders,
  role: string,
  db = endpoint.db,
): Promise<KeyRouter> {
  if (holders.cluster) return ClusterRouter.open(endpoint, { role });
  return new SingleNodeRouter(await RespConnection.open(endpoint, { role, db }), holders.nodes[0]!.address);
}
