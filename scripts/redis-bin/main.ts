// Finds (and on Debian or Ubuntu fetches) the redis-server that tests, demo and bench use, and
// says which it is. `npm test` runs it first so that a fetch happens once, with its progress shown.
//
//   npx tsx scripts/redis-bin/main.ts [--skip-path] [--cache-dir DIR]
//
// Exit 0 found (the line says which), 1 not found or the fetch failed, 3 apt could not reach
// its mirrors (CI reports that as a skip, as the fetch test does).
import { parseArgs } from 'node:util';
import { AptUnreachableError } from './debian-fetch.js';
import { locateRedisServer } from './locate.js';

const { values } = parseArgs({
  options: { 'skip-path': { type: 'boolean', default: false }, 'cache-dir': { type: 'string' } },
});
try {
  const binary = await locateRedisServer({
    skipPath: values['skip-path'],
    ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
  });
  const env = Object.entries(binary.env).map(([k, v]) => `${k}=${v} `);
  console.log(`redis-server ${binary.version} (${binary.source}): ${env.join('')}${binary.path}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(err instanceof AptUnreachableError ? 3 : 1);
}
