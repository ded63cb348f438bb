// A first verify across topologies (standalone <-> cluster, cluster <-> cluster), both ways: every
// source primary is scanned on its own and each key is looked up where its slot lives on the
// target (DUMP + PTTL on both); then every target primary is scanned for keys the source lacks.
// Equal DUMP payloads prove equal values; unequal ones (hash-table sets and hashes serialize in a
// seed-dependent order, encodings differ by config) are settled by reading the value by type on
// both sides. Every difference names the source and target node of its key. Values are read
// whole: no chunking of big keys yet (the standalone verify's). `verify` on the command line runs
// it when either endpoint is a cluster (cli/commands/verify-across.ts); the runbook does not yet.
import type { Endpoint } from '../../redis/endpoint.js';
import { RespConnection } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply, replyInt, replyText } from '../resp/reply.js';
import { keyHolders } from './nodes.js';
import { type KeyRouter, openRouter } from './router.js';

export type AcrossDifferenceKind = 'missing' | 'extra' | 'type' | 'value' | 'ttl';

export interface AcrossDifference {
  kind: AcrossDifferenceKind;
  key: Buffer;
  /** `host:port` of the source and target node holding (or owning the slot of) the key. */
  sourceNode: string;
  targetNode: string;
  detail: string;
}

export interface VerifyAcrossOptions {
  sourceDb?: number;
  targetDb?: number;
  /** Allowed difference of the remaining TTLs read on both sides (default 500 ms). */
  ttlToleranceMs?: number;
  batchSize?: number;
  /** Differences kept in the report (default 1000; the counts cover them all). */
  maxDifferences?: number;
  /** SCAN MATCH on both sides. */
  match?: string;
  /** After each page of source keys, with the source keys compared so far (progress). */
  onProgress?: (compared: number) => void;
}

export interface VerifyAcrossReport {
  identical: boolean;
  /** Source keys compared, per source node. */
  compared: Record<string, number>;
  counts: Record<AcrossDifferenceKind, number>;
  differences: AcrossDifference[];
}

interface Side {
  router: KeyRouter;
  nodes: { address: string; endpoint: Endpoint; db: number }[];
}

async function openSide(endpoint: Endpoint, db: number | undefined, role: string): Promise<Side> {
  const holders = await keyHolders(endpoint);
  const nodeDb = holders.cluster ? 0 : (db ?? endpoint.db);
  return {
    router: await openRouter(endpoint, holders, role, nodeDb),
    nodes: holders.nodes.map((n) => ({ ...n, db: nodeDb })),
  };
}

export async function verifyAcrossTopologies(
  source: Endpoint,
  target: Endpoint,
  options: VerifyAcrossOptions = {},
): Promise<VerifyAcrossReport> {
  const tolerance = options.ttlToleranceMs ?? 500;
  const batch = options.batchSize ?? 500;
  const max = options.maxDifferences ?? 1000;
  const report: VerifyAcrossReport = {
    identical: true,
    compared: {},
    counts: { missing: 0, extra: 0, type: 0, value: 0, ttl: 0 },
    differences: [],
  };
  const add = (d: AcrossDifference) => {
    report.identical = false;
    report.counts[d.kind]++;
    if (report.differences.length < max) report.differences.push(d);
  };
  const src = await openSide(source, options.sourceDb, 'verify-source');
  let dst: Side | undefined;
  try {
    dst = await openSide(target, options.targetDb, 'verify-target');
    const tgt = dst;
    // Source -> target: missing keys, types, values, TTLs.
    for (const node of src.nodes) {
      report.compared[node.address] = 0;
      await eachPage(node, batch, options.match, async (keys, conn) => {
        report.compared[node.address]! += await comparePage(keys, conn, tgt.router, tolerance, (d) =>
          add({ ...d, sourceNode: node.address }),
        );
        options.onProgress?.(Object.values(report.compared).reduce((a, b) => a + b, 0));
      });
    }
    // Target -> source: keys only the target holds.
    for (const node of dst.nodes) {
      await eachPage(node, batch, options.match, async (keys, conn) => {
        await findExtras(keys, conn, src.router, tolerance, (d) => add({ ...d, targetNode: node.address }));
      });
    }
  } finally {
    await src.router.close();
    await dst?.router.close();
  }
  return report;
}

/**
 * Source keys (read on `conn`) against where they live on the target: missing, type, value and
 * TTL differences, by the verify rules. Returns how many of the keys were still on the source.
 */
