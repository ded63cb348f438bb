// Target settings a replication link needs, and how they are remembered and restored.
//
// Originals are recorded (in the step checkpoint) *before* anything is changed, and a re-run uses
// the recorded ones, so a crash after the change can never make the changed values pass for the
// originals. Secrets are never recorded: the only secret setting, masterauth, is changed only from
// empty (restored to empty), and a target whose masterauth already holds some other password is
// refused, as restoring it would mean storing that password.
import type { Redis } from 'ioredis';
import type { Endpoint } from '../../redis/endpoint.js';
import { errorMessage } from '../../util/errors.js';

/** Setting name -> value it had before the migration changed it. Never holds a secret. */
export type Originals = Record<string, string>;

export const SECRET_SETTINGS: ReadonlySet<string> = new Set(['masterauth']);

/** What the link to this source needs on the target. Holds the source password: never show it. */
export function neededSettings(source: Endpoint): Record<string, string> {
  return {
    masteruser: source.username && source.username !== 'default' ? source.username : '',
    masterauth: source.password ?? '',
    'tls-replication': source.tls ? 'yes' : 'no',
    'replica-read-only': 'yes',
  };
}

export class SettingsError extends Error {}

export async function configGet(client: Redis, name: string): Promise<string> {
  let reply: unknown;
  try {
    reply = await client.call('CONFIG', 'GET', name);
  } catch (err) {
    throw new SettingsError(`CONFIG GET ${name} failed on the target: ${errorMessage(err)}`);
  }
  if (!Array.isArray(reply) || reply.length < 2) {
    throw new SettingsError(`the target does not know the setting ${name} (CONFIG GET returned nothing)`);
  }
  return String(reply[1]);
}

export async function configSet(client: Redis, name: string, value: string): Promise<void> {
  try {
    await client.call('CONFIG', 'SET', name, value);
  } catch (err) {
    // Never echo the value: it may be a password.
    throw new SettingsError(`CONFIG SET ${name} failed on the target: ${errorMessage(err)}`);
  }
}

/**
 * Which of `wanted` differ on the target now, with their current values (the originals to keep).
 * Refuses to overwrite a secret that is set to something else.
 */
export async function settingsToChange(
  client: Redis,
  wanted: Record<string, string>,
): Promise<{ changes: Record<string, string>; originals: Originals }> {
  const changes: Record<string, string> = {};
  const originals: Originals = {};
  for (const [name, value] of Object.entries(wanted)) {
    const current = await configGet(client, name);
    if (current === value) continue;
    if (SECRET_SETTINGS.has(name) && current !== '') {
      throw new SettingsError(
        `the target's ${name} is already set to another password; migration-buddy would have to overwrite ` +
          `it and could not restore it without storing it. Clear it (CONFIG SET ${name} "") or set it to the ` +
          `source's password, then retry`,
      );
    }
    changes[name] = value;
    originals[name] = current;
  }
  return { changes, originals };
}

export async function applySettings(client: Redis, changes: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(changes)) await configSet(client, name, value);
}

/**
 * Puts the originals back. Every setting is tried; the ones that failed are returned (with why),
 * so a partial restore is reported rather than hidden behind the first error.
 */
export async function restoreSettings(
  client: Redis,
  originals: Originals,
): Promise<{ restored: string[]; failed: string[] }> {
  const restored: string[] = [];
  const failed: string[] = [];
  for (const [name, value] of Object.entries(originals)) {
    try {
      await configSet(client, name, value);
      restored.push(name);
    } catch (err) {
      failed.push(errorMessage(err));
    }
  }
  return { restored, failed };
}

/** Originals of several steps, the earliest step's value winning (it saw the setting first). */
export function mergeOriginals(...lists: (Originals | undefined)[]): Originals {
  const out: Originals = {};
  for (const list of lists) {
    for (const [name, value] of Object.entries(list ?? {})) if (!(name in out)) out[name] = value;
  }
  return out;
}
