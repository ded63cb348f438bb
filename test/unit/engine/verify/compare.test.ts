import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareHashes,
  compareLists,
  compareSets,
  compareStrings,
  compareZsets,
  shortText,
} from '../../../../src/engine/verify/compare.js';
import { compareViews } from '../../../../src/engine/verify/compare-views.js';
import { hashDigest, setDigest } from '../../../../src/engine/verify/digest.js';
import { ttlDifference } from '../../../../src/engine/verify/evaluate.js';
import {
  absoluteReading,
  expiryGap,
  relativeReading,
  serverTimeMs,
} from '../../../../src/engine/verify/expiry.js';
import { compareStreams, nextStreamId, type StreamView } from '../../../../src/engine/verify/read-stream.js';

const bufs = (...s: string[]) => s.map((x) => Buffer.from(x));

describe('whole-value comparison', () => {
  it('strings', () => {
    assert.equal(compareStrings(Buffer.from('abc'), Buffer.from('abc')), null);
    assert.equal(
      compareStrings(Buffer.from('abc'), Buffer.from('abd')),
      'string of 3 bytes differs from byte 2',
    );
    assert.equal(compareStrings(Buffer.from('abc'), Buffer.from('ab')), 'string of 3 vs 2 bytes');
  });

  it('lists keep their order', () => {
    assert.equal(compareLists(bufs('a', 'b'), bufs('a', 'b')), null);
    assert.equal(compareLists(bufs('a', 'b'), bufs('b', 'a')), 'list element 0 differs (2 vs 2 elements)');
    assert.equal(compareLists(bufs('a'), bufs('a', 'b')), 'list of 1 vs 2 elements');
  });

  it('sets ignore order', () => {
    assert.equal(compareSets(bufs('x', 'y', 'z'), bufs('z', 'x', 'y')), null);
    assert.equal(
      compareSets(bufs('x', 'y'), bufs('x', 'w')),
      "set of 2 vs 2 members; 'y' only on the source",
    );
    assert.equal(compareSets(bufs('x'), bufs('x', 'w')), "set of 1 vs 2 members; 'w' only on the target");
  });

  it('hashes ignore pair order, not pairing', () => {
    assert.equal(compareHashes(bufs('a', '1', 'b', '2'), bufs('b', '2', 'a', '1')), null);
    assert.equal(compareHashes(bufs('a', '1', 'b', '2'), bufs('a', '2', 'b', '1')), "hash field 'a' differs");
    assert.equal(
      compareHashes(bufs('a', '1'), bufs('a', '1', 'c', '3')),
      "hash of 1 vs 2 fields; 'c' only on the target",
    );
    assert.equal(
      compareHashes(bufs('a', '1', 'b', '2'), bufs('b', '2')),
      "hash of 2 vs 1 fields; 'a' only on the source",
    );
  });

  it('zsets compare scores as doubles', () => {
    assert.equal(compareZsets(bufs('m', '0.10000000000000001'), bufs('m', '0.1')), null);
    assert.equal(compareZsets(bufs('m', '1'), bufs('m', '2')), "zset member 'm' has score 1 vs 2");
    assert.equal(compareZsets(bufs('m', 'inf'), bufs('m', '+inf')), null);
    assert.equal(
      compareZsets(bufs('m', '1'), bufs('n', '1')),
      "zset of 1 vs 1 members; 'm' only on the source",
    );
  });

  it('shows binary members printably and short', () => {
    assert.equal(shortText(Buffer.from([0xff, 0x41])), '\\xffA');
    assert.equal(shortText(Buffer.from('y'.repeat(100))), `${'y'.repeat(40)}...`);
  });
});

describe('compareViews', () => {
  it('compares a whole value with a digest of the same value', () => {
    const items = bufs('a', 'b', 'c');
    const d = setDigest(items);
    assert.deepEqual(
      compareViews(
        { kind: 'full', type: 'set', items },
        { kind: 'digest', type: 'set', count: d.count, hex: d.hex },
      ),
      { equal: true },
    );
    const h = hashDigest(bufs('f', 'v'));
    const r = compareViews(
      { kind: 'full', type: 'hash', entries: bufs('f', 'w') },
      { kind: 'digest', type: 'hash', count: h.count, hex: h.hex },
    );
    assert.deepEqual(r, { equal: false, detail: 'hash contents differ (1 fields each, by digest)' });
  });

  it('treats a key that vanished mid-read as changed, not as a verdict', () => {
    const r = compareViews({ kind: 'gone' }, { kind: 'full', type: 'string', value: Buffer.from('x') });
    assert.deepEqual(r, { equal: false, changed: true, detail: 'changed while being compared' });
  });

  it('says when a type cannot be compared', () => {
    const r = compareViews(
      { kind: 'unsupported', type: 'MBbloom--', reason: 'no type-aware comparison for this type' },
      { kind: 'gone' },
    );
    assert.equal(r.equal, false);
  });
});

