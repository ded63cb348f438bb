// Hash field TTLs (HPEXPIRE: Redis >= 7.4, Valkey >= 9) and a target that cannot hold them
// (Redis < 7.4, Valkey < 9): the copy would leave those fields persistent, fields that should
// expire would live forever. A blocker naming how many hashes, and how that was found, unless
// the plan was asked to drop them (--drop-field-ttls): then a warning saying what happens.
import { describeFieldTtls } from '../probe/field-ttls.js';
import type { PlanContext } from './context.js';
import type { Finding } from './types.js';
import { plural } from './units.js';

/** Hashes with field TTLs in the databases to copy, and how they were counted; null when none are known. */
function fieldTtlHashes(ctx: PlanContext): { hashes: number; how: string } | null {
  const facts = ctx.source.fieldTtls;
  if (!facts?.supported) return null;
  const selected = new Set(ctx.dbs);
  const perDb = facts.perDb.filter((d) => selected.has(d.db));
  const hashes = perDb.reduce((n, d) => n + d.hashes, 0);
  if (hashes === 0) return null;
  const where = perDb.map((d) => `db ${d.db}: ${d.hashes}`).join(', ');
  const how =
    facts.counted === 'info-keyspace'
      ? 'counted by INFO keyspace'
      : `found by sampling ${facts.sampledHashes ?? 0} hashes${facts.sampledAll ? ', all of them' : ', so there may be more'}`;
  return { hashes, how: `${where}; ${how}` };
}

/** Why the target cannot hold field TTLs, or undefined when it can (or its probe does not say). */
function targetLacksFieldTtls(ctx: PlanContext): string | undefined {
  const facts = ctx.target.fieldTtls;
  if (!facts || facts.supported) return undefined;
  const { flavor, flavorVersion, version } = ctx.target.server;
  return `the target (${flavor} ${flavorVersion ?? version}) has no hash field TTLs (no HPEXPIREAT; Redis >= 7.4 and Valkey >= 9 have them)`;
}

export function fieldTtlBlockers(ctx: PlanContext): Finding[] {
  const found = fieldTtlHashes(ctx);
  const lacks = targetLacksFieldTtls(ctx);
  if (!found || !lacks || ctx.options.dropFieldTtls) return [];
  return [
    {
      code: 'field-ttls-unsupported-on-target',
      message:
        `the source has ${plural(found.hashes, 'hash', 'hashes')} with per-field TTLs (${found.how}) but ${lacks}: ` +
        'copied there, those fields would never expire. Use a target that has field TTLs, or pass ' +
        '--drop-field-ttls to copy them as persistent fields',
    },
  ];
}

export function fieldTtlWarnings(ctx: PlanContext): Finding[] {
  const lacks = targetLacksFieldTtls(ctx);
  if (!lacks) return [];
  const found = fieldTtlHashes(ctx);
  if (found && ctx.options.dropFieldTtls) {
    return [
      {
        code: 'field-ttls-dropped',
        message:
          `--drop-field-ttls: the field TTLs of ${plural(found.hashes, 'hash', 'hashes')} (${found.how}) are dropped, ` +
          `as ${lacks}: those fields become persistent on the target and never expire`,
      },
    ];
  }
  const facts = ctx.source.fieldTtls;
  // A sample that found none is no proof: the copy still refuses a hash with field TTLs.
  if (!found && facts?.supported && facts.counted === 'sampled' && !facts.sampledAll) {
    return [
      {
        code: 'field-ttls-unknown',
        message:
          `the source can hold hash field TTLs and ${describeFieldTtls(facts)}; ${lacks}: a hash with field TTLs ` +
          `found during the copy is refused${ctx.options.dropFieldTtls ? ' unless dropped (--drop-field-ttls)' : ' (pass --drop-field-ttls to copy it with persistent fields)'}`,
      },
    ];
  }
  return [];
}
