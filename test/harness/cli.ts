// Runs the real CLI (src/cli/main.ts through tsx) in a child process, as a user would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size of the CLI process (VmHWM, sampled every 20 ms), bytes; 0 if unknown. */
  peakRssBytes: number;
}

/** Peak RSS (VmHWM in /proc/<pid>/status) of a live process, bytes; 0 once it is gone. */
export function peakRss(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** `migration-buddy <args>` with logs silenced; resolves when it exits. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    });
    let peak = 0;
    const sampler = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, peakRss(child.pid));
    }, 20);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (err) => {
      clearInterval(sampler);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(sampler);
      resolve({ code, stdout, stderr, peakRssBytes: peak });
    });
  });
}

/** The report of --json output: stdout must be exactly one JSON document (progress goes to stderr). */
export function jsonReport(stdout: string): Record<string, unknown> {
  let report: unknown;
  assert.doesNotThrow(
    () => {
      report = JSON.parse(stdout);
    },
    `stdout is not one JSON document: ${stdout.slice(0, 2000)}`,
  );
  assert.ok(report && typeof report === 'object' && !Array.isArray(report), `not an object: ${stdout}`);
  return report as Record<string, unknown>;
}