describe('ttlDifference', () => {
  /** A reading known exactly: expires at `at` with `pttl` left. */
  const exact = (pttl: number, at = pttl) => ({ pttl, earliest: at, latest: at });

  it('classifies persistence and TTLs beyond the tolerance', () => {
    assert.equal(ttlDifference(exact(-1), exact(-1), 1000), null);
    assert.equal(ttlDifference(exact(5000), exact(5900), 1000), null);
    assert.equal(ttlDifference(exact(5000), exact(6000), 1000), null);
    assert.deepEqual(ttlDifference(exact(5000), exact(6001), 1000), {
      cls: 'ttl',
      detail: 'TTL 5000 ms vs 6001 ms: expires at least 1001 ms later on the target (tolerance 1000 ms)',
    });
    assert.deepEqual(ttlDifference(exact(3_600_000), exact(1_800_000), 1000), {
      cls: 'ttl',
      detail: 'TTL 3600.0 s vs 1800.0 s: expires at least 1800.0 s earlier on the target (tolerance 1000 ms)',
    });
    assert.equal(ttlDifference(exact(-1), exact(5000), 1000)?.cls, 'persistence');
    assert.equal(
      ttlDifference(exact(5000), exact(-1), 1000)?.detail,
      'expires in 5000 ms on the source, persistent on the target',
    );
  });

  it('is no difference when the expiry windows overlap, however far apart the PTTLs were read', () => {
    // Read 300 ms apart: PTTLs differ by 300 ms, the windows on the local clock overlap.
    const source = relativeReading(79_494_500, 1_000, 1_010);
    const target = relativeReading(79_494_200, 1_300, 1_310);
    assert.equal(ttlDifference(source, target, 100), null);
    // The same expiry 250 ms later on the target is a difference, whatever the reading times.
    const later = relativeReading(79_494_450, 1_300, 1_310);
    assert.match(ttlDifference(source, later, 100)!.detail, /at least 2[34]\d ms later on the target/);
  });
});

describe('absolute expiry readings', () => {
  const clock = { kind: 'absolute' as const, targetAheadMs: 2_000, uncertaintyMs: 0.5 };

  it('puts the target on the source clock, widened by the offset uncertainty', () => {
    const source = absoluteReading(1_700_000_010_000, 1_700_000_000_000, 'source', clock);
    const target = absoluteReading(1_700_000_012_000, 1_700_000_002_000, 'target', clock);
    assert.deepEqual(source, { pttl: 10_000, earliest: 1_700_000_010_000, latest: 1_700_000_010_000 });
    assert.deepEqual(target, { pttl: 10_000, earliest: 1_700_000_009_999.5, latest: 1_700_000_010_000.5 });
    assert.equal(expiryGap(source, target), 0);
    assert.equal(ttlDifference(source, target, 0), null);
    const off = absoluteReading(1_700_000_012_002, 1_700_000_002_000, 'target', clock);
    assert.equal(expiryGap(source, off), 1.5);
    assert.equal(ttlDifference(source, off, 1)?.cls, 'ttl');
  });

  it('keeps missing and persistent keys as they are', () => {
    assert.equal(absoluteReading(-1, 5, 'target', clock).pttl, -1);
    assert.equal(absoluteReading(-2, 5, 'source', clock).pttl, -2);
    assert.equal(relativeReading(-1, 5, 6).pttl, -1);
  });

  it('parses TIME replies', () => {
    assert.equal(serverTimeMs([Buffer.from('1700000000'), Buffer.from('123456')]), 1_700_000_000_123.456);
    assert.equal(serverTimeMs(null), null);
  });
});

describe('streams', () => {
  it('computes exclusive range starts', () => {
    assert.equal(nextStreamId('5-3'), '5-4');
    assert.equal(nextStreamId('5-18446744073709551615'), '6-0');
    assert.equal(nextStreamId('7'), '7-1');
  });

  const base: StreamView = {
    lastId: '3-0',
    entriesAdded: 3,
    maxDeletedId: '0-0',
    entries: { count: 3, hex: 'e' },
    groups: [
      {
        name: 'g',
        lastDeliveredId: '2-0',
        entriesRead: 2,
        consumers: ['alice'],
        pending: { count: 2, hex: 'p' },
      },
    ],
  };
  const show = (s: string) => s;
  const withGroup = (patch: Partial<StreamView['groups'][number]>): StreamView => ({
    ...base,
    groups: [{ ...base.groups[0]!, ...patch }],
  });

  it('compares entries, ids and groups, in that order', () => {
    assert.equal(compareStreams(base, base, show), null);
    assert.equal(
      compareStreams(base, { ...base, entries: { count: 4, hex: 'x' } }, show),
      'stream of 3 vs 4 entries',
    );
    assert.equal(
      compareStreams(base, { ...base, lastId: '9-0' }, show),
      'stream last-generated-id 3-0 vs 9-0',
    );
    assert.equal(
      compareStreams(base, withGroup({ lastDeliveredId: '1-0' }), show),
      "consumer group 'g': last-delivered-id 2-0 vs 1-0",
    );
    assert.equal(
      compareStreams(base, withGroup({ consumers: ['alice', 'bob'] }), show),
      "consumer group 'g': consumer 'bob' only on the target",
    );
    assert.equal(
      compareStreams(base, withGroup({ pending: { count: 2, hex: 'q' } }), show),
      "consumer group 'g': pending entries differ (owner or delivery count)",
    );
    assert.equal(
      compareStreams(base, { ...base, groups: [] }, show),
      "consumer group 'g' only on the source",
    );
  });

  it('compares Redis 7 counters only when both servers report them', () => {
    assert.equal(compareStreams(base, { ...base, entriesAdded: null, maxDeletedId: null }, show), null);
    assert.equal(compareStreams(base, withGroup({ entriesRead: null }), show), null);
    assert.equal(compareStreams(base, { ...base, entriesAdded: 5 }, show), 'stream entries-added 3 vs 5');
    assert.equal(
      compareStreams(base, withGroup({ entriesRead: 1 }), show),
      "consumer group 'g': entries-read 2 vs 1",
    );
  });
});

describe('compareSets with repeated members', () => {
  it('never calls a list with a repeat equal to a set without it', () => {
    assert.notEqual(compareSets(bufs('x', 'x'), bufs('x', 'y')), null);
    assert.notEqual(compareSets(bufs('x', 'y'), bufs('x', 'x')), null);
  });
});
