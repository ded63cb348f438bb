// An application writing to the source during a migration, in its own process: one connection,
// one command at a time, several types, binary key names, TTLs (long ones it tracks, short ones
// that expire on their own), deletes. It keeps a model of what every acknowledged write leaves
// behind, so the test can check that each write the source acknowledged reached the target.
//
// Env: SOURCE_URL, SEED. stdin: "redirect" (stop issuing writes: the app moves to the target; a
// write blocked by the pause stays in flight until its connection is killed), "stop" (print the
// report and exit). stdout: "acked <n>" now and then, "settled" once nothing is in flight after a
// redirect, then one JSON line: the report.
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';

type Value =
  | { type: 'string'; value: string }
  | { type: 'hash'; value: Record<string, string> }
  | { type: 'list'; value: string[] }
  | { type: 'set'; value: string[] }
  | { type: 'zset'; value: [string, number][] };

export interface ModelEntry {
  keyHex: string;
  value: Value;
  /** Whether the key has a (long) TTL. */
  ttl: boolean;
}

export interface WriterReport {
  acked: number;
  /** Writes whose connection dropped before a reply: never acknowledged. */
  unacked: { op: string; error: string }[];
  model: ModelEntry[];
}

const url = new URL(process.env.SOURCE_URL!);
const client = new Redis({
  host: url.hostname,
  port: Number(url.port),
  password: url.password ? decodeURIComponent(url.password) : undefined,
  // An app that does not resend a write whose connection died: it never got an answer for it.
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
  enableOfflineQueue: false,
  lazyConnect: true,
});
client.on('error', () => {});

let seed = Number(process.env.SEED ?? 1);
const rand = (n: number) => {
  // xorshift: the same sequence for the same seed.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return Math.abs(seed) % n;
};

const TYPES = ['str', 'hash', 'list', 'set', 'zset'] as const;
// Enough keys that each one changes only now and then: a verification while writes flow re-reads a
// differing key a few times, and a key rewritten faster than live sync's lag never settles.
const PER_TYPE = 40;
const keyOf = (type: string, i: number) =>
  Buffer.concat([Buffer.from('app:'), Buffer.from([0xff, 0x00, 0xc3, i]), Buffer.from(`:${type}`)]);

const model = new Map<string, ModelEntry>();
const unacked: WriterReport['unacked'] = [];
let acked = 0;
let redirected = false;
let stopping = false;

function entry(key: Buffer, init: () => Value): ModelEntry {
  const hex = key.toString('hex');
  let e = model.get(hex);
  if (!e) {
    e = { keyHex: hex, value: init(), ttl: false };
    model.set(hex, e);
  }
  return e;
}

/** One write: the command, and what it does to the model once acknowledged. */
function nextOp(seq: number): { name: string; send: () => Promise<unknown>; apply: () => void } {
  const type = TYPES[rand(TYPES.length)]!;
  const i = rand(PER_TYPE);
  const key = keyOf(type, i);
  const v = `v${seq}`;
  const roll = rand(100);
  if (roll < 6) {
    return {
      name: `del ${type}${i}`,
      send: () => client.del(key),
      apply: () => model.delete(key.toString('hex')),
    };
  }
  if (roll < 10) {
    // Short-lived: expires on the source on its own (and must on the target too).
    const tmp = Buffer.concat([
      Buffer.from('tmp:'),
      Buffer.from([0xfe, seq & 0xff]),
      Buffer.from(String(seq)),
    ]);
    return { name: 'set tmp', send: () => client.set(tmp, v, 'PX', 150 + rand(300)), apply: () => {} };
  }
  switch (type) {
    case 'str': {
      const withTtl = roll < 30;
      return {
        name: `set str${i}`,
        send: () => (withTtl ? client.set(key, v, 'PX', 3_600_000) : client.set(key, v)),
        apply: () => {
          const e = entry(key, () => ({ type: 'string', value: '' }));
          e.value = { type: 'string', value: v };
          e.ttl = withTtl;
        },
      };
    }
    case 'hash': {
      const f = `f${rand(6)}`;
      return {
        name: `hset hash${i}`,
        send: () => client.hset(key, f, v),
        apply: () => {
          const e = entry(key, () => ({ type: 'hash', value: {} }));
          (e.value.value as Record<string, string>)[f] = v;
        },
      };
    }
    case 'list':
      return {
        name: `rpush list${i}`,
        send: () => client.rpush(key, v),
        apply: () => (entry(key, () => ({ type: 'list', value: [] })).value.value as string[]).push(v),
      };
    case 'set': {
      const m = `m${rand(20)}`;
      return {
        name: `sadd set${i}`,
        send: () => client.sadd(key, m),
        apply: () => {
          const e = entry(key, () => ({ type: 'set', value: [] }));
          const set = e.value.value as string[];
          if (!set.includes(m)) set.push(m);
        },
      };
    }
    default: {
      const m = `z${rand(10)}`;
      const withTtl = roll > 90;
      return {
        name: `zadd zset${i}`,
        // One transaction: a pause holds both commands or neither.
        send: () => {
          const tx = client.multi().zadd(key, seq, m);
          if (withTtl) tx.pexpire(key, 3_600_000);
          return tx.exec();
        },
        apply: () => {
          const e = entry(key, () => ({ type: 'zset', value: [] }));
          const z = (e.value.value as [string, number][]).filter(([name]) => name !== m);
          z.push([m, seq]);
          e.value = { type: 'zset', value: z };
          if (withTtl) e.ttl = true;
        },
      };
    }
  }
}

function report(): WriterReport {
  return { acked, unacked, model: [...model.values()] };
}

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'redirect') redirected = true;
  if (cmd === 'stop') {
    stopping = true;
    redirected = true;
  }
});

await client.connect();
process.stdout.write('ready\n');
let seq = 0;
while (!redirected) {
  const op = nextOp(++seq);
  try {
    await op.send();
    op.apply();
    acked++;
    if (acked % 50 === 0) process.stdout.write(`acked ${acked}\n`);
  } catch (err) {
    // The connection was killed while the write waited under the pause: it never ran.
    unacked.push({ op: op.name, error: (err as Error).message });
    break;
  }
  await new Promise((r) => setTimeout(r, 3));
}
process.stdout.write('settled\n');
while (!stopping) await new Promise((r) => setTimeout(r, 20));
client.disconnect();
process.stdout.write(`${JSON.stringify(report())}\n`);
process.exit(0);
