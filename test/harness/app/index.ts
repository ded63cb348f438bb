// The application harness: a test app writing through a migration (writer.ts, its own process),
// the hook that repoints it (repoint-hook.sh) and an independent check of what it was promised.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppReport } from './log.js';
import type { WriterConfig } from './writer.js';

export { type AckCheck, checkAcknowledged, readAckLog } from './check.js';
export { type EndpointKind, readEndpoint, readEndpointFile, writeEndpointFile } from './endpoint-file.js';

import type { EndpointKind } from './endpoint-file.js';

export type { AckLine, AppReport } from './log.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPOINT_HOOK_SCRIPT = join(here, 'repoint-hook.sh');
const READY_TIMEOUT_MS = 15_000;

/**
 * The command of a repoint hook that points the app at $MB_TARGET_URL: `hooks: { repoint: { command,
 * at: repoint } }`; `kind` says whether the target is a cluster (the app routes by slot there).
 */
export function repointHookCommand(endpointFile: string, kind: EndpointKind = 'standalone'): string {
  return `/bin/sh ${quote(REPOINT_HOOK_SCRIPT)} ${quote(endpointFile)}${kind === 'cluster' ? ' cluster' : ''}`;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface AppOptions {
  /** File holding the app's redis:// URL (writeEndpointFile); re-read after every error. */
  endpointFile: string;
  /** Writes per second (default 2,000). */
  rate?: number;
  /** Every app key starts with it (default `app:`). */
  prefix?: string;
  /** Where the log goes (default: a new temp dir). */
  dir?: string;
}

export interface AppHandle {
  /** Stops writing (a write in flight is waited for, up to 10 s) and reports. */
  stop(): Promise<AppReport>;
  pid: number;
}

type Message = { type: 'ready' } | { type: 'report'; report: AppReport };

export async function startApp(options: AppOptions): Promise<AppHandle> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'mb-app-'));
  const config: WriterConfig = {
    endpointFile: options.endpointFile,
    rate: options.rate ?? 2000,
    prefix: options.prefix ?? 'app:',
    logFile: join(dir, `app-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.jsonl`),
  };
  const child: ChildProcess = fork(join(here, 'writer.ts'), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let report: AppReport | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve) => {
    child.on('message', (m: Message) => {
      if (m.type === 'ready') resolve();
      if (m.type === 'report') report = m.report;
    });
  });

  const stop = async (): Promise<AppReport> => {
    if (child.connected) child.send({ type: 'stop' });
    const code = await exited;
    if (!report)
      throw new Error(
        `the test app (pid ${child.pid}) exited with ${code} without a report: ${stderr.trim()}`,
      );
    return report;
  };

  const started = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), READY_TIMEOUT_MS).unref()),
  ]);
  if (started !== 'ready') {
    if (started === 'exited') throw new Error(`the test app exited at start: ${stderr.trim()}`);
    const r = await stop().catch((err: Error) => err);
    const why = r instanceof Error ? r.message : r.lastErrors.join('; ');
    throw new Error(
      `the test app got no write acknowledged within ${READY_TIMEOUT_MS / 1000} s (${options.endpointFile}): ${why}`,
    );
  }
  return { stop, pid: child.pid! };
}
