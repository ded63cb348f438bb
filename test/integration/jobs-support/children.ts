// Spawning worker processes (tsx) for crash tests, and stopping them by PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./worker-child.ts', import.meta.url));

export interface WorkerChild {
  pid: number;
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  ready: Promise<void>;
  exited: Promise<number | null>;
  /** SIGKILL if still running. */
  kill(): void;
}

const running = new Set<WorkerChild>();
process.once('exit', () => {
  for (const w of running) w.kill();
});

/** `script`: another worker entry point (default: the crash tests' worker-child.ts). */
export function spawnWorker(env: Record<string, string>, script = SCRIPT): WorkerChild {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('worker did not start');
  const stdout: string[] = [];
  const stderr: string[] = [];
  let exitedFlag = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitedFlag = true;
      running.delete(w);
      resolve(code);
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      for (const line of b.toString().split('\n').filter(Boolean)) {
        stdout.push(line);
        if (line === 'ready') resolve();
      }
    });
    child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
    void exited.then(() => reject(new Error(`worker exited before ready: ${stderr.join('')}`)));
  });
  ready.catch(() => undefined);
  const w: WorkerChild = {
    pid: child.pid,
    child,
    stdout,
    stderr,
    ready,
    exited,
    kill() {
      if (!exitedFlag) process.kill(child.pid!, 'SIGKILL');
    },
  };
  running.add(w);
  return w;
}
