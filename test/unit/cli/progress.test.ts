import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { parseBytes, parseDbs } from '../../../src/cli/options/values.js';
import {
  createProgressRenderer,
  fmtDuration,
  formatBar,
  type ProgressMode,
  parseProgressMode,
  progressRendererFor,
} from '../../../src/cli/progress.js';

test('the bar shows percent, counts, bytes, rate, ETA and fits the width', () => {
  const line = formatBar(
    {
      phase: 'keys',
      done: 90_000,
      total: 200_000,
      bytes: 12_345_678,
      rate: 44_000,
      etaSeconds: 3,
      detail: 'db0',
    },
    120,
    'keys',
  );
  assert.match(
    line,
    /^\[#+\.+\] {2}45% {2}90,000\/200,000 keys {2}11\.8 MiB {2}44,000 keys\/s {2}ETA 3s {2}db0$/,
  );
  assert.ok(line.length < 120);
  const narrow = formatBar({ phase: 'keys', done: 1, total: 2, rate: 1, etaSeconds: null }, 40, 'keys');
  assert.ok(narrow.length <= 39);
  assert.match(
    formatBar({ phase: 'done', done: 5, total: 5, rate: 1, etaSeconds: 0 }, 100, 'keys'),
    /100%.*done/,
  );
});

test('durations read naturally', () => {
  assert.equal(fmtDuration(null), '?');
  assert.equal(fmtDuration(59), '59s');
  assert.equal(fmtDuration(61), '1m01s');
  assert.equal(fmtDuration(3 * 3600 + 120), '3h02m');
});

test('without a terminal, progress is JSON lines, throttled except for phase changes', () => {
  const lines: string[] = [];
  const r = createProgressRenderer({ stream: { write: (s: string) => lines.push(s) } as never, tty: false });
  const state = { phase: 'keys', done: 1, total: 10, rate: 5, etaSeconds: 2, data: { db: 0 } };
  r.update(state);
  r.update({ ...state, done: 2 });
  r.update({ ...state, phase: 'done', done: 10 });
  assert.equal(lines.length, 2);
  assert.deepEqual(JSON.parse(lines[0]!), {
    event: 'progress',
    phase: 'keys',
    done: 1,
    total: 10,
    rate: 5,
    etaSeconds: 2,
    db: 0,
  });
  assert.equal(JSON.parse(lines[1]!).phase, 'done');
});

test('on a terminal the bar is redrawn in place and finished with a newline', () => {
  let out = '';
  const r = createProgressRenderer({
    stream: { write: (s: string) => (out += s), columns: 80 } as never,
    tty: true,
  });
  r.update({ phase: 'keys', done: 1, total: 2, rate: 1, etaSeconds: 1 });
  r.update({ phase: 'keys', done: 2, total: 2, rate: 1, etaSeconds: 0 });
  r.finish();
  assert.equal(out.split('\r\x1b[2K').length, 3);
  assert.ok(out.endsWith('\n'));
});

test('copy options: sizes with units, database lists', () => {
  assert.equal(parseBytes('64MiB', '--x'), 64 * 1024 * 1024);
  assert.equal(parseBytes('500k', '--x'), 500_000);
  assert.equal(parseBytes('1048576', '--x'), 1_048_576);
  assert.throws(() => parseBytes('lots', '--x'), /--x must be a size/);
  assert.equal(parseDbs('all'), 'all');
  assert.deepEqual(parseDbs('0, 3'), [0, 3]);
  assert.throws(() => parseDbs('1,x'), /--db must be/);
});

test('--progress: auto draws a bar on a terminal and nothing elsewhere; json writes NDJSON; none nothing', () => {
  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    const stream = Object.assign(
      new Writable({
        write(c, _e, done) {
          chunks.push(String(c));
          done();
        },
      }),
      {
        isTTY,
        columns: 100,
      },
    );
    return { stream, text: () => chunks.join('') };
  };
  const state = { phase: 'keys', done: 5, total: 10, rate: 2, etaSeconds: 3 };
  const draw = (mode: ProgressMode | undefined, tty: boolean) => {
    const s = sink(tty);
    const r = progressRendererFor(mode, s.stream);
    r.update(state);
    r.finish();
    return s.text();
  };
  assert.match(draw(undefined, true), /^\r\x1b\[2K\[#+\.+\] {2}50%/);
  assert.equal(draw('auto', false), '');
  assert.equal(draw('none', true), '');
  assert.match(draw('bar', false), /50%/);
  const line = JSON.parse(draw('json', true));
  assert.equal(line.event, 'progress');
  assert.equal(line.done, 5);
  assert.equal(parseProgressMode('JSON'), 'json');
  assert.throws(() => parseProgressMode('loud'), /auto, bar, json, none/);
});
