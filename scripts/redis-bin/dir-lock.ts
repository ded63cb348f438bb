// A lock between processes on this machine: a directory made with mkdir (atomic) holding the
// owner's PID. Test files run in parallel processes; only one of them should fetch a package.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function ownerAlive(lockDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
  } catch {
    return true; // just made, PID not written yet
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `work` while holding the lock; waits for another holder, takes over from a dead one. */
export async function withDirLock<T>(lockDir: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let staleChecks = 0;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // A lock without a PID file for a few rounds was left by a process killed between the two steps.
    if (!ownerAlive(lockDir) || (staleChecks++ > 20 && !hasPid(lockDir))) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${lockDir} is held by another process for over ${Math.round(timeoutMs / 1000)} s; ` +
          'if none is fetching, delete that directory and run again',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function hasPid(lockDir: string): boolean {
  try {
    readFileSync(join(lockDir, 'pid'));
    return true;
  } catch {
    return false;
  }
}
