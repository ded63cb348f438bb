import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type PackageRecord,
  parseDepends,
  parsePackageRecords,
  planDownloads,
} from '../../../scripts/redis-bin/debian-depends.js';

test('apt-cache show records: source from the Source field or the name, folded fields joined', () => {
  const records = parsePackageRecords(
    [
      'Package: redis-server',
      'Source: redis (5:7.0.15-1)',
      'Version: 5:7.0.15-1~deb12u10',
      'Architecture: amd64',
      'Depends: lsb-base (>= 3.2-14),',
      ' redis-tools (= 5:7.0.15-1~deb12u10)',
      'Pre-Depends: init-system-helpers (>= 1.54~)',
      'Description: Persistent key-value database',
      '',
      'Package: liblzf1',
      'Version: 3.6-3',
      '',
    ].join('\n'),
  );
  assert.deepEqual(records, [
    {
      package: 'redis-server',
      version: '5:7.0.15-1~deb12u10',
      source: 'redis',
      architecture: 'amd64',
      depends: 'lsb-base (>= 3.2-14), redis-tools (= 5:7.0.15-1~deb12u10)',
      preDepends: 'init-system-helpers (>= 1.54~)',
    },
    {
      package: 'liblzf1',
      version: '3.6-3',
      source: 'liblzf1',
      architecture: 'all',
      depends: '',
      preDepends: '',
    },
  ]);
});

test('Depends fields: alternatives, versions, architectures, profiles and :any qualifiers', () => {
  assert.deepEqual(parseDepends('a (>= 1), b:any | c [amd64] <!nocheck>,d'), [['a'], ['b', 'c'], ['d']]);
  assert.deepEqual(parseDepends(''), []);
});

const rec = (
  pkg: string,
  source: string,
  depends = '',
  preDepends = '',
  architecture = 'amd64',
): PackageRecord => ({
  package: pkg,
  version: '1',
  source,
  architecture,
  depends,
  preDepends,
});
const lists = new Map(
  [
    rec('redis-server', 'redis', 'lsb-base (>= 3.2-14), redis-tools (= 1)', 'init-system-helpers'),
    rec('redis-tools', 'redis', 'adduser, libc6 (>= 2.34), libjemalloc2, liblzf1 | liblzf-alt, libsystemd0'),
    rec('libjemalloc2', 'jemalloc', 'libc6, libgcc-s1'),
    rec('liblzf1', 'liblzf', 'libc6'),
    rec('libgcc-s1', 'gcc-12', 'libc6'),
    rec('libc6', 'glibc'),
    rec('init-system-helpers', 'init-system-helpers', 'perl-base', '', 'all'),
    rec('adduser', 'adduser', 'passwd', '', 'all'),
  ].map((r) => [r.package, r]),
);
const show = (names: string[]) => new Map(names.flatMap((n) => (lists.has(n) ? [[n, lists.get(n)!]] : [])));

test('the plan takes the package, its same-source siblings even when installed, and only what the system lacks', () => {
  // The system has redis-tools installed: it is fetched anyway, redis-server's binary links into it.
  // lsb-base is virtual here (provided by an installed package), libgcc-s1 is installed.
  const installed = new Set([
    'redis-tools',
    'lsb-base',
    'init-system-helpers',
    'adduser',
    'libc6',
    'libsystemd0',
  ]);
  installed.add('libgcc-s1');
  const plan = planDownloads('redis-server', { show, systemHas: (n) => installed.has(n) });
  assert.deepEqual(
    plan.map((r) => r.package),
    ['redis-server', 'redis-tools', 'libjemalloc2', 'liblzf1'],
  );
  // An installed alternative meets its group.
  const full = new Set([...installed, 'libjemalloc2', 'liblzf-alt']);
  assert.deepEqual(
    planDownloads('redis-server', { show, systemHas: (n) => full.has(n) }).map((r) => r.package),
    ['redis-server', 'redis-tools'],
  );
});

test('a dependency nothing can meet, or a package not in the lists, stops the plan with what is missing', () => {
  const none = () => false;
  assert.throws(
    () => planDownloads('redis-server', { show, systemHas: none }),
    /redis-server depends on lsb-base, which neither this system nor the package lists have/,
  );
  assert.throws(
    () => planDownloads('valkey-server', { show, systemHas: none }),
    /valkey-server is not in the package lists/,
  );
});

test('a self-contained plan takes every library from the lists, none from the system, and no all-architecture tools', () => {
  const more = new Map([
    ...lists,
    ['lsb-base', rec('lsb-base', 'lsb', '', '', 'all')],
    ['libsystemd0', rec('libsystemd0', 'systemd', 'libc6, libcap2')],
    ['libcap2', rec('libcap2', 'libcap2', 'libc6')],
  ]);
  const showMore = (names: string[]) =>
    new Map(names.flatMap((n) => (more.has(n) ? [[n, more.get(n)!] as const] : [])));
  // Everything counts as installed, and still every library is taken; adduser (and passwd, which
  // only it needs), init-system-helpers and lsb-base are for all architectures and left out.
  const plan = planDownloads('redis-server', { show: showMore, systemHas: () => true, selfContained: true });
  assert.deepEqual(
    plan.map((r) => r.package),
    [
      'redis-server',
      'redis-tools',
      'libc6',
      'libjemalloc2',
      'liblzf1',
      'libsystemd0',
      'libgcc-s1',
      'libcap2',
    ],
  );
  // A library in no list still stops the plan: the system's cannot stand in for it.
  more.delete('libcap2');
  assert.throws(
    () => planDownloads('redis-server', { show: showMore, systemHas: () => true, selfContained: true }),
    /libsystemd0 depends on libcap2, which neither this system nor the package lists have/,
  );
});
