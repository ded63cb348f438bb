// Test helper: reads every key of two servers by type (with ioredis, independently of the copy
// engine's own readers) and lists the differences: missing/extra keys, types, values, TTLs,
// stream metadata (counters, groups, consumers, pending entries), hash field TTLs (HPTTL, where
// the server has them), vector sets by content (VINFO's data fields, every element's VEMB RAW and
// VGETATTR: their DUMP payloads differ after a RESTORE).
import type { Redis } from 'ioredis';
import type { RedisServer } from './redis-server.js';

export interface CompareOptions {
  /** Databases to compare (default: every db with keys on either side). */
  dbs?: number[];
  /** Allowed PTTL difference (default 1500 ms). */
  ttlToleranceMs?: number;
  /** Allowed difference of pending entries' idle times (default 5000 ms). */
  idleToleranceMs?: number;
  /** Compare pending idle times at all (default true). */
  compareIdle?: boolean;
}

export interface KeySnapshot {
  type: string;
  /** -1 persistent, otherwise ms left. */
  pttl: number;
  /** Type-specific canonical value (JSON-able, bytes as hex). */
  value: unknown;
  /** Pending entries' idle times, compared with a tolerance. */
  idle?: Record<string, number>;
  /**
   * Hashes on a server with field TTLs (HPTTL): hex field -> ms left, for fields that have one.
   * Absent on servers without field TTLs.
   */
  fieldTtls?: Record<string, number>;
}

/** Whether the server behind this client has HPTTL, asked once per client. */
const hasHpttl = new WeakMap<Redis, Promise<boolean>>();

function fieldTtlsKnown(client: Redis): Promise<boolean> {
  let known = hasHpttl.get(client);
  if (!known) {
    known = (client.call('COMMAND', 'INFO', 'HPTTL') as Promise<unknown[]>).then(
      (r) => Array.isArray(r) && Array.isArray(r[0]),
      () => false,
    );
    hasHpttl.set(client, known);
  }
  return known;
}

/** Adds fieldTtls to the hash snapshots (one HPTTL per hash, pipelined), on servers that have them. */
async function addFieldTtls(client: Redis, hashes: { key: Buffer; snap: KeySnapshot }[]): Promise<void> {
  if (hashes.length === 0 || !(await fieldTtlsKnown(client))) return;
  const p = client.pipeline();
  const fieldsOf = hashes.map(({ snap }) =>
    (snap.value as string[]).map((pair) => Buffer.from(pair.slice(0, pair.indexOf('=')), 'hex')),
  );
  hashes.forEach(({ key }, i) => {
    p.call('HPTTL', key, 'FIELDS', fieldsOf[i]!.length, ...fieldsOf[i]!);
  });
  const replies = (await p.exec()) ?? [];
  hashes.forEach(({ snap }, i) => {
    const [err, ttls] = replies[i]!;
    const out: Record<string, number> = {};
    if (!err && Array.isArray(ttls)) {
      ttls.forEach((ttl, j) => {
        if (Number(ttl) >= 0) out[hex(fieldsOf[i]![j]!)] = Number(ttl);
      });
    }
    snap.fieldTtls = out;
  });
}

const hex = (b: Buffer) => b.toString('hex');

/**
 * A score as the double it is: Redis 7.0 replies with 17 digits ("0.10000000000000001"), 7.2+
 * and Valkey with the shortest form that reads back the same ("0.1"); both are one double.
 */
function score(reply: Buffer): string {
  const text = reply.toString();
  const value = Number(text);
  return Number.isNaN(value) ? text : String(value);
}

export async function keyspaceDbs(client: Redis): Promise<number[]> {
  const info = await client.info('keyspace');
  return [...info.matchAll(/^db(\d+):keys=(\d+)/gm)].filter((m) => Number(m[2]) > 0).map((m) => Number(m[1]));
}

