// A whole migration on this machine, without Slack, while an application writes throughout:
// starts three scratch redis-servers (source, target, control), writes sample data to the source,
// starts the test app (test/harness/app: 500 writes/s, each one waiting for its reply, every
// acknowledged write logged), then runs the real CLI `migrate --approve-as --confirm-as` through
// every gate of the chosen strategy with a repoint hook that moves the app to the target. At the
// end it checks, with its own reads of the target, that every write the app was acknowledged is
// there, and prints the acknowledged writes, the lost ones (0) and the write pause as the app saw
// it (its longest wait for one write). Stops the servers at the end.
//
//   npm run demo [-- --strategy replication|dump-restore] [--keys 20000] [--rate 500]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkAcknowledged,
  repointHookCommand,
  startApp,
  writeEndpointFile,
} from '../test/harness/app/index.js';
import { scriptedMigrateArgs, writeMigrateConfig } from '../test/harness/migrate-run.js';
import { startRedis } from '../test/harness/redis-server.js';

const STRATEGIES = ['replication', 'dump-restore'];
const { values } = parseArgs({
  options: {
    strategy: { type: 'string', default: 'replication' },
    keys: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '500' },
  },
});
const strategy = values.strategy;
if (!STRATEGIES.includes(strategy)) {
  console.error(`--strategy must be one of ${STRATEGIES.join(', ')} (got ${strategy})`);
  process.exit(2);
}
const keys = Number(values.keys);
const rate = Number(values.rate);
const source = await startRedis({ password: 'demo-source-password' });
const target = await startRedis();
const control = await startRedis();
const dir = mkdtempSync(join(tmpdir(), 'mb-demo-'));
let code = 1;
try {
  const c = await source.client();
  for (let i = 0; i < keys; i += 1000) {
    const p = c.pipeline();
    for (let j = i; j < Math.min(i + 1000, keys); j++) {
      if (j % 4 === 0) p.hset(`user:${j}`, 'name', `user ${j}`, 'visits', String(j));
      else if (j % 4 === 1) p.set(`session:${j}`, `token-${j}`, 'PX', 3_600_000);
      else if (j % 4 === 2) p.rpush(`queue:${j}`, 'a', 'b', 'c');
      else p.zadd('leaderboard', j, `player-${j}`);
    }
    await p.exec();
  }
  console.log(`source ${source.url.replace(/:[^:@]*@/, ':***@')} holds ${await c.dbsize()} keys`);
  c.disconnect(); // only the app stays connected: the drain check waits for it to move

  // The app reads its server from this file; the repoint hook rewrites it to the target's URL.
  const endpointFile = join(dir, 'endpoint');
  writeEndpointFile(endpointFile, source.url);
  const config = join(dir, 'migration-buddy.yml');
  writeMigrateConfig(config, {
    source,
    target,
    control,
    hooks: { repoint: { command: repointHookCommand(endpointFile), at: 'repoint' } },
  });
  const app = await startApp({ endpointFile, rate, dir });
  console.log(`the test app writes ${rate} writes/s to the source; migrating with ${strategy}\n`);

  const cli = process.argv[1]?.endsWith('.ts')
    ? ['--import', 'tsx', 'src/cli/main.ts']
    : ['dist/cli/main.js'];
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [...cli, ...scriptedMigrateArgs(config, strategy)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (status) => resolve(status ?? 1));
  });
  const report = await app.stop();
  const check = await checkAcknowledged(report, target.url);
  const t = await target.client();
  console.log(`\nmigrate (${strategy}) exited with ${code}; the target holds ${await t.dbsize()} keys`);
  console.log(`acknowledged writes: ${report.acknowledged} (${report.errors} retried after an error)`);
  console.log(
    `lost writes:         ${check.missing.length} (every acknowledged write checked on the target)`,
  );
  console.log(`write pause:         ${report.maxWaitMs} ms (the app's longest wait for one write)`);
  for (const m of check.missing.slice(0, 5)) console.log(`  missing ${m.key}: ${m.detail}`);
  if (check.missing.length > 0) code = 1;
} finally {
  await Promise.all([source.stop(), target.stop(), control.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
