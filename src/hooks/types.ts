// What running a hook needs to know and what it tells afterwards.
import type { HookConfig, HookPoint } from '../config/schema.js';
import type { Endpoint } from '../redis/endpoint.js';

export type { HookConfig, HookPoint };

/** The migration and step a hook runs for: becomes MB_* variables or the webhook's JSON body. */
export interface HookInvocation {
  hook: string;
  /** Where in the runbook it runs ('repoint' for the repoint step). */
  point: HookPoint | string;
  migrationId: string;
  step: { id: string; kind: string; title: string };
  strategy: string | null;
  /** With credentials: only a command hook sees them (MB_*_URL), never a webhook. */
  source: Endpoint;
  target: Endpoint;
}

export interface HookRunOptions {
  /** Stops the hook (a command's process group is killed). */
  signal?: AbortSignal;
  /** Bytes of each output stream (or response body) kept; default 16 KiB. */
  maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL of a command's process group (default 2 s). */
  killGraceMs?: number;
}

export interface HookOutcome {
  hook: string;
  kind: 'command' | 'webhook';
  ok: boolean;
  durationMs: number;
  /** Command: exit code (null when killed by a signal). */
  exitCode?: number | null;
  /** Command: the signal that ended it, if any. */
  signal?: string | null;
  /** Webhook: HTTP status (0 when no response). */
  status?: number;
  /** Captured, bounded and scrubbed of secrets. For a webhook: the response body. */
  stdout: string;
  stderr: string;
  /** Some output was left out (only the start and the end are kept). */
  truncated: boolean;
  timedOut: boolean;
  /** Why it failed, in one sentence (ok = false). */
  error?: string;
}

export function hookKind(def: HookConfig): 'command' | 'webhook' {
  return def.command ? 'command' : 'webhook';
}