/** Every key of one db: hex key -> snapshot. */
export async function snapshotDb(client: Redis, db: number): Promise<Map<string, KeySnapshot>> {
  await client.select(db);
  const out = new Map<string, KeySnapshot>();
  for await (const keys of scanPages(client)) {
    for (const [k, v] of await snapshotKeys(client, keys)) out.set(k, v);
  }
  return out;
}

async function* scanPages(client: Redis): AsyncGenerator<Buffer[]> {
  let cursor = '0';
  do {
    const [next, keys] = (await client.callBuffer('SCAN', cursor, 'COUNT', 1000)) as [Buffer, Buffer[]];
    cursor = next.toString();
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/** Snapshots of these keys of the selected db (missing keys left out), pipelined. */
export async function snapshotKeys(client: Redis, keys: Buffer[]): Promise<Map<string, KeySnapshot>> {
  const out = new Map<string, KeySnapshot>();
  const head = client.pipeline();
  for (const key of keys) head.type(key).pttl(key);
  const heads = (await head.exec()) ?? [];
  const reads = client.pipeline();
  const simple: { key: Buffer; type: string; pttl: number }[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const type = String(heads[2 * i]![1]);
    const pttl = Number(heads[2 * i + 1]![1]);
    if (type === 'none') continue;
    if (type === 'stream' || type === 'vectorset') {
      const snap = await snapshotKey(client, key);
      if (snap) out.set(hex(key), snap);
      continue;
    }
    simple.push({ key, type, pttl });
    reads.callBuffer(...readCommand(type, key));
  }
  const values = (await reads.exec()) ?? [];
  const hashes: { key: Buffer; snap: KeySnapshot }[] = [];
  simple.forEach((k, i) => {
    const reply = values[i]![1];
    if (reply === null || (Array.isArray(reply) && reply.length === 0)) return; // gone meanwhile
    const snap: KeySnapshot = { type: k.type, pttl: k.pttl, value: canonical(k.type, reply) };
    out.set(hex(k.key), snap);
    if (k.type === 'hash') hashes.push({ key: k.key, snap });
  });
  await addFieldTtls(client, hashes);
  return out;
}

function readCommand(type: string, key: Buffer): [string, ...(string | Buffer | number)[]] {
  switch (type) {
    case 'string':
      return ['GET', key];
    case 'hash':
      return ['HGETALL', key];
    case 'list':
      return ['LRANGE', key, 0, -1];
    case 'set':
      return ['SMEMBERS', key];
    case 'zset':
      return ['ZRANGE', key, 0, -1, 'WITHSCORES'];
    default:
      return ['DUMP', key];
  }
}

function canonical(type: string, reply: unknown): unknown {
  switch (type) {
    case 'hash': {
      const flat = reply as Buffer[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${hex(flat[i]!)}=${hex(flat[i + 1]!)}`);
      return pairs.sort();
    }
    case 'list':
      return (reply as Buffer[]).map(hex);
    case 'set':
      return (reply as Buffer[]).map(hex).sort();
    case 'zset': {
      const flat = reply as Buffer[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${hex(flat[i]!)}@${score(flat[i + 1]!)}`);
      return pairs;
    }
    default:
      return hex(reply as Buffer);
  }
}

export async function snapshotKey(client: Redis, key: Buffer): Promise<KeySnapshot | null> {
  const type = String(await client.type(key));
  if (type === 'none') return null;
  const pttl = await client.pttl(key);
  const call = (...args: (string | Buffer | number)[]) =>
    client.callBuffer(String(args[0]), ...args.slice(1)) as Promise<unknown>;
  if (type === 'vectorset') return { type, pttl, value: await vectorSetValue(client, key) };
  if (type !== 'stream') {
    const snap: KeySnapshot = { type, pttl, value: canonical(type, await call(...readCommand(type, key))) };
    if (type === 'hash') await addFieldTtls(client, [{ key, snap }]);
    return snap;
  }
  const entries = ((await call('XRANGE', key, '-', '+')) as [Buffer, Buffer[]][]).map(
    ([id, fields]) => `${id.toString()}:${fields.map(hex).join(',')}`,
  );
  const info = fieldMap((await call('XINFO', 'STREAM', key)) as unknown[]);
  const groups = [];
  const idle: Record<string, number> = {};
  for (const g of (await call('XINFO', 'GROUPS', key)) as unknown[][]) {
    const gm = fieldMap(g);
    const name = gm['name'] as Buffer;
    const consumers = ((await call('XINFO', 'CONSUMERS', key, name)) as unknown[][])
      .map((c) => {
        const cm = fieldMap(c);
        return `${hex(cm['name'] as Buffer)}:${String(cm['pending'])}`;
      })
      .sort();
    const pending = (
      (await call('XPENDING', key, name, '-', '+', 100000)) as [Buffer, Buffer, number, number][]
    ).map(([id, consumer, idleMs, deliveries]) => {
      idle[`${hex(name)}/${id.toString()}`] = Number(idleMs);
      return `${id.toString()}:${hex(consumer)}:${deliveries}`;
    });
    groups.push({
      name: hex(name),
      consumers,
      pending: Number(gm['pending']),
      lastDeliveredId: String(gm['last-delivered-id']),
      entriesRead: gm['entries-read'] === null ? null : String(gm['entries-read']),
      lag: gm['lag'] === null ? null : String(gm['lag']),
      pel: pending,
    });
  }
  const value = {
    entries,
    length: Number(info['length']),
    lastId: String(info['last-generated-id']),
    maxDeletedId: String(info['max-deleted-entry-id']),
    entriesAdded: String(info['entries-added']),
    groups,
  };
  return { type, pttl, value, idle };
}

/**
 * A vector set's content: VINFO's fields that describe the data (not uid or max level, which come
 * from the server's history and graph) and, sorted by element, each one's VEMB RAW (quantization,
 * stored bytes, norm, range) and attribute. VRANDMEMBER with a count over the size lists each
 * element once.
 */
async function vectorSetValue(client: Redis, key: Buffer): Promise<unknown> {
  const info = fieldMap((await client.call('VINFO', key)) as unknown[]);
  const fields = ['quant-type', 'vector-dim', 'projection-input-dim', 'hnsw-m', 'size', 'attributes-count'];
  const size = Number(info['size']);
  const names = (await client.callBuffer('VRANDMEMBER', key, size + 100)) as Buffer[];
  const p = client.pipeline();
  for (const n of names) p.callBuffer('VEMB', key, n, 'RAW').callBuffer('VGETATTR', key, n);
  const replies = (await p.exec()) ?? [];
  const elements = names.map((n, i) => {
    const raw = replies[2 * i]![1] as Buffer[];
    const attr = replies[2 * i + 1]![1] as Buffer | null;
    const [quant, bytes, ...norms] = raw;
    return `${hex(n)}=${String(quant)}:${hex(bytes!)}:${norms.map((x) => Number(String(x))).join(',')}:${attr ? hex(attr) : '-'}`;
  });
  return { info: fields.map((f) => `${f}=${String(info[f])}`), elements: elements.sort() };
}

/**
 * Field TTL differences of one hash: a field with a TTL on one side only, or TTLs further apart
 * than the tolerance. A server without field TTLs (no snapshot of them) facing one whose hash has
 * some is a difference too: those fields would never expire there.
 */
function fieldTtlDiffs(va: KeySnapshot, vb: KeySnapshot, tol: number): string[] {
  if (va.type !== 'hash' || vb.type !== 'hash') return [];
  const a = va.fieldTtls;
  const b = vb.fieldTtls;
  if (!a && !b) return [];
  if (!a || !b) {
    const n = Object.keys(a ?? b ?? {}).length;
    return n > 0
      ? [`${n} field TTLs on the ${a ? 'first' : 'second'} server, none possible on the other`]
      : [];
  }
  const out: string[] = [];
  const field = (f: string) => Buffer.from(f, 'hex').toString('latin1').slice(0, 40);
  for (const f of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const ta = a[f];
    const tb = b[f];
    if (ta === undefined || tb === undefined)
      out.push(`field ${field(f)} ttl ${ta ?? 'none'} vs ${tb ?? 'none'}`);
    else if (Math.abs(ta - tb) > tol) out.push(`field ${field(f)} ttl ${ta} vs ${tb}`);
  }
  return out;
}

function fieldMap(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

/**
 * Differences between two servers, as readable lines; empty when they hold the same data. Keys
 * are read from both sides at the same time, page by page, so TTLs are compared at one moment.
 */
export async function compareServers(
  a: RedisServer,
  b: RedisServer,
  options: CompareOptions = {},
): Promise<string[]> {
  const ca = await a.client();
  const cb = await b.client();
  const dbs = options.dbs ?? [...new Set([...(await keyspaceDbs(ca)), ...(await keyspaceDbs(cb))])].sort();
  const diffs: string[] = [];
  for (const db of dbs) {
    await Promise.all([ca.select(db), cb.select(db)]);
    const seen = new Set<string>();
    for await (const keys of scanPages(ca)) {
      const [sa, sb] = await Promise.all([snapshotKeys(ca, keys), snapshotKeys(cb, keys)]);
      for (const k of sa.keys()) seen.add(k);
      diffs.push(...compareSnapshots(sa, sb, db, options));
    }
    for await (const keys of scanPages(cb)) {
      const extra = keys.filter((k) => !seen.has(hex(k)));
      if (extra.length === 0) continue;
      const [sa, sb] = await Promise.all([snapshotKeys(ca, extra), snapshotKeys(cb, extra)]);
      diffs.push(...compareSnapshots(sa, sb, db, options));
    }
  }
  return diffs;
}

export function compareSnapshots(
  sa: Map<string, KeySnapshot>,
  sb: Map<string, KeySnapshot>,
  db: number,
  options: CompareOptions = {},
): string[] {
  const tol = options.ttlToleranceMs ?? 1500;
  const idleTol = options.idleToleranceMs ?? 5000;
  const diffs: string[] = [];
  const show = (k: string) => Buffer.from(k, 'hex').toString('latin1').slice(0, 60);
  // A key on one side only, due to expire within the TTL tolerance, expired in the window the
  // tolerance allows (expiry times may differ by that much), so it is no difference.
  const expiring = (v: KeySnapshot) => v.pttl >= 0 && v.pttl <= tol;
  for (const [k, va] of sa) {
    const vb = sb.get(k);
    if (!vb) {
      if (!expiring(va)) diffs.push(`db${db} ${show(k)}: missing on the second server`);
      continue;
    }
    if (va.type !== vb.type) diffs.push(`db${db} ${show(k)}: type ${va.type} vs ${vb.type}`);
    else if (JSON.stringify(va.value) !== JSON.stringify(vb.value))
      diffs.push(
        `db${db} ${show(k)}: value ${JSON.stringify(va.value).slice(0, 300)} vs ${JSON.stringify(vb.value).slice(0, 300)}`,
      );
    if ((va.pttl === -1) !== (vb.pttl === -1))
      diffs.push(`db${db} ${show(k)}: persistence ${va.pttl} vs ${vb.pttl}`);
    else if (va.pttl !== -1 && Math.abs(va.pttl - vb.pttl) > tol)
      diffs.push(`db${db} ${show(k)}: pttl ${va.pttl} vs ${vb.pttl}`);
    diffs.push(...fieldTtlDiffs(va, vb, tol).map((d) => `db${db} ${show(k)}: ${d}`));
    if (options.compareIdle !== false && va.idle && vb.idle) {
      for (const [id, idleA] of Object.entries(va.idle)) {
        const idleB = vb.idle[id];
        if (idleB === undefined || Math.abs(idleA - idleB) > idleTol)
          diffs.push(`db${db} ${show(k)}: pending ${id} idle ${idleA} vs ${idleB}`);
      }
    }
  }
  for (const [k, vb] of sb)
    if (!sa.has(k) && !expiring(vb)) diffs.push(`db${db} ${show(k)}: extra on the second server`);
  return diffs;
}
