import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';

const MAIN = resolve('src/cli/main.ts');
const cli = (args: string[], cwd = process.cwd()) =>
  spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: process.env,
  });

describe('CLI basics', () => {
  test('--version prints the package version', () => {
    const r = cli(['--version']);
    assert.equal(r.status, 0, r.stderr);
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.equal(r.stdout.trim(), version);
  });

  test('configure prints a commented example config that loads once its variables are set', () => {
    const r = cli(['configure']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^# migration-buddy configuration/);
    const config = parseConfig(r.stdout, 'example.yml', {
      OLD_CACHE_PASSWORD: 'x',
      NEW_CACHE_PASSWORD: 'y',
    });
    assert.ok(config.resolvedEndpoints.size >= 2);
  });

  test('configure --output writes the file (owner-only) and never over an existing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-configure-'));
    try {
      const out = join(dir, 'migration-buddy.yml');
      const first = cli(['configure', '--output', out]);
      assert.equal(first.status, 0, first.stderr);
      assert.ok(existsSync(out));
      assert.equal(statSync(out).mode & 0o777, 0o600);
      writeFileSync(out, 'mine\n');
      const again = cli(['configure', '--output', out]);
      assert.equal(again.status, 2, 'a usage error');
      assert.match(again.stderr, /exists; remove it or choose another --output/);
      assert.equal(readFileSync(out, 'utf8'), 'mine\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
