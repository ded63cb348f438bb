// Finds (and on Debian or Ubuntu fetches) the redis-server that tests, demo and bench use, and
// says which it is. `npm test` runs it first so that a fetch happens once, with its progress shown.
// `--servers` also prepares the other named servers the compatibility tests start (servers.ts).
//
//   npx tsx scripts/redis-bin/main.ts [--skip-path] [--cache-dir DIR] [--servers]
//
// Exit 0 found (the line says which), 1 not found or the fetch failed, 3 apt could not reach
// its mirrors (CI reports that as a skip, as the fetch test does) or, with --servers, a named
// server cannot be had on this machine.
import { parseArgs } from 'node:util';
import { AptUnreachableError } from './debian-fetch.js';
import { locateRedisServer, type RedisServerBinary } from './locate.js';
import { locateServer, SERVER_NAMES, ServerUnavailableError } from './servers.js';

const { values } = parseArgs({
  options: {
    'skip-path': { type: 'boolean', default: false },
    'cache-dir': { type: 'string' },
    servers: { type: 'boolean', default: false },
  },
});
const describe = (binary: RedisServerBinary) => {
  const env = Object.entries(binary.env).map(([k, v]) => `${k}=${v} `);
  return `${binary.version} (${binary.source}): ${env.join('')}${[binary.path, ...(binary.args ?? [])].join(' ')}`;
};
try {
  const binary = await locateRedisServer({
    skipPath: values['skip-path'],
    ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
  });
  console.log(`redis-server ${describe(binary)}`);
  if (values.servers) {
    for (const name of SERVER_NAMES) console.log(`${name}: ${describe(await locateServer(name))}`);
  }
} catch (err) {
  console.error((err as Error).message);
  process.exit(err instanceof AptUnreachableError || err instanceof ServerUnavailableError ? 3 : 1);
}
