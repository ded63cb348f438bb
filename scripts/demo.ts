// A whole migration on this machine, without Slack: starts three scratch redis-servers (source,
// target, control), writes sample data to the source, then runs the real CLI
// `migrate --approve-as` through every gate (copy, live sync, verify, write pause, repoint,
// resume, final check) and prints its audit trail. Stops the servers at the end.
//
//   npm run demo [-- --keys 20000]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startRedis } from '../test/harness/redis-server.js';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '20000' } } });
const keys = Number(values.keys);
const source = await startRedis({ password: 'demo-source-password' });
const target = await startRedis();
const control = await startRedis();
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
  console.log(`source ${source.url.replace(/:[^:@]*@/, ':***@')} holds ${await c.dbsize()} keys\n`);
  c.disconnect(); // an app still connected would hold up the drain check
  const cli = process.argv[1]?.endsWith('.ts')
    ? ['--import', 'tsx', 'src/cli/main.ts']
    : ['dist/cli/main.js'];
  code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [...cli, 'migrate', source.url, target.url, '--as', 'U0REQUESTER', '--approve-as', 'U0BUDDY'],
      { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CONTROL_REDIS_URL: control.url } },
    );
    child.on('exit', (status) => resolve(status ?? 1));
  });
  const t = await target.client();
  console.log(`\ntarget now holds ${await t.dbsize()} keys; migrate exited with ${code}`);
} finally {
  await Promise.all([source.stop(), target.stop(), control.stop()]);
}
process.exit(code);
