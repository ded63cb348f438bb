// Redis 8 vector sets, compared by content. Their DUMP payloads never prove them equal: RESTORE
// rebuilds the HNSW graph's links (same size, other bytes), so both sides are read with the
// type's own commands and compared element by element:
//   - VINFO: quantization (quant-type), vector-dim, projection-input-dim (REDUCE), hnsw-m, size
//     and attributes-count. Not vset-uid, hnsw-max-node-uid or max-level: they come from the
//     server's history and the graph, not from the data.
//   - the elements: VRANDMEMBER with a count over VCARD returns every element once (it walks the
//     element list from a random node, wrapping at its head: modules/vector-sets/vset.c);
//   - each element's VEMB ... RAW (quantization name, the stored vector's bytes, its L2 norm and,
//     for int8, its quantization range) and VGETATTR. RDB save/load carries the stored bytes and
//     those params as they are, so after a RESTORE all of them are equal exactly; a native rebuild
//     (VADD of the dequantized floats) would not be, and is reported.
// Memory: Redis 8.0 has no paged walk of a vector set's elements (VRANGE came later), so the
// element names come in one reply, within NAME_LIMITS; vectors and attributes, the bulk of a
// vector set, are read a page of elements at a time (see read-size.ts), on both sides at once, and
// dropped after the page. The target's names are read only when it holds elements the source lacks.
import { printableKey } from '../../probe/printable-key.js';
import type { CommandRunner } from '../resp/connection.js';
import { type RespArg, RespError, type RespReply, SkippedBulk } from '../resp/reply.js';
import type { ViewComparison } from './compare-views.js';
import { readSizer } from './read-size.js';

/**
 * How many element names one VRANDMEMBER reply may bring: their bytes (names of up to 64 bytes
 * are always kept by the connection, so the count bounds those) and their number (each name costs
 * about 100 bytes of Buffer besides its bytes). A bigger vector set is reported as not compared.
 */
export interface NameLimits {
  bytes: number;
  elements: number;
}
export const NAME_LIMITS: NameLimits = { bytes: 64 * 1024 * 1024, elements: 1_000_000 };
/** Element differences named in one key's detail; the rest are counted. */
const NAMED_DIFFERENCES = 5;
/** VINFO fields that describe the data (the rest describe the server's history). */
const INFO_FIELDS = [
  'quant-type',
  'vector-dim',
  'projection-input-dim',
  'hnsw-m',
  'size',
  'attributes-count',
] as const;

type Info = Record<(typeof INFO_FIELDS)[number], string>;

class GoneError extends Error {}

function text(reply: RespReply | undefined): string | null {
  if (Buffer.isBuffer(reply)) return reply.toString('latin1');
  if (typeof reply === 'string' || typeof reply === 'number') return String(reply);
  return null;
}

function show(name: Buffer): string {
  const t = printableKey(name);
  return t.length > 40 ? `${t.slice(0, 40)}...` : t;
}

async function one(runner: CommandRunner, args: RespArg[], where: string, cap?: number): Promise<RespReply> {
  const [reply] = await runner.exec([args], cap);
  if (reply instanceof RespError) {
    if (reply.code === 'WRONGTYPE') throw new GoneError();
    throw new Error(`${String(args[0])} on the ${where} failed: ${reply.message}`);
  }
  return reply ?? null;
}

async function readInfo(runner: CommandRunner, key: Buffer, where: string): Promise<Info> {
  const reply = await one(runner, ['VINFO', key], where);
  if (!Array.isArray(reply)) throw new GoneError();
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(text(reply[i]) ?? '', text(reply[i + 1]) ?? '');
  const info = {} as Info;
  for (const f of INFO_FIELDS) info[f] = map.get(f) ?? '?';
  return info;
}

