// A command hook: /bin/sh -c <command> in its own process group, with a timeout after which the
// whole group (the shell and anything it started) is sent SIGTERM, then SIGKILL.
import { spawn } from 'node:child_process';
import { errorMessage } from '../util/errors.js';
import { hookEnvironment } from './env.js';
import { BoundedOutput, DEFAULT_MAX_OUTPUT_BYTES } from './output.js';
import type { HookConfig, HookInvocation, HookOutcome, HookRunOptions } from './types.js';

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
const DEFAULT_KILL_GRACE_MS = 2000;
/** After the shell exits, how long its pipes may stay open (a background child holding them). */
const CLOSE_GRACE_MS = 500;

export async function runCommandHook(
  def: HookConfig & { command: string },
  invocation: HookInvocation,
  options: HookRunOptions = {},
): Promise<HookOutcome> {
  const timeoutMs = def.timeout ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const stdout = new BoundedOutput(limit);
  const stderr = new BoundedOutput(limit);
  const started = performance.now();
  const outcome = (fields: Partial<HookOutcome> & Pick<HookOutcome, 'ok'>): HookOutcome => ({
    hook: invocation.hook,
    kind: 'command',
    durationMs: Math.round(performance.now() - started),
    stdout: stdout.text(),
    stderr: stderr.text(),
    truncated: stdout.truncated || stderr.truncated,
    timedOut: false,
    ...fields,
  });
  if (options.signal?.aborted) return outcome({ ok: false, error: 'stopped before it started' });

  let child: ReturnType<typeof spawn>;
  try {
    child = spawn('/bin/sh', ['-c', def.command], {
      env: hookEnvironment(invocation, def),
      // Its own process group, so a timeout can kill everything it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    return outcome({ ok: false, error: `could not start: ${errorMessage(err)}` });
  }
  const pid = child.pid;
  child.stdout!.on('data', (c: Buffer) => stdout.push(c));
  child.stderr!.on('data', (c: Buffer) => stderr.push(c));
  // Listen now: the pipes usually close before 'exit' is seen, and a listener added afterwards
  // would never fire, leaving every hook to wait out the whole grace period.
  const pipesClosed = Promise.all([closed(child.stdout!), closed(child.stderr!)]);

  let stoppedBy: 'timeout' | 'abort' | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const killGroup = (signal: NodeJS.Signals) => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  const stop = (why: 'timeout' | 'abort') => {
    if (stoppedBy) return;
    stoppedBy = why;
    killGroup('SIGTERM');
    killTimer = setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
  };
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  const onAbort = () => stop('abort');
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    },
  );
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  // Read what is left in the pipes, but do not wait for a background child that keeps them open.
  let graceTimer: NodeJS.Timeout | undefined;
  await Promise.race([pipesClosed, new Promise((r) => (graceTimer = setTimeout(r, CLOSE_GRACE_MS)))]);
  clearTimeout(graceTimer);
  child.stdout!.destroy();
  child.stderr!.destroy();
  if (stoppedBy) {
    // The shell is gone; make sure nothing it started survives the grace period.
    killGroup('SIGKILL');
    if (killTimer) clearTimeout(killTimer);
  }

  const seconds = (timeoutMs / 1000).toFixed(timeoutMs % 1000 ? 1 : 0);
  if (stoppedBy === 'timeout') {
    return outcome({
      ok: false,
      timedOut: true,
      exitCode: exit.code,
      signal: exit.signal,
      error: `timed out after ${seconds} s; its process group was killed`,
    });
  }
  if (stoppedBy === 'abort') {
    return outcome({
      ok: false,
      exitCode: exit.code,
      signal: exit.signal,
      error: 'stopped by an abort; its process group was killed',
    });
  }
  if (exit.error) return outcome({ ok: false, error: `could not run: ${errorMessage(exit.error)}` });
  if (exit.code === 0) return outcome({ ok: true, exitCode: 0, signal: null });
  return outcome({
    ok: false,
    exitCode: exit.code,
    signal: exit.signal,
    error: exit.code === null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`,
  });
}

function closed(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    stream.once('close', () => resolve());
    stream.once('end', () => resolve());
  });
}
