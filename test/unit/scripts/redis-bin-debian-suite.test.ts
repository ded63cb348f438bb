// Sources for another Debian release are built from the archive the machine's own sources name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  debianArchive,
  parseDeb822,
  parseOneLine,
  suiteSourcesText,
} from '../../../scripts/redis-bin/debian-suite.js';

const deb822 = [
  'Types: deb',
  '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
  'URIs: http://mirror.example/debian',
  'Suites: bookworm bookworm-updates',
  'Components: main',
  'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
  '',
  'Types: deb',
  'URIs: http://mirror.example/debian-security',
  'Suites: bookworm-security',
  'Components: main',
  '',
  'Types: deb-src',
  'URIs: http://src.example/debian',
  'Suites: bookworm',
  'Components: main',
  '',
].join('\n');

test('deb822 and one-line sources: deb entries only, with their addresses, suites, components and key', () => {
  const entries = parseDeb822(deb822);
  assert.equal(entries.length, 2);
  assert.deepEqual(entries[0], {
    uris: ['http://mirror.example/debian'],
    suites: ['bookworm', 'bookworm-updates'],
    components: ['main'],
    signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
  });
  assert.deepEqual(
    parseOneLine(
      '# comment\ndeb-src http://x/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://y/debian bookworm main contrib\n',
    ),
    [
      {
        uris: ['http://y/debian'],
        suites: ['bookworm'],
        components: ['main', 'contrib'],
        signedBy: '/k.gpg',
      },
    ],
  );
});

test("the archive is the entry serving the machine's own suite with main; the new suite's sources reuse its address and key", () => {
  const entries = [...parseDeb822(deb822).reverse()];
  const archive = debianArchive(entries, 'bookworm');
  assert.equal(archive?.uris[0], 'http://mirror.example/debian');
  assert.equal(debianArchive(entries, 'jammy'), undefined);
  assert.equal(
    suiteSourcesText(archive!, 'trixie'),
    'Types: deb\nURIs: http://mirror.example/debian\nSuites: trixie\nComponents: main\n' +
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
  );
});