/** Every element name, or how many there are when they exceed the limits. */
async function readNames(
  runner: CommandRunner,
  key: Buffer,
  card: number,
  where: string,
  limits: NameLimits,
): Promise<Buffer[] | { tooBig: number }> {
  if (card > limits.elements) return { tooBig: card };
  // A count over the size returns each element once; the margin covers elements added meanwhile
  // (and bounds the reply).
  const reply = await one(
    runner,
    ['VRANDMEMBER', key, card + Math.min(card, 1024) + 16],
    where,
    limits.bytes,
  );
  if (!Array.isArray(reply)) throw new GoneError();
  if (reply.length > limits.elements || reply.some((r) => r instanceof SkippedBulk))
    return { tooBig: reply.length };
  return reply as Buffer[];
}

function tooBigText(elements: number, limits: NameLimits): string {
  return `${elements} elements (more than ${limits.elements} or ${limits.bytes / 1024 / 1024} MiB of names)`;
}

/** One element as read on one side: VEMB RAW's parts (null: no such element) and VGETATTR. */
interface ElementRead {
  vector: (Buffer | string)[] | null;
  attr: Buffer | null;
  bytes: number;
  cut: boolean;
}

function elementReads(replies: RespReply[], where: string): ElementRead[] {
  const out: ElementRead[] = [];
  for (let i = 0; i + 1 < replies.length; i += 2) {
    const v = replies[i]!;
    const a = replies[i + 1]!;
    for (const r of [v, a]) {
      if (r instanceof RespError) {
        if (r.code === 'WRONGTYPE') throw new GoneError();
        throw new Error(`VEMB/VGETATTR on the ${where} failed: ${r.message}`);
      }
    }
    const parts = Array.isArray(v) ? v : null;
    let bytes = 0;
    let cut = a instanceof SkippedBulk;
    for (const p of [...(parts ?? []), a]) {
      if (p instanceof SkippedBulk) cut = true;
      if (Buffer.isBuffer(p) || p instanceof SkippedBulk) bytes += p.length;
    }
    out.push({
      vector: parts as (Buffer | string)[] | null,
      attr: Buffer.isBuffer(a) ? a : null,
      bytes,
      cut,
    });
  }
  return out;
}

/** Two VEMB RAW replies: equal quantization and stored bytes, and equal norm (and range). */
function sameVector(a: (Buffer | string)[], b: (Buffer | string)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (i === 1) {
      if (!Buffer.isBuffer(x) || !Buffer.isBuffer(y) || !x.equals(y)) return false;
      continue;
    }
    const tx = text(x);
    const ty = text(y);
    // Norm and range are doubles as text: one value may print differently across versions.
    if (tx !== ty && !(i >= 2 && Number(tx) === Number(ty))) return false;
  }
  return true;
}

/** Bytes of one stored vector (hnsw_quants_bytes in hnsw.c: f32 4 per dim, int8 1, bin 1 bit in 64-bit words). */
function vectorBytes(info: Info): number {
  const dim = Number(info['vector-dim']) || 0;
  if (info['quant-type'] === 'f32') return 4 * dim;
  if (info['quant-type'] === 'bin') return Math.ceil(dim / 64) * 8;
  return dim;
}

function vectorText(parts: (Buffer | string)[]): string {
  return `${text(parts[0])} vector ${(parts[1] as Buffer).toString('hex').slice(0, 32)}`;
}

/**
 * Compares one vector set key on both servers by content. The detail names up to
 * NAMED_DIFFERENCES elements that differ; a key that vanished or changed type meanwhile is
 * `changed` (looked at again later).
 */
export async function compareVectorSets(
  source: CommandRunner,
  target: CommandRunner,
  key: Buffer,
  chunk: number,
  limits: NameLimits = NAME_LIMITS,
): Promise<ViewComparison> {
  try {
    return await compare(source, target, key, chunk, limits);
  } catch (err) {
    if (err instanceof GoneError)
      return { equal: false, changed: true, detail: 'changed while being compared' };
    throw err;
  }
}