export async function comparePage(
  keys: Buffer[],
  conn: RespConnection,
  target: KeyRouter,
  tolerance: number,
  add: (d: Omit<AcrossDifference, 'sourceNode'>) => void,
  /** Given: a source key redirected (its slot moved away meanwhile) is left to the caller, not an error. */
  onSourceMoved?: (key: Buffer) => void,
): Promise<number> {
  const [here, there] = await Promise.all([
    conn.exec(keys.flatMap((k) => [['DUMP', k] as RespArg[], ['PTTL', k] as RespArg[]])),
    target.exec(
      keys.flatMap((key) => [
        { key, command: ['DUMP', key] },
        { key, command: ['PTTL', key] },
      ]),
    ),
  ]);
  let compared = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const where = { key, targetNode: target.nodeOf(key) };
    const a = { payload: here[2 * i] ?? null, pttl: replyInt(here[2 * i + 1] ?? null) ?? -2 };
    const b = { payload: there[2 * i] ?? null, pttl: replyInt(there[2 * i + 1] ?? null) ?? -2 };
    if (onSourceMoved && a.payload instanceof RespError && /^(MOVED|ASK) /.test(a.payload.message)) {
      onSourceMoved(key);
      continue;
    }
    if (a.payload instanceof RespError) throw new Error(`DUMP failed for a source key: ${a.payload.message}`);
    if (b.payload instanceof RespError) {
      throw new Error(`DUMP failed for a key on ${where.targetNode}: ${b.payload.message}`);
    }
    if (!Buffer.isBuffer(a.payload)) continue; // gone from the source meanwhile
    compared++;
    if (!Buffer.isBuffer(b.payload)) {
      // A key that expires within the tolerance may already be gone from the copy.
      if (!(a.pttl >= 0 && a.pttl <= tolerance))
        add({ kind: 'missing', ...where, detail: 'missing on the target' });
      continue;
    }
    if (!a.payload.equals(b.payload)) {
      const [va, vb] = await Promise.all([
        readByType((c) => conn.exec(c), key),
        readByType((c) => target.exec(c.map((command) => ({ key, command }))), key),
      ]);
      if (va.type !== vb.type)
        add({ kind: 'type', ...where, detail: `${va.type} on the source, ${vb.type} on the target` });
      else if (va.value !== vb.value)
        add({ kind: 'value', ...where, detail: `the ${va.type} values differ` });
    }
    if ((a.pttl === -1) !== (b.pttl === -1)) {
      add({
        kind: 'ttl',
        ...where,
        detail: `PTTL ${a.pttl} on the source, ${b.pttl} on the target (persistent on one side only)`,
      });
    } else if (a.pttl >= 0 && Math.abs(a.pttl - b.pttl) > tolerance) {
      add({ kind: 'ttl', ...where, detail: `PTTL ${a.pttl} on the source, ${b.pttl} on the target` });
    }
  }
  return compared;
}

/** Target keys (read on `conn`) the source lacks, past the TTL tolerance: 'extra' differences. */
export async function findExtras(
  keys: Buffer[],
  conn: RespConnection,
  source: KeyRouter,
  tolerance: number,
  add: (d: Omit<AcrossDifference, 'targetNode'>) => void,
): Promise<void> {
  const [here, there] = await Promise.all([
    conn.exec(keys.map((k) => ['PTTL', k] as RespArg[])),
    source.exec(keys.map((key) => ({ key, command: ['EXISTS', key] }))),
  ]);
  keys.forEach((key, i) => {
    const pttl = replyInt(here[i] ?? null) ?? -2;
    if (pttl === -2 || replyInt(there[i] ?? null) !== 0) return;
    if (pttl >= 0 && pttl <= tolerance) return;
    add({ kind: 'extra', key, sourceNode: source.nodeOf(key), detail: 'only on the target' });
  });
}

/** SCAN one node page by page, on a connection of its own. */
async function eachPage(
  node: Side['nodes'][number],
  count: number,
  match: string | undefined,
  visit: (keys: Buffer[], conn: RespConnection) => Promise<void>,
): Promise<void> {
  const conn = await RespConnection.open(node.endpoint, { role: 'verify-scan', db: node.db });
  try {
    let cursor = '0';
    do {
      const scan: RespArg[] = ['SCAN', cursor, 'COUNT', count];
      if (match !== undefined) scan.push('MATCH', match);
      const [page] = await conn.exec([scan]);
      if (!Array.isArray(page)) throw new Error(`SCAN on ${node.address} failed: ${String(page)}`);
      cursor = replyText(page[0]) ?? '0';
      const keys = (page[1] as Buffer[]) ?? [];
      if (keys.length > 0) await visit(keys, conn);
    } while (cursor !== '0');
  } finally {
    conn.destroy();
  }
}

type Run = (commands: RespArg[][]) => Promise<RespReply[]>;

/** A key's type and its value in a canonical text form (order-free for sets and hashes). */
async function readByType(run: Run, key: Buffer): Promise<{ type: string; value: string }> {
  const [t] = await run([['TYPE', key]]);
  const type = replyText(t ?? null) ?? 'none';
  const hex = (r: RespReply) => (Buffer.isBuffer(r) ? r.toString('hex') : String(r));
  const flat = async (command: RespArg[]) => {
    const [r] = await run([command]);
    if (r instanceof RespError) throw new Error(`${String(command[0])} failed: ${r.message}`);
    return Array.isArray(r) ? r : [];
  };
  const pairs = (items: RespReply[]) => {
    const out: string[] = [];
    for (let i = 0; i + 1 < items.length; i += 2) out.push(`${hex(items[i]!)}=${hex(items[i + 1]!)}`);
    return out;
  };
  switch (type) {
    case 'string': {
      const [v] = await run([['GET', key]]);
      return { type, value: hex(v ?? null) };
    }
    case 'hash':
      return {
        type,
        value: pairs(await flat(['HGETALL', key]))
          .sort()
          .join(','),
      };
    case 'set':
      return { type, value: (await flat(['SMEMBERS', key])).map(hex).sort().join(',') };
    case 'list':
      return { type, value: (await flat(['LRANGE', key, 0, -1])).map(hex).join(',') };
    case 'zset':
      return { type, value: pairs(await flat(['ZRANGE', key, 0, -1, 'WITHSCORES'])).join(',') };
    case 'stream': {
      // Entries and the group state; payloads of streams compare equal unless these differ.
      const entries = JSON.stringify(plainHex(await flat(['XRANGE', key, '-', '+'])));
      const groups = JSON.stringify(plainHex(await flat(['XINFO', 'GROUPS', key])));
      return { type, value: `${entries}|${groups}` };
    }
    default: {
      // Module types: only the payload can tell, and the payloads differ.
      const [v] = await run([['DUMP', key]]);
      return { type, value: hex(v ?? null) };
    }
  }
}

function plainHex(r: RespReply): unknown {
  if (Array.isArray(r)) return r.map(plainHex);
  if (Buffer.isBuffer(r)) return r.toString('hex');
  return r;
}
