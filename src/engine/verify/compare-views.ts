// Compares what readValues (or the payload decoder) produced for the same key on both sides.
import { createHash } from 'node:crypto';
import { printableKey } from '../../probe/printable-key.js';
import { compareHashes, compareLists, compareSets, compareStrings, compareZsets } from './compare.js';
import { hashDigest, listDigest, setDigest, zsetDigest } from './digest.js';
import { compareStreams } from './read-stream.js';
import type { ValueView } from './read-value.js';

export type ViewComparison =
  | { equal: true }
  | { equal: false; detail: string }
  /** One side changed while being read: not a verdict, the key is looked at again later. */
  | { equal: false; changed: true; detail: string };

const EQUAL: ViewComparison = { equal: true };

function show(latin1: string): string {
  const text = printableKey(Buffer.from(latin1, 'latin1'));
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

type Digestible = Extract<ValueView, { kind: 'full' | 'digest' }>;

/** A whole value as the digest the chunked reader would have produced for it. */
function asDigest(view: Digestible): { count: number; hex: string } {
  if (view.kind === 'digest') return view;
  switch (view.type) {
    case 'set': {
      const d = setDigest(view.items);
      return { count: d.count, hex: d.hex };
    }
    case 'list': {
      const d = listDigest(view.items);
      return { count: d.count, hex: d.hex };
    }
    case 'hash': {
      const d = hashDigest(view.entries);
      return { count: d.count, hex: d.hex };
    }
    case 'zset': {
      const d = zsetDigest(view.entries);
      return { count: d.count, hex: d.hex };
    }
    case 'string':
      return { count: view.value.length, hex: createHash('sha256').update(view.value).digest('hex') };
  }
}

const UNIT: Record<string, string> = {
  string: 'bytes',
  set: 'members',
  hash: 'fields',
  list: 'elements',
  zset: 'members',
};

export function compareViews(a: ValueView, b: ValueView): ViewComparison {
  if (a.kind === 'gone' || b.kind === 'gone') {
    return { equal: false, changed: true, detail: 'changed while being compared' };
  }
  if (a.kind === 'unsupported' || b.kind === 'unsupported') {
    const u = (a.kind === 'unsupported' ? a : b) as Extract<ValueView, { kind: 'unsupported' }>;
    return { equal: false, detail: `cannot compare values of type ${u.type}: ${u.reason}` };
  }
  if (a.kind === 'stream' || b.kind === 'stream') {
    if (a.kind !== 'stream' || b.kind !== 'stream')
      return { equal: false, changed: true, detail: 'type changed' };
    const detail = compareStreams(a.stream, b.stream, show);
    return detail === null ? EQUAL : { equal: false, detail };
  }
  if (a.type !== b.type) return { equal: false, changed: true, detail: 'type changed' };
  if (a.kind === 'full' && b.kind === 'full') {
    let detail: string | null;
    switch (a.type) {
      case 'string':
        detail = compareStrings(a.value, (b as typeof a).value);
        break;
      case 'list':
        detail = compareLists(a.items, (b as typeof a).items);
        break;
      case 'set':
        detail = compareSets(a.items, (b as typeof a).items);
        break;
      case 'hash':
        detail = compareHashes(a.entries, (b as typeof a).entries);
        break;
      case 'zset':
        detail = compareZsets(a.entries, (b as typeof a).entries);
        break;
    }
    return detail === null ? EQUAL : { equal: false, detail };
  }
  // At least one side was too big to read whole: compare digests.
  const da = asDigest(a as Digestible);
  const db = asDigest(b as Digestible);
  if (da.count === db.count && da.hex === db.hex) return EQUAL;
  const unit = UNIT[a.type] ?? 'elements';
  if (da.count !== db.count)
    return { equal: false, detail: `${a.type} of ${da.count} vs ${db.count} ${unit} (by digest)` };
  return { equal: false, detail: `${a.type} contents differ (${da.count} ${unit} each, by digest)` };
}
