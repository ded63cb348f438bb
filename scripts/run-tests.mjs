#!/usr/bin/env node
// Runs every *.test.ts below the given folders (default: test/) with Node's own test runner and tsx.
// Node 20's runner has no glob support for .ts files, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) collect(join(path, entry), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = (roots.length ? roots : ['test']).flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Find the redis-server the tests start (on a fresh Debian or Ubuntu machine: fetch it into
// .cache/redis, its progress on the terminal) once, before parallel test files each look for it.
if (files.some((f) => !/(^|\/)test\/unit\//.test(f))) {
  const locate = join(dirname(fileURLToPath(import.meta.url)), 'redis-bin', 'main.ts');
  const found = spawnSync(process.execPath, ['--import', 'tsx', locate], { stdio: 'inherit' });
  if (found.status !== 0) process.exit(found.status ?? 1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=180000',
    ...passThrough,
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