async function compare(
  source: CommandRunner,
  target: CommandRunner,
  key: Buffer,
  chunk: number,
  limits: NameLimits,
): Promise<ViewComparison> {
  const [ia, ib] = await Promise.all([readInfo(source, key, 'source'), readInfo(target, key, 'target')]);
  for (const f of ['quant-type', 'vector-dim', 'projection-input-dim', 'hnsw-m'] as const) {
    if (ia[f] !== ib[f]) return { equal: false, detail: `vector set ${f} ${ia[f]} vs ${ib[f]}` };
  }
  const names = await readNames(source, key, Number(ia.size), 'source', limits);
  if (!Array.isArray(names)) {
    return {
      equal: false,
      detail:
        `vector set not compared: ${tooBigText(names.tooBig, limits)} is more than verify reads at once ` +
        "(Redis 8.0 cannot page a vector set's elements); compare DEBUG DIGEST-VALUE of the key on " +
        'both servers (needs enable-debug-command), or its elements with VEMB/VGETATTR',
    };
  }
  const diffs: string[] = [];
  let differing = 0;
  const note = (d: string) => {
    differing++;
    if (diffs.length < NAMED_DIFFERENCES) diffs.push(d);
  };
  let matched = 0;
  let changed = false;
  // Each element costs its vector's bytes plus its attribute: as many as fit in READ_BYTES, judged
  // first by the vector's size, then by the biggest element read.
  const sizer = readSizer(chunk, vectorBytes(ia) + 64);
  for (let offset = 0; offset < names.length; ) {
    const page = names.slice(offset, offset + sizer.count);
    const commands: RespArg[][] = [];
    for (const n of page) commands.push(['VEMB', key, n, 'RAW'], ['VGETATTR', key, n]);
    const cap = sizer.cap;
    const [ra, rb] = await Promise.all([source.exec(commands, cap), target.exec(commands, cap)]);
    const ea = elementReads(ra, 'source');
    const eb = elementReads(rb, 'target');
    const biggest = Math.max(...ea.map((e) => e.bytes), ...eb.map((e) => e.bytes));
    // The elements before the first one the byte cap cut count; from it on, the page is asked
    // again with fewer elements (or that one alone, uncapped).
    const cutAt = (reads: ElementRead[]) => {
      const i = reads.findIndex((e) => e.cut);
      return i === -1 ? page.length : i;
    };
    const whole = Math.min(cutAt(ea), cutAt(eb));
    sizer.saw(biggest, whole < page.length);
    page.slice(0, whole).forEach((name, j) => {
      const a = ea[j]!;
      const b = eb[j]!;
      if (!a.vector) {
        // Removed from the source since its names were read: not a verdict.
        if (b.vector) changed = true;
        return;
      }
      if (!b.vector) {
        note(`element '${show(name)}' missing on the target`);
        return;
      }
      matched++;
      if (!sameVector(a.vector, b.vector)) {
        note(`element '${show(name)}': ${vectorText(a.vector)} vs ${vectorText(b.vector)}`);
      } else if ((a.attr === null) !== (b.attr === null) || (a.attr && b.attr && !a.attr.equals(b.attr))) {
        const attr = (x: Buffer | null) => (x === null ? 'none' : show(x));
        note(`element '${show(name)}': attributes ${attr(a.attr)} vs ${attr(b.attr)}`);
      }
    });
    offset += whole;
  }
  const targetCard = Number((await readInfo(target, key, 'target')).size);
  if (targetCard > matched) {
    const theirs = await readNames(target, key, targetCard, 'target', limits);
    if (Array.isArray(theirs)) {
      const ours = new Set(names.map((n) => n.toString('latin1')));
      for (const n of theirs)
        if (!ours.has(n.toString('latin1'))) note(`element '${show(n)}' only on the target`);
    } else {
      note(
        `${targetCard - matched} elements only on the target (not named: ${tooBigText(targetCard, limits)})`,
      );
    }
  }
  if (differing === 0) {
    // Every element read equal, yet counts disagree: something moved while it was being read.
    const settled =
      !changed &&
      names.length === Number(ia.size) &&
      targetCard === matched &&
      ia['attributes-count'] === ib['attributes-count'];
    return settled
      ? { equal: true }
      : { equal: false, changed: true, detail: 'changed while being compared' };
  }
  const more = differing > diffs.length ? `; ${differing - diffs.length} more` : '';
  return {
    equal: false,
    detail: `vector set of ${ia.size} vs ${ib.size} elements, ${differing} differ: ${diffs.join('; ')}${more}`,
  };
}
