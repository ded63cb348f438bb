// Proves every write the app saw acknowledged is on a server, with plain ioredis reads that share
// nothing with the engine: SET values, counters at least their last acknowledged INCR, hash fields,
// list elements in acknowledgement order, PX keys with their value and a TTL unless their deadline passed.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import type { AckLine, AppReport } from './log.js';

export interface AckCheck {
  checked: number;
  missing: Array<{ key: string; detail: string }>;
  ok: boolean;
}

/** A PX key this close to its deadline may have expired on the way; its presence is not required. */
const PX_MARGIN_MS = 1000;
const BATCH = 500;

interface Expected {
  strings: Map<string, string>;
  counters: Map<string, number>;
  hashes: Map<string, Map<string, string>>;
  lists: Map<string, string[]>;
  px: Map<string, { value: string; px: number; deadline: number }>;
}

export async function readAckLog(logFile: string): Promise<AckLine[]> {
  const lines: AckLine[] = [];
  const rl = createInterface({ input: createReadStream(logFile), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) if (line.trim()) lines.push(JSON.parse(line) as AckLine);
  return lines;
}

function expectedState(lines: AckLine[]): Expected {
  const e: Expected = {
    strings: new Map(),
    counters: new Map(),
    hashes: new Map(),
    lists: new Map(),
    px: new Map(),
  };
  for (const l of lines) {
    switch (l.op) {
      case 'set':
        e.strings.set(l.key, l.value);
        break;
      case 'incr':
        e.counters.set(l.key, Math.max(e.counters.get(l.key) ?? 0, l.value));
        break;
      case 'hset': {
        const h = e.hashes.get(l.key) ?? new Map<string, string>();
        h.set(l.field, l.value);
        e.hashes.set(l.key, h);
        break;
      }
      case 'rpush': {
        const list = e.lists.get(l.key) ?? [];
        list.push(l.value);
        e.lists.set(l.key, list);
        break;
      }
      case 'setpx':
        e.px.set(l.key, { value: l.value, px: l.px, deadline: l.deadline });
        break;
    }
  }
  return e;
}

/** Whether `want` appears in `have` in order (other elements, e.g. a retried push's duplicate, may sit between). */
function inOrder(have: string[], want: string[]): string | undefined {
  let i = 0;
  for (const value of want) {
    while (i < have.length && have[i] !== value) i++;
    if (i === have.length) return value;
    i++;
  }
  return undefined;
}

async function inBatches<T>(items: T[], run: (batch: T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await run(items.slice(i, i + BATCH));
}

/** A reader of the target: one server, or a cluster routing by slot (ioredis, nothing of the engine). */
async function targetReader(targetUrl: string, cluster: boolean): Promise<Redis> {
  if (!cluster) {
    const client = new Redis(targetUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    await client.connect();
    return client;
  }
  const u = new URL(targetUrl);
  const client = new Redis.Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    lazyConnect: true,
    enableAutoPipelining: true,
    redisOptions: u.password ? { password: decodeURIComponent(u.password) } : {},
  });
  client.on('error', () => {});
  await client.connect();
  return client as unknown as Redis;
}

/** GET of each key (keys of a cluster live on different nodes: no MGET across slots). */
const getAll = (client: Redis, keys: string[]) => Promise.all(keys.map((k) => client.get(k)));

export async function checkAcknowledged(
  report: AppReport,
  targetUrl: string,
  options: { cluster?: boolean } = {},
): Promise<AckCheck> {
  const e = expectedState(await readAckLog(report.logFile));
  const missing: AckCheck['missing'] = [];
  const client = await targetReader(targetUrl, options.cluster ?? false);
  let checked = 0;
  try {
    await inBatches([...e.strings], async (batch) => {
      const values = await getAll(
        client,
        batch.map(([k]) => k),
      );
      batch.forEach(([key, want], i) => {
        if (values[i] !== want)
          missing.push({ key, detail: `SET ${want} acknowledged, target has ${show(values[i])}` });
      });
      checked += batch.length;
    });
    await inBatches([...e.counters], async (batch) => {
      const values = await getAll(
        client,
        batch.map(([k]) => k),
      );
      batch.forEach(([key, want], i) => {
        const have = values[i] === null ? null : Number(values[i]);
        if (have === null || !(have >= want))
          missing.push({ key, detail: `INCR to ${want} acknowledged, target has ${show(values[i])}` });
      });
      checked += batch.length;
    });
    for (const [key, fields] of e.hashes) {
      const have = await client.hgetall(key);
      for (const [field, want] of fields) {
        if (have[field] !== want)
          missing.push({
            key,
            detail: `HSET ${field}=${want} acknowledged, target has ${show(have[field])}`,
          });
      }
      checked += fields.size;
    }
    for (const [key, want] of e.lists) {
      const have = await client.lrange(key, 0, -1);
      const absent = inOrder(have, want);
      if (absent !== undefined)
        missing.push({
          key,
          detail: `RPUSH ${absent} acknowledged, not on the target in order (${have.length} elements, ${want.length} acknowledged)`,
        });
      checked += want.length;
    }
    await inBatches([...e.px], async (batch) => {
      const replies = await Promise.all(
        batch.map(async ([key]) => [await client.get(key), await client.pttl(key)] as const),
      );
      const now = Date.now();
      batch.forEach(([key, want], i) => {
        if (now >= want.deadline - PX_MARGIN_MS) return; // may have expired, legitimately
        checked++;
        const [value, pttl] = replies[i]!;
        if (value !== want.value)
          missing.push({
            key,
            detail: `SET ${want.value} PX ${want.px} acknowledged, target has ${show(value)}`,
          });
        else if (!(pttl > 0 && pttl <= want.px))
          missing.push({ key, detail: `SET PX ${want.px} acknowledged, target's PTTL is ${pttl}` });
      });
    });
  } finally {
    client.disconnect();
  }
  return { checked, missing, ok: missing.length === 0 };
}

const show = (v: string | null | undefined) =>
  v === null || v === undefined ? 'nothing' : JSON.stringify(v);
