// `migration-buddy verify` as a user runs it: exit codes 0 (identical) / 1 (different) / 2 (error),
// human output and --json.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jsonReport, runCli } from '../harness/cli.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

let source: RedisServer;
let target: RedisServer;

before(async () => {
  [source, target] = await Promise.all([startRedis({ password: 'src-secret-pw' }), startRedis()]);
});

after(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

const cli = (...args: string[]) => runCli(['verify', ...args]);

describe('migration-buddy verify', () => {
  it('exits 0 when identical, 1 when different, with a readable summary', async () => {
    const src = await source.client();
    const tgt = await target.client();
    await src.mset({ a: '1', b: '2' });
    await src.sadd('s', 'x', 'y', 'z');
    await tgt.mset({ a: '1', b: '2' });
    await tgt.sadd('s', 'z', 'y', 'x');

    const same = await cli(source.url, target.url);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /^IDENTICAL: /);
    assert.match(same.stdout, /3 keys checked/);
    assert.doesNotMatch(same.stdout + same.stderr, /src-secret-pw/);

    await tgt.set('b', 'changed');
    await tgt.set('extra', 'x');
    const diff = await cli(source.url, target.url, '--recheck-delay', '10');
    assert.equal(diff.code, 1, diff.stderr);
    assert.match(diff.stdout, /^DIFFERENT: 2 keys differ/);
    assert.match(diff.stdout, /\n {2}value +1\n/);
    assert.match(diff.stdout, /db0 b: string of 1 vs 7 bytes/);
    assert.match(diff.stdout, /db0 extra: only on the target/);
    assert.doesNotMatch(diff.stdout + diff.stderr, /src-secret-pw/);
    await tgt.flushall();
    await src.flushall();
  });

  it('prints the report as JSON with --json and honours --db, --match, --sample, --ttl-tolerance', async () => {
    const src = await source.client(2);
    const tgt = await target.client(2);
    await src.set('app:1', 'v', 'PX', 600_000);
    await tgt.set('app:1', 'v', 'PX', 599_500);
    await (await source.client(4)).mset(
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`only-src:${i}`, 'v'])),
    );
    await src.set('other', 'v');

    const strict = await cli(
      source.url,
      target.url,
      '--json',
      '--db',
      '2',
      '--match',
      'app:*',
      '--ttl-tolerance',
      '10',
      '--recheck-rounds',
      '0',
    );
    assert.equal(strict.code, 1, strict.stderr);
    const r = jsonReport(strict.stdout) as {
      differences: Record<string, { count: number }>;
      dbs: { db: number }[];
      keysChecked: number;
    };
    assert.equal(r.differences.ttl!.count, 1);
    assert.equal(r.keysChecked, 1);
    assert.deepEqual(
      r.dbs.map((d) => d.db),
      [2],
    );

    const loose = await cli(
      source.url,
      target.url,
      '--json',
      '--db',
      '2',
      '--match',
      'app:*',
      '--ttl-tolerance',
      '5000',
    );
    assert.equal(loose.code, 0, loose.stderr);
    assert.equal(jsonReport(loose.stdout).identical, true);

    const sampled = await cli(
      source.url,
      target.url,
      '--json',
      '--db',
      '4',
      '--sample',
      '5',
      '--recheck-delay',
      '10',
    );
    assert.equal(sampled.code, 1);
    const s = jsonReport(sampled.stdout) as {
      sampled: boolean;
      differences: Record<string, { count: number }>;
    };
    assert.equal(s.sampled, true);
    assert.ok(s.differences.missing!.count >= 1);

    const digest = await cli(
      source.url,
      target.url,
      '--json',
      '--db',
      '2',
      '--match',
      'app:*',
      '--compare-by',
      'digest',
    );
    assert.equal(digest.code, 0, digest.stderr);
    assert.equal(jsonReport(digest.stdout).comparedBy, 'digest');
    await src.flushall();
    await tgt.flushall();
  });

  it('exits 2 when a server cannot be reached or the options are wrong', async () => {
    const down = await cli(source.url, 'redis://127.0.0.1:1');
    assert.equal(down.code, 2);
    assert.match(down.stderr, /cannot reach redis:\/\/127\.0\.0\.1:1.*connection refused/);

    const wrongPassword = await cli(source.url.replace('src-secret-pw', 'nope-wrong'), target.url, '--json');
    assert.equal(wrongPassword.code, 2);
    const error = JSON.parse(wrongPassword.stdout.trim().split('\n').pop()!) as {
      error: string;
      exitCode: number;
    };
    assert.equal(error.exitCode, 2);
    assert.match(error.error, /authentication failed/);
    assert.doesNotMatch(wrongPassword.stdout + wrongPassword.stderr, /nope-wrong/);

    const badSample = await cli(source.url, target.url, '--sample', 'lots');
    assert.equal(badSample.code, 2);
    assert.match(badSample.stderr, /--sample must be a whole number/);

    const badDb = await cli(source.url, target.url, '--db', 'zero');
    assert.equal(badDb.code, 2);
  });
});
