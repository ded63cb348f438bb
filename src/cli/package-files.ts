// Files shipped beside the code: src/cli and dist/cli both sit two levels below the package root.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);

/** The version in package.json (`--version`). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string }).version;
}

/** The commented example config (`configure`). */
export function exampleConfigPath(): string {
  return fileURLToPath(new URL('examples/migration-buddy.example.yml', root));
}
