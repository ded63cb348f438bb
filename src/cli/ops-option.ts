// --ops-port (or OPS_PORT) for `serve` and `worker`: the ops listener (/metrics, /healthz, /readyz,
// /queues) is off unless one is given. OPS_DASHBOARD_TOKEN (or OPS_DASHBOARD_TOKEN_FILE) turns the
// queue dashboard on.
import type { Command } from 'commander';
import { readSecretFile } from '../config/secret-files.js';
import { type Ops, startOps } from '../ops/ops.js';
import { errorMessage, UserError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { registerSecret } from '../util/secrets.js';

export interface OpsCliOptions {
  opsPort?: string;
}

export interface OpsSettings {
  port: number;
  dashboardToken?: string;
}

export function addOpsOption(cmd: Command): Command {
  return cmd.option(
    '--ops-port <port>',
    'serve /metrics, /healthz, /readyz (and /queues with OPS_DASHBOARD_TOKEN) on this port (default: OPS_PORT; off when neither is set; 0 picks a free port)',
  );
}

/** The ops listener's settings, or undefined when it is off; every problem at once. */
export function readOpsSettings(opts: OpsCliOptions, env: NodeJS.ProcessEnv): OpsSettings | undefined {
  const problems: string[] = [];
  const raw = opts.opsPort ?? (env.OPS_PORT?.trim() || undefined);
  let token = env.OPS_DASHBOARD_TOKEN?.trim() || undefined;
  const tokenFile = env.OPS_DASHBOARD_TOKEN_FILE?.trim() || undefined;
  if (token && tokenFile) problems.push('set OPS_DASHBOARD_TOKEN or OPS_DASHBOARD_TOKEN_FILE, not both.');
  else if (tokenFile) {
    try {
      token = readSecretFile(tokenFile);
    } catch (err) {
      problems.push(`OPS_DASHBOARD_TOKEN_FILE: ${errorMessage(err)}`);
    }
  }
  registerSecret(token);
  if (token !== undefined && token.length < 16) {
    problems.push('OPS_DASHBOARD_TOKEN must be at least 16 characters (it guards the queue dashboard).');
  }
  let port: number | undefined;
  if (raw !== undefined) {
    port = Number(raw);
    if (!/^\d+$/.test(raw) || port > 65_535) {
      problems.push(
        `${opts.opsPort !== undefined ? '--ops-port' : 'OPS_PORT'} must be a port number (0-65535).`,
      );
    }
  } else if (token) {
    problems.push('OPS_DASHBOARD_TOKEN is set but the ops listener is off: set OPS_PORT or --ops-port.');
  }
  if (problems.length > 0) throw new UserError(problems.join('\n'));
  if (port === undefined) return undefined;
  return { port, ...(token ? { dashboardToken: token } : {}) };
}

/** Starts the listener; a port in use is a UserError that says which. */
export async function startOpsListener(settings: OpsSettings, logger: Logger): Promise<Ops> {
  try {
    return await startOps({ ...settings, logger });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'EADDRINUSE'
        ? `the ops port ${settings.port} is in use: pick another with OPS_PORT or --ops-port`
        : `the ops listener could not start on port ${settings.port}: ${errorMessage(err)}`,
    );
  }
}
