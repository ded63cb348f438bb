// Fetches one Debian package, with what it needs that the system lacks, into a cache directory
// without root and without touching the system: `apt-get update` into private lists, `apt-get
// download`, `dpkg -x`. The package name and the apt sources are inputs, so other servers (or
// other Debian releases' sources) land in the same cache, one directory per package and version.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { type PackageRecord, parseDepends, parsePackageRecords, planDownloads } from './debian-depends.js';
import { withDirLock } from './dir-lock.js';

/** Where apt reads its sources from (`Dir::Etc::SourceList` and `Dir::Etc::SourceParts`). */
export interface AptSources {
  list: string;
  parts: string;
}

/** This machine's own apt sources. */
export const machineAptSources: AptSources = {
  list: '/etc/apt/sources.list',
  parts: '/etc/apt/sources.list.d',
};

export interface FetchedPackage {
  package: string;
  version: string;
  /** The extracted tree: `<dir>/usr/bin/...`. */
  dir: string;
  /** Directories of the tree that hold shared libraries, for LD_LIBRARY_PATH. */
  libraryPath: string[];
  /** Every package extracted into the tree, as name=version. */
  contents: string[];
  /** Every library came from the lists (FetchOptions.selfContained): run it through the tree's own loader. */
  selfContained: boolean;
}

/** Written last into a tree: a directory without it is not a finished fetch. */
interface Marker {
  package: string;
  version: string;
  contents: string[];
  libraryPath: string[];
  selfContained?: boolean;
  sources: AptSources;
  fetchedAt: string;
}
const markerFile = 'fetched.json';

/** apt could not reach its mirrors (the caller may skip rather than fail). */
export class AptUnreachableError extends Error {
  override name = 'AptUnreachableError';
}

export interface FetchOptions {
  package: string;
  sources: AptSources;
  /** Trees land in `<cacheDir>/<package>_<version>/`. */
  cacheDir: string;
  /** apt's private lists and caches; one subdirectory per set of sources. */
  aptDir: string;
  onProgress(line: string): void;
  /** Installed packages to count as absent, as on a machine without them (tests of the library path). */
  assumeMissing?: string[];
  /**
   * Take every library from the lists, C library and loader included, none from the system: for
   * another Debian release's packages, whose binaries need its C library (debian-depends.ts).
   */
  selfContained?: boolean;
  /** Runs on the finished tree before it is moved into place; throws to reject it. */
  check?(fetched: FetchedPackage): Promise<void>;
}

/** Finished trees of a package in the cache, newest fetch first. */
export function cachedPackages(cacheDir: string, name: string): FetchedPackage[] {
  if (!existsSync(cacheDir)) return [];
  const found: { fetchedAt: string; pkg: FetchedPackage }[] = [];
  for (const entry of readdirSync(cacheDir)) {
    if (!entry.startsWith(`${name}_`)) continue;
    const dir = join(cacheDir, entry);
    let marker: Marker;
    try {
      marker = JSON.parse(readFileSync(join(dir, markerFile), 'utf8')) as Marker;
    } catch {
      continue;
    }
    if (marker.package !== name) continue;
    found.push({ fetchedAt: marker.fetchedAt, pkg: fromMarker(dir, marker) });
  }
  return found.sort((a, b) => b.fetchedAt.localeCompare(a.fetchedAt)).map((f) => f.pkg);
}

function fromMarker(dir: string, marker: Marker): FetchedPackage {
  return {
    package: marker.package,
    version: marker.version,
    dir,
    libraryPath: marker.libraryPath.map((p) => join(dir, p)),
    contents: marker.contents,
    selfContained: marker.selfContained ?? false,
  };
}

/** Debian's file-name spelling of a version (the epoch's colon as %3a). */
export function treeName(name: string, version: string): string {
  return `${name}_${version.replaceAll(':', '%3a')}`;
}

