// The reconcile pass of one source node followed across topologies (the one-server pass is
// ../reconcile.ts; the same rules): SCAN that node, compare each page's DUMP and PTTL with the
// target's (read through the router, where each key's slot lives), copy the keys that differ;
// then SCAN every target node for keys of this source node's slots (all keys for a standalone
// source) that the source node no longer has, and delete them. Keys over COMPARE_MAX_BYTES on
// either side are copied without comparing (bounded memory).

import { keySlot } from '../../cluster/slot.js';
import { RespConnection } from '../../resp/connection.js';
import type { RespArg, RespReply } from '../../resp/reply.js';
import { RespError } from '../../resp/reply.js';
import type { ReconcileResult } from '../reconcile.js';
import type { AcrossCopier } from './copier.js';
import type { SideNode } from './topology.js';

const TTL_TOLERANCE_MS = 1000;
const COMPARE_MAX_BYTES = 1024 * 1024;

export interface ReconcileAcrossOptions {
  /** The source node's slots (null: a standalone source, every key is its own). */
  sourceSlots: Set<number> | null;
  sourceDb: number;
  /** Every node holding the target's keys, and the db they are in (0 on a cluster). */
  targetNodes: SideNode[];
  targetDb: number;
  match?: string | undefined;
  batchSize: number;
  signal: AbortSignal;
  beforeDeletes: () => Promise<void>;
}

export async function reconcileAcross(
  copier: AcrossCopier,
  options: ReconcileAcrossOptions,
): Promise<ReconcileResult> {
  const { compared, copied } = await copyDiffering(copier, options);
  const extrasDeleted = await deleteExtras(copier, options);
  return { keysCompared: compared, keysCopied: copied, extrasDeleted, dbs: [options.sourceDb] };
}

function scanArgs(cursor: string, options: ReconcileAcrossOptions): RespArg[] {
  const args: RespArg[] = ['SCAN', cursor, 'COUNT', options.batchSize];
  if (options.match && options.match !== '*') args.push('MATCH', options.match);
  return args;
}

function page(reply: RespReply | undefined, where: string): [string, Buffer[]] {
  if (reply instanceof RespError || !Array.isArray(reply))
    throw new Error(`SCAN on ${where} failed: ${String(reply)}`);
  return [String(reply[0]), (reply[1] as Buffer[]) ?? []];
}

interface Read {
  size: number;
  payload: Buffer | null;
  pttl: number;
}

/** MEMORY USAGE, DUMP and PTTL of each key from replies in that order (DUMP skipped when too big). */
function reads(replies: RespReply[], count: number): Read[] {
  const out: Read[] = [];
  for (let i = 0; i < count; i++) {
    const size = replies[3 * i];
    const payload = replies[3 * i + 1];
    const pttl = replies[3 * i + 2];
    out.push({
      size: size instanceof RespError ? Number.POSITIVE_INFINITY : size === null ? 0 : Number(size),
      payload: Buffer.isBuffer(payload) ? payload : null,
      pttl: typeof pttl === 'number' ? pttl : -2,
    });
  }
  return out;
}

function same(a: Read, b: Read): boolean {
  if (a.payload === null || b.payload === null) return a.payload === b.payload;
  if (!a.payload.equals(b.payload)) return false;
  if (a.pttl < 0 || b.pttl < 0) return a.pttl === b.pttl;
  return Math.abs(a.pttl - b.pttl) <= TTL_TOLERANCE_MS;
}

async function copyDiffering(
  copier: AcrossCopier,
  options: ReconcileAcrossOptions,
): Promise<{ compared: number; copied: number }> {
  const router = await copier.router();
  let compared = 0;
  let copied = 0;
  let cursor = '0';
  do {
    options.signal.throwIfAborted();
    const [next, keys] = page(
      (await copier.source(options.sourceDb, [scanArgs(cursor, options)]))[0],
      'the source node',
    );
    cursor = next;
    if (keys.length === 0) continue;
    const sizes = (
      await copier.source(
        options.sourceDb,
        keys.map((k) => ['MEMORY', 'USAGE', k]),
      )
    ).map((r) => (r instanceof RespError ? Number.POSITIVE_INFINITY : r === null ? 0 : Number(r)));
    const targetSizes = await router.exec(keys.map((key) => ({ key, command: ['MEMORY', 'USAGE', key] })));
    const small: Buffer[] = [];
    const differing: Buffer[] = [];
    keys.forEach((k, i) => {
      const t = targetSizes[i];
      const tSize = t instanceof RespError ? Number.POSITIVE_INFINITY : t === null ? 0 : Number(t);
      if (sizes[i]! <= COMPARE_MAX_BYTES && tSize <= COMPARE_MAX_BYTES) small.push(k);
      else differing.push(k);
    });
    const dumpOf = (k: Buffer): RespArg[][] => [
      ['MEMORY', 'USAGE', k],
      ['DUMP', k],
      ['PTTL', k],
    ];
    const [a, b] = await Promise.all([
      copier.source(options.sourceDb, small.flatMap(dumpOf)),
      router.exec(small.flatMap((key) => dumpOf(key).map((command) => ({ key, command })))),
    ]);
    const ra = reads(a, small.length);
    const rb = reads(b, small.length);
    small.forEach((k, i) => {
      if (!same(ra[i]!, rb[i]!)) differing.push(k);
    });
    compared += small.length;
    if (differing.length > 0) {
      options.signal.throwIfAborted();
      const res = await copier.copyKeySet(options.sourceDb, differing);
      copied += differing.length - res.keysFailed;
    }
  } while (cursor !== '0');
  return { compared, copied };
}

async function deleteExtras(copier: AcrossCopier, options: ReconcileAcrossOptions): Promise<number> {
  const router = await copier.router();
  let deleted = 0;
  for (const node of options.targetNodes) {
    const conn = await RespConnection.open(node.endpoint, {
      role: 'live-sync-reconcile',
      db: options.targetDb,
    });
    try {
      let cursor = '0';
      do {
        options.signal.throwIfAborted();
        const [next, keys] = page((await conn.exec([scanArgs(cursor, options)]))[0], node.address);
        cursor = next;
        const ours = options.sourceSlots ? keys.filter((k) => options.sourceSlots!.has(keySlot(k))) : keys;
        if (ours.length === 0) continue;
        const exists = await copier.source(
          options.sourceDb,
          ours.map((k) => ['EXISTS', k]),
        );
        const extras = ours.filter((_, i) => exists[i] === 0);
        if (extras.length === 0) continue;
        await options.beforeDeletes();
        const replies = await router.exec(extras.map((key) => ({ key, command: ['UNLINK', key] })));
        for (const r of replies) if (typeof r === 'number') deleted += r;
      } while (cursor !== '0');
    } finally {
      conn.destroy();
    }
  }
  return deleted;
}
