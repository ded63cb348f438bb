// The redis-server that the tests, the demo and the bench start, found in this order:
// REDIS_SERVER_BIN if set, a redis-server on the PATH, a copy in the project's cache
// (.cache/redis/), and else, on Debian or Ubuntu, Debian's package fetched into that cache
// without root. Elsewhere it stops with one line saying how to install Redis.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AptSources,
  AptUnreachableError,
  cachedPackages,
  type FetchedPackage,
  fetchDebianPackage,
  machineAptSources,
} from './debian-fetch.js';
import { withDirLock } from './dir-lock.js';

export interface RedisServerBinary {
  /** The program to run: the server, or another release's loader that runs it (servers.ts). */
  path: string;
  /** Arguments before the server's own (the loader's `--library-path ... <server>`). */
  args?: string[];
  /** Environment to add when running it (LD_LIBRARY_PATH for a cached copy). */
  env: Record<string, string>;
  /** As `redis-server --version` (or `valkey-server --version`) says, e.g. 7.0.15. */
  version: string;
  source: 'REDIS_SERVER_BIN' | 'PATH' | 'cache' | 'fetched';
}

export const defaultCacheDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.cache', 'redis');

export interface LocateOptions {
  /** Where REDIS_SERVER_BIN, PATH and LD_LIBRARY_PATH are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Ignore a redis-server on the PATH (to exercise the cache). */
  skipPath?: boolean;
  cacheDir?: string;
  /** apt's private state (default: `<cacheDir>/apt`). */
  aptDir?: string;
  sources?: AptSources;
  /** Default: Debian or Ubuntu with apt-get and dpkg on the PATH. */
  canFetch?: boolean;
  /** Installed packages the fetch counts as absent (tests: a fresh machine's view). */
  assumeMissing?: string[];
  /** Default: each line to stderr. */
  onProgress?: (line: string) => void;
}

const packageName = 'redis-server';

export async function locateRedisServer(options: LocateOptions = {}): Promise<RedisServerBinary> {
  const env = options.env ?? process.env;
  const explicit = env['REDIS_SERVER_BIN'];
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new Error(
        `REDIS_SERVER_BIN=${explicit} is not an executable file: point it at a redis-server binary, or unset it`,
      );
    }
    return checked({ path: resolve(explicit), env: {}, source: 'REDIS_SERVER_BIN' }).catch((err: Error) => {
      throw new Error(`${err.message}; point REDIS_SERVER_BIN at a working one`);
    });
  }
  const onPath = options.skipPath ? undefined : findOnPath('redis-server', env);
  if (onPath) {
    return checked({ path: onPath, env: {}, source: 'PATH' }).catch((err: Error) => {
      throw new Error(`${err.message}; set REDIS_SERVER_BIN to a working one`);
    });
  }

  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir);
  const onProgress = options.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(cacheDir, { recursive: true });
  // Parallel test processes: one fetches, the others wait and then find it in the cache.
  return withDirLock(join(cacheDir, `.lock-${packageName}`), 10 * 60_000, async () => {
    const cached = cachedPackages(cacheDir, packageName)[0];
    if (cached) {
      try {
        return await checked(fromTree(cached, env, 'cache'));
      } catch (err) {
        throw new Error(`${(err as Error).message}; delete ${cached.dir} to fetch it again`);
      }
    }
    if (!(options.canFetch ?? canFetchHere(env))) {
      throw new Error(
        `redis-server not found (REDIS_SERVER_BIN unset, none on the PATH, none in ${cacheDir}) and this is not ` +
          'Debian or Ubuntu, where it would be fetched: install Redis (macOS: brew install redis) or set REDIS_SERVER_BIN',
      );
    }
    onProgress(
      `redis-server not found: fetching Debian's ${packageName} package into ${cacheDir} ` +
        '(no root needed, nothing is installed on the system)',
    );
    let fetched: FetchedPackage;
    try {
      fetched = await fetchDebianPackage({
        package: packageName,
        sources: options.sources ?? machineAptSources,
        cacheDir,
        aptDir: options.aptDir ?? join(cacheDir, 'apt'),
        onProgress,
        assumeMissing: options.assumeMissing,
        check: async (tree) => {
          await checked(fromTree(tree, env, 'fetched'));
        },
      });
    } catch (err) {
      const instead = 'install Redis yourself and set REDIS_SERVER_BIN (or put redis-server on the PATH)';
      if (err instanceof AptUnreachableError) throw new AptUnreachableError(`${err.message}, or ${instead}`);
      throw new Error(`fetching ${packageName} failed: ${(err as Error).message}; ${instead} instead`);
    }
    const binary = await checked(fromTree(fetched, env, 'fetched'));
    onProgress(`redis-server ${binary.version} ready in ${fetched.dir}; later runs use this copy`);
    return binary;
  });
}

let located: Promise<RedisServerBinary> | undefined;
/** locateRedisServer() with the defaults, once per process. */
export function redisServerBinary(): Promise<RedisServerBinary> {
  located ??= locateRedisServer();
  return located;
}

function fromTree(
  tree: FetchedPackage,
  env: NodeJS.ProcessEnv,
  source: 'cache' | 'fetched',
): Omit<RedisServerBinary, 'version'> {
  const libraryPath = [...tree.libraryPath, ...(env['LD_LIBRARY_PATH'] ? [env['LD_LIBRARY_PATH']] : [])];
  return {
    path: join(tree.dir, 'usr', 'bin', 'redis-server'),
    env: libraryPath.length ? { LD_LIBRARY_PATH: libraryPath.join(':') } : {},
    source,
  };
}

/** Runs `--version`: a binary that cannot start (a missing library, not Redis) fails here, not in a test. */
export async function checked(binary: Omit<RedisServerBinary, 'version'>): Promise<RedisServerBinary> {
  const runEnv = { ...process.env, ...binary.env };
  const args = [...(binary.args ?? []), '--version'];
  const result = await new Promise<{ ok: boolean; out: string }>((done) => {
    execFile(binary.path, args, { env: runEnv, timeout: 10_000 }, (err, stdout, stderr) =>
      done({ ok: !err, out: `${stdout}${stderr}`.trim() }),
    );
  });
  const version = /(?:Redis|Valkey) server v=(\S+)/.exec(result.out)?.[1];
  if (result.ok && version) return { ...binary, version };
  const missing = result.ok ? [] : await missingLibraries(binary.path, runEnv);
  throw new Error(
    `${binary.path} (from ${binary.source}) is not a working redis-server: ` +
      (missing.length ? `missing libraries ${missing.join(', ')}` : result.out.split('\n')[0] || 'no output'),
  );
}

async function missingLibraries(path: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  return new Promise((done) => {
    execFile('ldd', [path], { env, timeout: 10_000 }, (_err, stdout) =>
      done(
        stdout
          .split('\n')
          .filter((l) => l.includes('not found'))
          .map((l) => l.trim().split(' ')[0]!),
      ),
    );
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function canFetchHere(env: NodeJS.ProcessEnv): boolean {
  return (
    existsSync('/etc/debian_version') &&
    ['apt-get', 'apt-cache', 'dpkg', 'dpkg-query'].every((tool) => findOnPath(tool, env) !== undefined)
  );
}
