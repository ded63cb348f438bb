// The target of the standalone copy engine's writes (batch.ts, by-type.ts, big-key.ts take a
// CommandRunner) when the target is a cluster: a pipeline of commands is cut into units (one
// command, or a MULTI ... EXEC span, which must stay together on one node) and each unit goes to
// the node owning its key's slot (router.ts: pipelined per node, MOVED and ASK followed). The
// engine's transactions are about one key each, or one key and its temporary key, which carries
// a hash tag of the same slot (big-key.ts tempKeyFor), so a unit never spans two slots.
import type { CommandRunner } from '../resp/connection.js';
import type { RespArg, RespReply } from '../resp/reply.js';
import type { KeyRouter, RoutedUnit } from './router.js';

/** Commands whose key is their third argument (a subcommand comes first). */
const KEY_AFTER_SUBCOMMAND = new Set(['XGROUP', 'XINFO', 'MEMORY', 'OBJECT']);
/** Commands that are not about a key: they travel with the unit around them. */
const KEYLESS = new Set(['MULTI', 'EXEC', 'DISCARD', 'ASKING']);

/** The key a command is about (its routing key), or null for MULTI, EXEC and the like. */
export function commandKey(command: readonly RespArg[]): Buffer | null {
  const name = String(command[0]).toUpperCase();
  if (KEYLESS.has(name)) return null;
  const key = KEY_AFTER_SUBCOMMAND.has(name) ? command[2] : command[1];
  if (key === undefined) return null;
  return Buffer.isBuffer(key) ? key : Buffer.from(String(key));
}

/** Cuts a pipeline into routed units (MULTI ... EXEC kept whole, routed by its first key). */
export function toUnits(commands: readonly (readonly RespArg[])[]): RoutedUnit[] {
  const units: RoutedUnit[] = [];
  let open: { key: Buffer | null; commands: (readonly RespArg[])[] } | null = null;
  for (const command of commands) {
    const name = String(command[0]).toUpperCase();
    if (open) {
      open.commands.push(command);
      open.key ??= commandKey(command);
      if (name === 'EXEC' || name === 'DISCARD') {
        units.push({ key: open.key ?? Buffer.alloc(0), commands: open.commands });
        open = null;
      }
      continue;
    }
    if (name === 'MULTI') {
      open = { key: null, commands: [command] };
      continue;
    }
    units.push({ key: commandKey(command) ?? Buffer.alloc(0), commands: [command] });
  }
  if (open) throw new Error('MULTI without EXEC in a routed pipeline');
  return units;
}

export class RoutedRunner implements CommandRunner {
  constructor(readonly router: KeyRouter) {}

  async exec(commands: readonly (readonly RespArg[])[], maxBulkBytes?: number): Promise<RespReply[]> {
    if (commands.length === 0) return [];
    const replies = await this.router.execUnits(toUnits(commands), maxBulkBytes);
    return replies.flat();
  }
}
