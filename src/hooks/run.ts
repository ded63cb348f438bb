// Runs a configured hook by name: a command or a webhook.
import type { HooksConfig } from '../config/schema.js';
import { runCommandHook } from './command.js';
import type { HookConfig, HookInvocation, HookOutcome, HookRunOptions } from './types.js';
import { runWebhook, webhookOrigin } from './webhook.js';

export function findHook(hooks: HooksConfig | undefined, name: string): HookConfig | undefined {
  return hooks && Object.hasOwn(hooks, name) ? hooks[name] : undefined;
}

export async function runHook(
  def: HookConfig,
  invocation: HookInvocation,
  options: HookRunOptions = {},
): Promise<HookOutcome> {
  if (def.command) return runCommandHook({ ...def, command: def.command }, invocation, options);
  if (def.url) return runWebhook({ ...def, url: def.url }, invocation, options);
  throw new Error(`hook "${invocation.hook}" has neither command nor url`);
}

/** How a hook is shown to people: never the command line or the full URL (they may hold tokens). */
export function describeHook(name: string, def: HookConfig): string {
  return def.command ? `command hook "${name}"` : `webhook "${name}" (${webhookOrigin(def.url ?? '')})`;
}
