// A long-running CLI command (serve, worker) in a child process: its combined output so far, a
// wait for a line matching a pattern, and its exit. Stopped by its own PID (SIGTERM, then SIGKILL).
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const MAIN = resolve('src/cli/main.ts');
/** tsx by absolute URL, so the child may run in a folder without node_modules. */
const TSX = import.meta.resolve('tsx');

export interface CliChild {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Resolves with the first match of `re` in the output; rejects after `ms` or when the child exits without it. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Runs `migration-buddy <args>` with exactly `env` (plus PATH) in `cwd`. */
export function spawnCli(args: string[], env: Record<string, string>, cwd: string): CliChild {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    child,
    output: () => text,
    exited,
    waitFor(re, ms = 30_000) {
      return new Promise((resolvePromise, reject) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} within ${ms} ms in:\n${text}`));
        }, ms);
        const check = () => {
          const m = re.exec(text);
          if (m) {
            done();
            resolvePromise(m);
          }
        };
        waiters.add(check);
        check();
        void exited.then(() => {
          if (!re.exec(text)) {
            done();
            reject(new Error(`exited without ${re}:\n${text}`));
          }
        });
      });
    },
    async stop(graceMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