export async function fetchDebianPackage(options: FetchOptions): Promise<FetchedPackage> {
  const sourcesId = createHash('sha256')
    .update(`${options.sources.list}\n${options.sources.parts}`)
    .digest('hex')
    .slice(0, 12);
  const stateDir = join(options.aptDir, sourcesId);
  mkdirSync(options.cacheDir, { recursive: true });
  mkdirSync(join(stateDir, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(stateDir, 'cache', 'archives', 'partial'), { recursive: true });
  // Two fetches must not use the same private lists at once: apt's own locks are off.
  return withDirLock(join(options.aptDir, `.lock-${sourcesId}`), 10 * 60_000, () =>
    fetchLocked(options, stateDir),
  );
}

async function fetchLocked(options: FetchOptions, stateDir: string): Promise<FetchedPackage> {
  const { cacheDir, onProgress } = options;
  const apt = aptOptions(stateDir, options.sources);
  onProgress(`apt-get update (private package lists in ${stateDir})`);
  failOnAptErrors('apt-get update', await run('apt-get', [...apt, 'update'], cacheDir, onProgress));
  const installed = options.selfContained ? new Set<string>() : systemPackages();
  for (const name of options.assumeMissing ?? []) installed.delete(name);
  const records = planDownloads(options.package, {
    show: (names) => (names.length ? aptShow(apt, names) : new Map()),
    systemHas: (name) => installed.has(name),
    selfContained: options.selfContained ?? false,
  });
  const root = records[0]!;

  removeAbandonedFetches(cacheDir, options.package);
  const tmp = mkdtempSync(join(cacheDir, `.fetch-${options.package}-`));
  try {
    const debs = join(tmp, '.debs');
    mkdirSync(debs);
    const wanted = records.map((r) => `${r.package}=${r.version}`);
    onProgress(`apt-get download ${wanted.join(' ')}`);
    failOnAptErrors(
      'apt-get download',
      await run('apt-get', [...apt, 'download', ...wanted], debs, onProgress),
    );
    for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
      const result = await run('dpkg', ['-x', join(debs, deb), tmp], tmp, onProgress);
      if (result.code !== 0) throw new Error(`dpkg -x ${deb} failed: ${result.lines.slice(-3).join('; ')}`);
    }
    rmSync(debs, { recursive: true, force: true });
    const marker: Marker = {
      package: root.package,
      version: root.version,
      contents: wanted,
      libraryPath: libraryDirs(tmp).map((d) => relative(tmp, d)),
      selfContained: options.selfContained ?? false,
      sources: options.sources,
      fetchedAt: new Date().toISOString(),
    };
    await options.check?.(fromMarker(tmp, marker));
    writeFileSync(join(tmp, markerFile), `${JSON.stringify(marker, null, 2)}\n`);
    const final = join(cacheDir, treeName(root.package, root.version));
    try {
      renameSync(tmp, final);
    } catch (err) {
      // Another process finished the same tree first: keep theirs.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
      rmSync(tmp, { recursive: true, force: true });
    }
    onProgress(`extracted ${wanted.join(', ')} into ${final}`);
    return fromMarker(final, JSON.parse(readFileSync(join(final, markerFile), 'utf8')) as Marker);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** A fetch stopped midway (Ctrl-C, a killed test) leaves its scratch tree; an hour on, nobody is using it. */
function removeAbandonedFetches(cacheDir: string, name: string): void {
  for (const entry of readdirSync(cacheDir)) {
    if (!entry.startsWith(`.fetch-${name}-`)) continue;
    const path = join(cacheDir, entry);
    if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
  }
}

function aptOptions(stateDir: string, sources: AptSources): string[] {
  const settings = [
    `Dir::State::Lists=${join(stateDir, 'lists')}`,
    `Dir::Cache=${join(stateDir, 'cache')}`,
    // Docker images switch apt's binary cache off; without it each apt call re-reads the lists
    // (0.6 s of CPU apiece). The source cache would only double the disk used.
    'Dir::Cache::pkgcache=pkgcache.bin',
    'Dir::Cache::srcpkgcache=',
    'Debug::NoLocking=1',
    `Dir::Etc::SourceList=${sources.list}`,
    `Dir::Etc::SourceParts=${sources.parts}`,
    // As root apt downloads as the _apt user, who may not reach a private cache under a home.
    ...(process.getuid?.() === 0 ? ['APT::Sandbox::User=root'] : []),
  ];
  return settings.flatMap((s) => ['-o', s]);
}

/** One apt-cache call for many names; names it does not know (or purely virtual ones) are left out. */
function aptShow(apt: string[], names: string[]): Map<string, PackageRecord> {
  let out: string;
  try {
    out = execFileSync('apt-cache', [...apt, 'show', '--no-all-versions', ...names], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch (err) {
    // Exit 100 when it knows none of them; what it printed is still the answer.
    out = String((err as { stdout?: unknown }).stdout ?? '');
  }
  return new Map(parsePackageRecords(out).map((r) => [r.package, r]));
}

/** Names the system's installed packages are or provide. */
function systemPackages(): Set<string> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} syntax
  const format = ['${db:Status-Abbrev}', '${Package}', '${Provides}'].join('\t');
  const out = execFileSync('dpkg-query', ['-W', `-f=${format}\n`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    const [status, name, provides] = line.split('\t');
    if (status?.[1] !== 'i' || !name) continue;
    names.add(name);
    for (const group of parseDepends(provides ?? '')) for (const p of group) names.add(p);
  }
  return names;
}

function libraryDirs(root: string): string[] {
  const dirs = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.so(\.\d+)*$/.test(entry.name)) dirs.add(dir);
    }
  };
  walk(root);
  return [...dirs].sort();
}

interface RunResult {
  code: number;
  lines: string[];
}

/** Runs a command, passing each output line to onLine as it comes (apt's Get: lines are the progress). */
function run(cmd: string, args: string[], cwd: string, onLine: (line: string) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    const lines: string[] = [];
    let open = 2;
    let code: number | undefined;
    const finish = () => {
      if (open === 0 && code !== undefined) resolve({ code, lines });
    };
    for (const stream of [child.stdout, child.stderr]) {
      const rl = createInterface({ input: stream });
      rl.on('line', (line) => {
        if (!line.trim()) return;
        lines.push(line);
        onLine(`  ${line}`);
      });
      rl.on('close', () => {
        open--;
        finish();
      });
    }
    child.on('error', (err) => reject(new Error(`${cmd} could not run: ${err.message}`)));
    child.on('close', (status) => {
      code = status ?? 1;
      finish();
    });
  });
}

const unreachable =
  /Temporary failure resolving|Could not resolve|Could not connect|Connection timed out|Network is unreachable|No route to host|Connection refused|Unable to connect/i;

/** apt reports failed fetches with Err:/E: lines and, for update, may still exit 0. */
function failOnAptErrors(what: string, result: RunResult): void {
  const errors = result.lines.filter((l) => /^(Err:|E:|W: Failed to fetch)/.test(l));
  if (result.code === 0 && errors.length === 0) return;
  const detail = (errors.length ? errors : result.lines.slice(-3)).slice(0, 3).join('; ');
  if (result.lines.some((l) => unreachable.test(l))) {
    throw new AptUnreachableError(
      `${what} could not reach the package mirrors (${detail}); check the network`,
    );
  }
  throw new Error(`${what} failed (exit ${result.code}): ${detail}`);
}
