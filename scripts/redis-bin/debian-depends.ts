// Which Debian packages to download so that one package runs from an extracted tree: the package,
// its siblings built from the same source (redis-server's binary is a symlink into redis-tools,
// so those must land in the same tree even when the system has them), and every dependency the
// system lacks. A self-contained tree (another release's packages, run through that release's own
// loader) takes every library from the lists instead, none from the system. Pure: the package
// lists and the system's installed set come in as functions.

/** The fields of one `apt-cache show` record that the plan needs. */
export interface PackageRecord {
  package: string;
  version: string;
  /** Source package name (the binary's own name when the record has no Source field). */
  source: string;
  /** `all` for packages of scripts and data; a CPU architecture (`amd64`) for binaries. */
  architecture: string;
  depends: string;
  preDepends: string;
}

/** `apt-cache show` output (one or more records) into records. */
export function parsePackageRecords(text: string): PackageRecord[] {
  const records: PackageRecord[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = '';
    for (const line of block.split('\n')) {
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon);
      fields.set(last, line.slice(colon + 1).trim());
    }
    const name = fields.get('Package');
    const version = fields.get('Version');
    if (!name || !version) continue;
    records.push({
      package: name,
      version,
      // "Source: redis (7.0.15-1)" names the source and, when it differs, its version.
      source: (fields.get('Source') ?? name).split(' ')[0]!,
      architecture: fields.get('Architecture') ?? 'all',
      depends: fields.get('Depends') ?? '',
      preDepends: fields.get('Pre-Depends') ?? '',
    });
  }
  return records;
}

/**
 * A Depends field into groups of alternatives, names only:
 * `a (>= 1), b:any | c [amd64] <!nocheck>` -> [['a'], ['b', 'c']].
 * Version constraints are not checked here; the caller runs the result, which catches a too-old library.
 */
export function parseDepends(field: string): string[][] {
  if (!field.trim()) return [];
  return field.split(',').map((group) =>
    group
      .split('|')
      .map((alt) =>
        alt
          .replace(/\([^)]*\)|\[[^\]]*\]|<[^>]*>/g, '')
          .trim()
          .replace(/:\S+$/, ''),
      )
      .filter(Boolean),
  );
}

export interface DownloadPlanInputs {
  /** The candidate records, in the package lists, of those of these names that have one. */
  show(names: string[]): Map<string, PackageRecord>;
  /** True when an installed package is, or provides, this name. */
  systemHas(name: string): boolean;
  /**
   * Every library comes from the lists (the system's are another release's): systemHas is not
   * asked, and packages for all architectures (adduser, init-system-helpers: maintainer-script
   * tools) are left out with what they depend on, since a binary loads no library from them.
   */
  selfContained?: boolean;
}

/** The records to download for `root`, root first. Throws when a dependency can be met by nothing. */
export function planDownloads(root: string, inputs: DownloadPlanInputs): PackageRecord[] {
  const rootRecord = inputs.show([root]).get(root);
  if (!rootRecord) {
    throw new Error(`package ${root} is not in the package lists; check the apt sources`);
  }
  const chosen = new Map<string, PackageRecord>([[root, rootRecord]]);
  const queue = [rootRecord];
  for (let record = queue.shift(); record; record = queue.shift()) {
    const groups = [...parseDepends(record.preDepends), ...parseDepends(record.depends)];
    const known = inputs.show(groups.flat());
    for (const group of groups) {
      if (group.some((name) => chosen.has(name))) continue;
      const candidates = group
        .flatMap((name) => known.get(name) ?? [])
        .filter((r) => !inputs.selfContained || r.architecture !== 'all');
      const sibling = candidates.find((r) => r.source === rootRecord.source);
      if (inputs.selfContained) {
        // Only packages for all architectures meet it: nothing to load from them.
        if (candidates.length === 0 && group.some((name) => known.has(name))) continue;
      } else if (!sibling && group.some((name) => inputs.systemHas(name))) continue;
      const pick = sibling ?? candidates[0];
      if (!pick) {
        throw new Error(
          `${record.package} depends on ${group.join(' | ')}, which neither this system nor the package lists have`,
        );
      }
      chosen.set(pick.package, pick);
      queue.push(pick);
    }
  }
  return [...chosen.values()];
}
