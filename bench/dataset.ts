// Reproducible benchmark dataset: a seeded mix of strings, hashes, lists, sets and zsets, some with
// TTLs, written as raw RESP over one socket (much faster than a client library, ~1M commands/s).
import { connect as netConnect, type Socket } from 'node:net';

export interface DatasetOptions {
  keys: number;
  seed?: number;
  db?: number;
  /** Fraction of keys with a TTL (default 0.3); TTLs are 2-4 hours so nothing expires mid-run. */
  ttlFraction?: number;
}

export interface DatasetSummary {
  keys: number;
  byType: Record<'string' | 'hash' | 'list' | 'set' | 'zset', number>;
  withTtl: number;
  commands: number;
  bytesSent: number;
  durationMs: number;
}

/** mulberry32: tiny, fast, good enough for test data, and the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function bulk(s: string): string {
  // Everything here is ASCII, so string length = byte length.
  return `$${s.length}\r\n${s}\r\n`;
}

function command(args: string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += bulk(a);
  return out;
}

/** The commands that build the dataset, in chunks of RESP text, plus what they add up to. */
export function* datasetCommands(options: DatasetOptions): Generator<{ chunk: string; commands: number }> {
  const rand = prng(options.seed ?? 42);
  const ttlFraction = options.ttlFraction ?? 0.3;
  // Values are slices of a random pool: cheap to make, still incompressible for DUMP's LZF.
  let pool = '';
  for (let i = 0; i < 1 << 16; i++) pool += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  const slice = (len: number) => {
    const at = Math.floor(rand() * (pool.length - len));
    return pool.slice(at, at + len);
  };
  let chunk = options.db ? command(['SELECT', String(options.db)]) : '';
  let commands = options.db ? 1 : 0;
  for (let i = 0; i < options.keys; i++) {
    const r = rand();
    let key: string;
    if (r < 0.6) {
      key = `str:${i}`;
      chunk += command(['SET', key, slice(100)]);
    } else if (r < 0.75) {
      key = `hash:${i}`;
      const args = ['HSET', key];
      for (let f = 0; f < 10; f++) args.push(`f${f}`, slice(20));
      chunk += command(args);
    } else if (r < 0.85) {
      key = `list:${i}`;
      const args = ['RPUSH', key];
      for (let e = 0; e < 10; e++) args.push(slice(20));
      chunk += command(args);
    } else if (r < 0.95) {
      key = `set:${i}`;
      const args = ['SADD', key];
      for (let m = 0; m < 10; m++) args.push(`m${m}-${slice(12)}`);
      chunk += command(args);
    } else {
      key = `zset:${i}`;
      const args = ['ZADD', key];
      for (let m = 0; m < 10; m++) args.push(String(Math.floor(rand() * 1e6) / 100), `m${m}-${slice(12)}`);
      chunk += command(args);
    }
    commands++;
    if (rand() < ttlFraction) {
      chunk += command(['PEXPIRE', key, String(7_200_000 + Math.floor(rand() * 7_200_000))]);
      commands++;
    }
    if (chunk.length > 1 << 20) {
      yield { chunk, commands };
      chunk = '';
      commands = 0;
    }
  }
  if (chunk) yield { chunk, commands };
}

/** Same split as datasetCommands, without writing anything: for reports. */
export function datasetShape(
  options: DatasetOptions,
): Omit<DatasetSummary, 'commands' | 'bytesSent' | 'durationMs'> {
  const rand = prng(options.seed ?? 42);
  const ttlFraction = options.ttlFraction ?? 0.3;
  for (let i = 0; i < 1 << 16; i++) rand();
  const byType = { string: 0, hash: 0, list: 0, set: 0, zset: 0 };
  let withTtl = 0;
  for (let i = 0; i < options.keys; i++) {
    const r = rand();
    // Consume the same random numbers as datasetCommands does for each type.
    if (r < 0.6) {
      byType.string++;
      rand();
    } else if (r < 0.75) {
      byType.hash++;
      for (let f = 0; f < 10; f++) rand();
    } else if (r < 0.85) {
      byType.list++;
      for (let e = 0; e < 10; e++) rand();
    } else if (r < 0.95) {
      byType.set++;
      for (let m = 0; m < 10; m++) rand();
    } else {
      byType.zset++;
      for (let m = 0; m < 10; m++) {
        rand();
        rand();
      }
    }
    if (rand() < ttlFraction) {
      withTtl++;
      rand();
    }
  }
  return { keys: options.keys, byType, withTtl };
}

export interface RawTarget {
  host: string;
  port: number;
  password?: string;
}

/** Streams the dataset into a server over one socket, waits for every reply, fails on any error reply. */
export async function loadDataset(server: RawTarget, options: DatasetOptions): Promise<DatasetSummary> {
  const started = Date.now();
  const socket = await openSocket(server);
  let expected = 0;
  let received = 0;
  let firstError: string | undefined;
  let bytesSent = 0;
  let lineStart = true;
  let errorLine: number[] | undefined;
  let allSent = false;
  let resolveDone!: () => void;
  let rejectDone!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // Every reply here is one line (+OK, :n, -ERR): counting newlines counts replies.
  socket.on('data', (data: Buffer) => {
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      if (lineStart && b === 0x2d /* - */ && firstError === undefined) errorLine = [];
      if (errorLine && b !== 0x0d && b !== 0x0a) errorLine.push(b);
      lineStart = false;
      if (b === 0x0a) {
        received++;
        lineStart = true;
        if (errorLine) {
          firstError = Buffer.from(errorLine).toString();
          errorLine = undefined;
        }
      }
    }
    if (allSent && received >= expected) resolveDone();
  });
  socket.on('error', (err) => rejectDone(err));
  socket.on('close', () => {
    if (received < expected || !allSent) rejectDone(new Error('connection closed while loading the dataset'));
  });
  try {
    if (server.password) {
      await writeChunk(socket, command(['AUTH', server.password]));
      expected++;
    }
    for (const { chunk, commands } of datasetCommands(options)) {
      expected += commands;
      bytesSent += chunk.length;
      await writeChunk(socket, chunk);
    }
    allSent = true;
    if (received >= expected) resolveDone();
    await done;
  } finally {
    socket.destroy();
  }
  if (firstError) throw new Error(`loading the dataset failed: ${firstError}`);
  const shape = datasetShape(options);
  return { ...shape, commands: expected, bytesSent, durationMs: Date.now() - started };
}

function openSocket(server: RawTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: server.host, port: server.port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function writeChunk(socket: Socket, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    if (socket.write(chunk, 'latin1')) resolve();
    else socket.once('drain', () => resolve());
  });
}
