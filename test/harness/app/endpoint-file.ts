// The file an app reads its Redis endpoint from: a redis:// URL, preceded by `cluster ` when it
// names a node of a Redis Cluster (the app then routes each key by its slot). Rewritten whole (temp
// file + rename), so a reader never sees half a line; the repoint hook (repoint-hook.sh) does the same.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export type EndpointKind = 'standalone' | 'cluster';

export interface AppEndpoint {
  url: string;
  kind: EndpointKind;
}

export function writeEndpointFile(path: string, url: string, kind: EndpointKind = 'standalone'): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${kind === 'cluster' ? 'cluster ' : ''}${url}\n`);
  renameSync(tmp, path);
}

/** The endpoint and its kind. */
export function readEndpoint(path: string): AppEndpoint {
  const line = readFileSync(path, 'utf8').trim();
  const m = /^(?:(cluster)\s+)?(rediss?:\/\/\S+)$/.exec(line);
  if (!m) throw new Error(`endpoint file ${path} holds no redis:// URL`);
  return { url: m[2]!, kind: m[1] ? 'cluster' : 'standalone' };
}

/** The URL alone (whatever its kind). */
export function readEndpointFile(path: string): string {
  return readEndpoint(path).url;
}
