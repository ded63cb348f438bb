// The file an app reads its Redis endpoint from. Rewritten whole (temp file + rename), so a reader
// never sees half a URL; the repoint hook (repoint-hook.sh) does the same.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export function writeEndpointFile(path: string, url: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${url}\n`);
  renameSync(tmp, path);
}

export function readEndpointFile(path: string): string {
  const url = readFileSync(path, 'utf8').trim();
  if (!/^rediss?:\/\//.test(url)) throw new Error(`endpoint file ${path} holds no redis:// URL`);
  return url;
}
