// `migration-buddy probe` as a user runs it: a spawned CLI process against a real server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PROBED_COMMANDS, type ProbeResult } from '../../src/probe/types.js';
import { freePort, type RedisServer, startRedis } from '../harness/redis-server.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/cli/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('migration-buddy probe (CLI)', () => {
  const password = 'cli-Probe-s3cret';
  let server: RedisServer;
  before(async () => {
    server = await startRedis({ password });
    const c = await server.client(0);
    await c.set('greeting', 'hello');
    await c.hset('big', Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}`, 'v'.repeat(40)])));
  });
  after(() => server?.stop());

  it('--json prints one parseable ProbeResult and exits 0', async () => {
    const { code, stdout, stderr } = await cli(['probe', server.url, '--json', '--big-keys']);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout) as ProbeResult;
    assert.equal(result.totalKeys, 2);
    assert.deepEqual(Object.keys(result.commands).sort(), [...PROBED_COMMANDS].sort());
    assert.equal(result.bigKeys?.keys[0]?.key, 'big');
    assert.ok(!stdout.includes(password));
    assert.ok(result.endpoint.redactedUrl.includes('***'));
  });

  it('prints a readable report without --json', async () => {
    const { code, stdout } = await cli(['probe', server.url]);
    assert.equal(code, 0);
    for (const part of ['Server', 'Databases (16 configured)', 'Commands', '✓  REPLICAOF'])
      assert.ok(stdout.includes(part), part);
    assert.ok(!stdout.includes(password));
  });

  it('exits 2 for an unreachable port, without showing the password', async () => {
    const port = await freePort();
    const url = `redis://:${password}@127.0.0.1:${port}`;
    const human = await cli(['probe', url]);
    assert.equal(human.code, 2);
    assert.match(human.stderr, /cannot reach .*connection refused/);
    assert.ok(!`${human.stdout}${human.stderr}`.includes(password));

    const json = await cli(['probe', url, '--json']);
    assert.equal(json.code, 2);
    const error = JSON.parse(json.stdout) as { error: string; exitCode: number };
    assert.equal(error.exitCode, 2);
    // The free port may be taken by another test's server between the two runs: a reset then.
    assert.match(error.error, /connection refused|ECONNRESET/);
    assert.ok(!`${json.stdout}${json.stderr}`.includes(password));
  });

  it('exits 2 on a wrong password, naming authentication', async () => {
    const { code, stdout, stderr } = await cli(['probe', server.url.replace(password, 'not-the-Password')]);
    assert.equal(code, 2);
    assert.match(stderr, /authentication failed/);
    assert.ok(!`${stdout}${stderr}`.includes('not-the-Password'));
  });

  it('has help with an example', async () => {
    const { code, stdout } = await cli(['probe', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /Examples:\n\s+\$ migration-buddy probe /);
    assert.match(stdout, /--big-keys/);
  });
});
