// apt sources for another Debian release ("trixie") from the same archive as this machine's own:
// the archive's address is read from the machine's apt sources each run and the sources list is
// written into apt's private directory under the cache, never into the project. The machine's apt
// configuration and state stay untouched (debian-fetch.ts keeps private lists and caches).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AptSources, machineAptSources } from './debian-fetch.js';

/** One `deb` entry of an apt sources file, one-line or deb822 form. */
export interface AptEntry {
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
}

/** deb822 (`.sources`) stanzas into their `deb` entries. */
export function parseDeb822(text: string): AptEntry[] {
  const entries: AptEntry[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('#')) continue;
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      fields.set(last, line.slice(colon + 1).trim());
    }
    const words = (name: string) => (fields.get(name) ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb') || fields.get('enabled')?.toLowerCase() === 'no') continue;
    const signedBy = fields.get('signed-by');
    entries.push({
      uris: words('uris'),
      suites: words('suites'),
      components: words('components'),
      // An inline key block (several lines) cannot be reused as a path: let apt use its default keys.
      ...(signedBy && !signedBy.includes(' ') ? { signedBy } : {}),
    });
  }
  return entries;
}

/** One-line (`.list`) entries: `deb [signed-by=/k.gpg arch=amd64] http://host/debian bookworm main`. */
export function parseOneLine(text: string): AptEntry[] {
  const entries: AptEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const signedBy = /(?:^|\s)signed-by=(\S+)/.exec(m[1] ?? '')?.[1];
    entries.push({
      uris: [m[2]!],
      suites: [m[3]!],
      components: m[4]!.split(/\s+/).filter(Boolean),
      ...(signedBy ? { signedBy } : {}),
    });
  }
  return entries;
}

/**
 * The Debian archive among the entries: the one serving this release's own suite (not -security
 * or -updates) with main. Its address serves every Debian release.
 */
export function debianArchive(entries: AptEntry[], codename: string): AptEntry | undefined {
  return entries.find(
    (e) => e.uris.length > 0 && e.suites.includes(codename) && e.components.includes('main'),
  );
}

/** deb822 text for `suite` main from the archive's first address. */
export function suiteSourcesText(archive: AptEntry, suite: string): string {
  return [
    'Types: deb',
    `URIs: ${archive.uris[0]}`,
    `Suites: ${suite}`,
    'Components: main',
    ...(archive.signedBy ? [`Signed-By: ${archive.signedBy}`] : []),
    '',
  ].join('\n');
}

/** The machine's own apt entries, from sources.list and sources.list.d. */
function machineEntries(machine: AptSources): AptEntry[] {
  const entries: AptEntry[] = [];
  if (existsSync(machine.list)) entries.push(...parseOneLine(readFileSync(machine.list, 'utf8')));
  if (existsSync(machine.parts)) {
    for (const name of readdirSync(machine.parts).sort()) {
      const path = join(machine.parts, name);
      if (name.endsWith('.list')) entries.push(...parseOneLine(readFileSync(path, 'utf8')));
      else if (name.endsWith('.sources')) entries.push(...parseDeb822(readFileSync(path, 'utf8')));
    }
  }
  return entries;
}

function osRelease(): Map<string, string> {
  const fields = new Map<string, string>();
  const path = existsSync('/etc/os-release') ? '/etc/os-release' : '/usr/lib/os-release';
  if (!existsSync(path)) return fields;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!, m[2]!.replace(/^"|"$/g, ''));
  }
  return fields;
}

/** This machine cannot give sources for that release (not Debian, no Debian archive in its sources). */
export class NoDebianArchiveError extends Error {
  override name = 'NoDebianArchiveError';
}

/**
 * Writes apt sources for `suite` under `aptDir/sources-<suite>/` (an empty sources.list and one
 * .sources file) and returns them for debian-fetch.ts. Throws NoDebianArchiveError on a machine
 * whose apt sources name no Debian archive.
 */
export function suiteSources(
  suite: string,
  aptDir: string,
  machine: AptSources = machineAptSources,
): AptSources {
  const release = osRelease();
  const codename = release.get('VERSION_CODENAME') ?? '';
  if (release.get('ID') !== 'debian' || !codename) {
    throw new NoDebianArchiveError(
      `Debian's ${suite} packages come from a Debian archive, and this machine is ` +
        `${release.get('PRETTY_NAME') ?? 'not Debian'}: run the tests that need them on Debian`,
    );
  }
  const archive = debianArchive(machineEntries(machine), codename);
  if (!archive) {
    throw new NoDebianArchiveError(
      `no apt source of ${machine.list} or ${machine.parts} serves ${codename} main, so there is no Debian ` +
        `archive to take ${suite} from: add Debian's archive to the apt sources`,
    );
  }
  const dir = join(aptDir, `sources-${suite}`);
  const parts = join(dir, 'parts');
  mkdirSync(parts, { recursive: true });
  writeAtomically(join(dir, 'sources.list'), '');
  writeAtomically(join(parts, `${suite}.sources`), suiteSourcesText(archive, suite));
  return { list: join(dir, 'sources.list'), parts };
}

/** Parallel test processes write the same file: each writes its own and renames it into place. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
