import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hashDigest,
  listDigest,
  murmur3,
  OrderedDigest,
  parseScore,
  scoreBytes,
  setDigest,
  UnorderedDigest,
  zsetDigest,
} from '../../../../src/engine/verify/digest.js';

const b = (s: string) => Buffer.from(s);
const bufs = (...s: string[]) => s.map(b);

describe('murmur3', () => {
  it('matches the reference implementation (MurmurHash3_x86_32)', () => {
    const h = (s: string, seed: number) => murmur3(b(s), Buffer.byteLength(s), seed);
    assert.equal(h('', 0), 0);
    assert.equal(h('', 1), 0x514e28b7);
    assert.equal(h('test', 0), 0xba6bd213);
    assert.equal(h('Hello, world!', 1234), 0xfaf6cdb3);
    assert.equal(h('The quick brown fox jumps over the lazy dog', 0), 0x2e4ff723);
  });

  it('hashes only the first len bytes', () => {
    assert.equal(murmur3(b('testXYZ'), 4, 0), 0xba6bd213);
  });
});

describe('UnorderedDigest (sets, hashes)', () => {
  it('does not depend on the order elements are added in', () => {
    const members = Array.from({ length: 200 }, (_, i) => b(`member-${i}`));
    const shuffled = [...members].reverse();
    shuffled.push(shuffled.shift()!);
    assert.equal(setDigest(members).hex, setDigest(shuffled).hex);
    assert.equal(setDigest(members).count, 200);
  });

  it('changes when one member changes, is added or is removed', () => {
    const base = setDigest(bufs('a', 'b', 'c')).hex;
    assert.notEqual(setDigest(bufs('a', 'b', 'd')).hex, base);
    assert.notEqual(setDigest(bufs('a', 'b', 'c', 'd')).hex, base);
    assert.notEqual(setDigest(bufs('a', 'b')).hex, base);
  });

  it('keeps a duplicate visible: counted, and not cancelled as XOR would', () => {
    const once = setDigest(bufs('a', 'b'));
    const twice = setDigest(bufs('a', 'b', 'b'));
    assert.equal(twice.count, 3);
    assert.notEqual(twice.hex, once.hex);
    // XOR would make {a, b, b, c, c} look like {a}.
    assert.notEqual(setDigest(bufs('a', 'b', 'b', 'c', 'c')).hex, setDigest(bufs('a')).hex);
  });

  it('is binary safe', () => {
    assert.notEqual(setDigest([Buffer.from([0])]).hex, setDigest([Buffer.alloc(0)]).hex);
    assert.notEqual(setDigest([Buffer.from([0xff, 0])]).hex, setDigest([Buffer.from([0xff])]).hex);
  });

  it('pairs hash fields with their values, whatever the pair order', () => {
    assert.equal(hashDigest(bufs('f1', 'v1', 'f2', 'v2')).hex, hashDigest(bufs('f2', 'v2', 'f1', 'v1')).hex);
    // Same bytes, different pairing.
    assert.notEqual(
      hashDigest(bufs('f1', 'v2', 'f2', 'v1')).hex,
      hashDigest(bufs('f1', 'v1', 'f2', 'v2')).hex,
    );
    // Framing: field "ab" + value "c" is not field "a" + value "bc".
    assert.notEqual(hashDigest(bufs('ab', 'c')).hex, hashDigest(bufs('a', 'bc')).hex);
    assert.equal(hashDigest(bufs('f1', 'v1', 'f2', 'v2')).count, 2);
  });

  it('carries sums across all 128 bits', () => {
    const d = new UnorderedDigest();
    for (let i = 0; i < 10_000; i++) d.add(b(String(i)));
    assert.match(d.hex, /^[0-9a-f]{32}$/);
    assert.equal(d.count, 10_000);
  });
});

describe('OrderedDigest (lists, zsets, streams)', () => {
  it('depends on order and on element boundaries', () => {
    assert.equal(listDigest(bufs('a', 'b')).hex, listDigest(bufs('a', 'b')).hex);
    assert.notEqual(listDigest(bufs('a', 'b')).hex, listDigest(bufs('b', 'a')).hex);
    assert.notEqual(listDigest(bufs('ab')).hex, listDigest(bufs('a', 'b')).hex);
    assert.notEqual(listDigest(bufs('a', 'a')).hex, listDigest(bufs('a')).hex);
  });

  it('gives the same result fed whole or in chunks', () => {
    const items = Array.from({ length: 100 }, (_, i) => b(`item-${i}`));
    const chunked = new OrderedDigest();
    for (let at = 0; at < items.length; at += 7)
      for (const item of items.slice(at, at + 7)) chunked.add(item);
    assert.equal(chunked.hex, listDigest(items).hex);
  });

  it('cannot be added to once read', () => {
    const d = listDigest(bufs('a'));
    void d.hex;
    assert.throws(() => d.add(b('b')), /finished/);
  });
});

describe('zset scores', () => {
  it('parses scores as Redis prints them, in any version', () => {
    assert.equal(parseScore(b('0.10000000000000001')), 0.1); // 7.0 and older: %.17g
    assert.equal(parseScore(b('0.1')), 0.1); // 7.2+: shortest round-trip form
    assert.equal(parseScore(b('inf')), Infinity);
    assert.equal(parseScore(b('-inf')), -Infinity);
    assert.equal(parseScore(b('1e+300')), 1e300);
    assert.ok(Object.is(parseScore(b('-0')), -0));
    assert.throws(() => parseScore(b('nan-ish')), /not a score/);
  });

  it('digests the exact double, so both print forms agree and close values do not', () => {
    const old = zsetDigest(bufs('m', '0.10000000000000001', 'n', '2'));
    const modern = zsetDigest(bufs('m', '0.1', 'n', '2'));
    assert.equal(old.hex, modern.hex);
    assert.notEqual(zsetDigest(bufs('m', '0.10000000000000002', 'n', '2')).hex, modern.hex);
    assert.notEqual(zsetDigest(bufs('m', '-0', 'n', '2')).hex, zsetDigest(bufs('m', '0', 'n', '2')).hex);
    assert.equal(old.count, 2);
  });

  it('encodes scores as 8 big-endian bytes', () => {
    assert.deepEqual([...scoreBytes(1)], [0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
  });
});
