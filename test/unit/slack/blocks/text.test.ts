import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sectionsFromLines } from '../../../../src/slack/blocks/message.js';
import { escapeMrkdwn, fitItems, fitLines, truncate } from '../../../../src/slack/blocks/text.js';
import { seededRng } from '../../../fake-slack/fuzz.js';

test('truncate leaves short text alone and says how much it cut', () => {
  assert.equal(truncate('short', 10), 'short');
  const long = 'x'.repeat(5000);
  const cut = truncate(long, 3000);
  assert.ok(cut.length <= 3000);
  const m = /… \((\d+) more characters\)$/.exec(cut);
  assert.ok(m, cut.slice(-40));
  assert.equal(cut.length - m[0].length + Number(m[1]), 5000, 'kept + omitted = original');
});

test('truncate never exceeds max, for any length and max', () => {
  const rng = seededRng(7);
  for (let i = 0; i < 2000; i += 1) {
    const len = Math.floor(rng() * 400);
    const max = Math.floor(rng() * 120);
    const text = 'ab😀<@U1>&amp; '.repeat(40).slice(0, len);
    assert.ok(truncate(text, max).length <= Math.max(max, 0), `len ${len} max ${max}`);
  }
});

test('truncate does not split surrogate pairs, mentions or entities', () => {
  const emoji = `${'a'.repeat(30)}${'😀'.repeat(40)}`;
  const cut = truncate(emoji, 50);
  assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(cut), 'no lone high surrogate');
  const mention = `${'a'.repeat(20)} <@U0123456789|someone> ${'b'.repeat(100)}`;
  const m = truncate(mention, 50);
  assert.ok(!m.includes('<@') || m.includes('>'), m);
  const amp = `${'a'.repeat(22)}&amp;${'b'.repeat(100)}`;
  const a = truncate(amp, 48);
  assert.ok(!/&[a-z]*…/.test(a), a);
});

test('escapeMrkdwn stops mentions and links from people-supplied text', () => {
  assert.equal(escapeMrkdwn('<!channel> & <http://x|y>'), '&lt;!channel&gt; &amp; &lt;http://x|y&gt;');
});

test('fitLines keeps whole lines and counts the rest', () => {
  const lines = Array.from({ length: 500 }, (_, i) => `• line number ${i}`);
  const text = fitLines(lines, 300, 'more items');
  assert.ok(text.length <= 300);
  const m = /… and (\d+) more items$/.exec(text);
  assert.ok(m);
  const shown = text.split('\n').length - 1;
  assert.equal(shown + Number(m[1]), 500);
  assert.equal(fitLines(['a', 'b'], 300), 'a\nb');
  // One huge line is cut rather than dropped.
  const single = fitLines(['y'.repeat(10_000)], 3000);
  assert.ok(single.length <= 3000 && single.startsWith('yyy'));
});

test('fitItems replaces the overflow by a summary item', () => {
  assert.deepEqual(
    fitItems([1, 2, 3, 4, 5], 3, (n) => -n),
    [1, 2, -3],
  );
  assert.deepEqual(
    fitItems([1, 2], 3, (n) => -n),
    [1, 2],
  );
});

test('sectionsFromLines packs lines into at most N sections of at most 3000 characters', () => {
  const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'z'.repeat(i % 50)}`);
  const blocks = sectionsFromLines(lines, 3, 'more lines');
  assert.equal(blocks.length, 3);
  for (const b of blocks) {
    assert.equal(b.type, 'section');
    const text = (b as { text: { text: string } }).text.text;
    assert.ok(text.length <= 3000);
  }
  const last = (blocks[2] as { text: { text: string } }).text.text;
  const m = /… and (\d+) more lines$/.exec(last);
  assert.ok(m);
  const shown =
    blocks
      .map((b) => (b as { text: { text: string } }).text.text.split('\n').length)
      .reduce((a, n) => a + n, 0) - 1;
  assert.equal(shown + Number(m[1]), 2000);
});
