// Runs the real CLI (src/cli/main.ts through tsx) in a child process, as a user would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `migration-buddy <args>` with logs silenced; resolves when it exits. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The report line of --json output (progress lines come before it). */
export function jsonReport(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  const report = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'report');
  assert.ok(report, `no report line in: ${stdout}`);
  return report;
}
