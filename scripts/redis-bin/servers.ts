// The servers the tests can start by name: the machine's redis-server (Redis 7.0 from Debian 12)
// and Debian 13 ("trixie")'s Redis 8.0 and Valkey 8.1. Debian 13's binaries need its C library,
// so each is fetched with every library it loads (debian-fetch.ts, self-contained) into
// .cache/redis/trixie/ and runs through that tree's own loader:
//   <tree>/usr/lib64/ld-linux-x86-64.so.2 --library-path <tree>/usr/lib/x86_64-linux-gnu:<tree>/lib/x86_64-linux-gnu <tree>/usr/bin/valkey-server
// The loader maps the server into its own process, so the PID started is the server's.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AptUnreachableError,
  cachedPackages,
  type FetchedPackage,
  fetchDebianPackage,
} from './debian-fetch.js';
import { NoDebianArchiveError, suiteSources } from './debian-suite.js';
import { withDirLock } from './dir-lock.js';
import {
  canFetchHere,
  checked,
  defaultCacheDir,
  type RedisServerBinary,
  redisServerBinary,
} from './locate.js';

export const SERVER_NAMES = ['redis-7.0', 'redis-8.0', 'valkey-8.1'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

interface SuiteServer {
  suite: string;
  package: string;
  /** The program under usr/bin. */
  program: string;
}

/** The machine's redis-server is 'redis-7.0'; these come from another Debian release. */
const SUITE_SERVERS: Record<Exclude<ServerName, 'redis-7.0'>, SuiteServer> = {
  'redis-8.0': { suite: 'trixie', package: 'redis-server', program: 'redis-server' },
  'valkey-8.1': { suite: 'trixie', package: 'valkey-server', program: 'valkey-server' },
};

/** The `major.minor` a server of this name reports (`redis_version`, or `valkey_version` for Valkey). */
export function expectedVersion(name: ServerName): string {
  return name.slice(name.indexOf('-') + 1);
}

export const suiteCacheDir = join(defaultCacheDir, 'trixie');

export interface ServerLocateOptions {
  /** Trees land in `<cacheDir>/<package>_<version>/` (default .cache/redis/trixie). */
  cacheDir?: string;
  /** apt's private sources, lists and caches (default `<cacheDir>/apt`). */
  aptDir?: string;
  /** Default: Debian with apt-get and dpkg on the PATH. */
  canFetch?: boolean;
  /** Default: each line to stderr. */
  onProgress?: (line: string) => void;
}

/** The server can not be had here (no Debian archive, apt cannot reach it); tests skip, saying this. */
export class ServerUnavailableError extends Error {
  override name = 'ServerUnavailableError';
}

/** The binary to run for `name`: from the cache, else fetched (once, whatever the number of callers). */
export async function locateServer(
  name: ServerName,
  options: ServerLocateOptions = {},
): Promise<RedisServerBinary> {
  if (name === 'redis-7.0') return machineRedis70();
  const spec = SUITE_SERVERS[name];
  const cacheDir = resolve(options.cacheDir ?? suiteCacheDir);
  const onProgress = options.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(cacheDir, { recursive: true });
  return withDirLock(join(cacheDir, `.lock-${spec.package}`), 10 * 60_000, async () => {
    const cached = cachedPackages(cacheDir, spec.package).find((p) => p.selfContained);
    if (cached) {
      return checked(throughLoader(cached, spec, 'cache')).catch((err: Error) => {
        throw new Error(`${err.message}; delete ${cached.dir} to fetch it again`);
      });
    }
    if (!(options.canFetch ?? canFetchHere(process.env))) {
      throw new ServerUnavailableError(
        `${name} is not in ${cacheDir} and this machine has no apt to fetch Debian ${spec.suite}'s ${spec.package} with`,
      );
    }
    onProgress(
      `${name}: fetching Debian ${spec.suite}'s ${spec.package} and the libraries it loads into ${cacheDir} ` +
        '(no root needed, nothing is installed on the system)',
    );
    const aptDir = resolve(options.aptDir ?? join(cacheDir, 'apt'));
    let fetched: FetchedPackage;
    try {
      fetched = await fetchDebianPackage({
        package: spec.package,
        sources: suiteSources(spec.suite, aptDir),
        cacheDir,
        aptDir,
        onProgress,
        selfContained: true,
        check: async (tree) => {
          await checked(throughLoader(tree, spec, 'fetched'));
        },
      });
    } catch (err) {
      if (err instanceof AptUnreachableError || err instanceof NoDebianArchiveError) {
        throw new ServerUnavailableError(`${name} cannot be fetched: ${err.message}`);
      }
      throw new Error(
        `fetching ${name} (Debian ${spec.suite}'s ${spec.package}) failed: ${(err as Error).message}`,
      );
    }
    const binary = await checked(throughLoader(fetched, spec, 'fetched'));
    onProgress(
      `${name}: ${spec.program} ${binary.version} ready in ${fetched.dir}; later runs use this copy`,
    );
    return binary;
  });
}

/** The command that runs the tree's server with the tree's loader and libraries only. */
function throughLoader(
  tree: FetchedPackage,
  spec: SuiteServer,
  source: 'cache' | 'fetched',
): Omit<RedisServerBinary, 'version'> {
  const loader = join(tree.dir, 'usr', 'lib64', 'ld-linux-x86-64.so.2');
  if (!existsSync(loader)) {
    throw new Error(
      `${tree.dir} has no usr/lib64/ld-linux-x86-64.so.2: Debian ${spec.suite}'s servers run here only on x86-64`,
    );
  }
  const libraryPath = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'].map((d) => join(tree.dir, d));
  return {
    path: loader,
    args: ['--library-path', libraryPath.join(':'), join(tree.dir, 'usr', 'bin', spec.program)],
    env: {},
    source,
  };
}

async function machineRedis70(): Promise<RedisServerBinary> {
  const binary = await redisServerBinary();
  if (!binary.version.startsWith('7.0.')) {
    throw new ServerUnavailableError(
      `redis-7.0 is the machine's redis-server, and ${binary.path} is ${binary.version}: ` +
        'set REDIS_SERVER_BIN to a Redis 7.0 build',
    );
  }
  return binary;
}

const located = new Map<ServerName, Promise<RedisServerBinary>>();
/** locateServer() with the defaults, once per process and name. */
export function serverBinary(name: ServerName): Promise<RedisServerBinary> {
  let found = located.get(name);
  if (!found) {
    found = locateServer(name);
    located.set(name, found);
  }
  return found;
}
