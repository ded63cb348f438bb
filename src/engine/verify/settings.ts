// The tunables of one verification with their defaults filled in, checked before anything is read.
import { UserError } from '../../util/errors.js';
import { checkMapping } from '../db-mapping.js';
import { DEFAULT_TTL_TOLERANCE_MS, type VerifyOptions } from './types.js';

const DEFAULTS = {
  ttlToleranceMs: DEFAULT_TTL_TOLERANCE_MS,
  recheckRounds: 3,
  recheckDelayMs: 1000,
  maxSamplesPerClass: 10,
  batchSize: 1000,
  chunkSize: 1000,
  maxRecheckKeys: 100_000,
  bigKeyThresholdBytes: 8 * 1024 * 1024,
};

export type VerifySettings = typeof DEFAULTS;

/** `options` with defaults; throws a UserError naming the first value out of range. */
export function verifySettings(options: VerifyOptions): VerifySettings {
  const settings: VerifySettings = {
    ttlToleranceMs: options.ttlToleranceMs ?? DEFAULTS.ttlToleranceMs,
    recheckRounds: options.recheckRounds ?? DEFAULTS.recheckRounds,
    recheckDelayMs: options.recheckDelayMs ?? DEFAULTS.recheckDelayMs,
    maxSamplesPerClass: options.maxSamplesPerClass ?? DEFAULTS.maxSamplesPerClass,
    batchSize: options.batchSize ?? DEFAULTS.batchSize,
    chunkSize: options.chunkSize ?? DEFAULTS.chunkSize,
    maxRecheckKeys: options.maxRecheckKeys ?? DEFAULTS.maxRecheckKeys,
    bigKeyThresholdBytes: options.bigKeyThresholdBytes ?? DEFAULTS.bigKeyThresholdBytes,
  };
  validate(settings, options);
  return settings;
}

function validate(o: VerifySettings, options: VerifyOptions): void {
  const check = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min)
      throw new UserError(`${name} must be an integer >= ${min} (got ${value})`);
  };
  check('ttlToleranceMs', o.ttlToleranceMs, 0);
  check('recheckRounds', o.recheckRounds, 0);
  check('recheckDelayMs', o.recheckDelayMs, 0);
  check('maxSamplesPerClass', o.maxSamplesPerClass, 0);
  check('batchSize', o.batchSize, 1);
  check('chunkSize', o.chunkSize, 2);
  check('maxRecheckKeys', o.maxRecheckKeys, 0);
  check('bigKeyThresholdBytes', o.bigKeyThresholdBytes, 0);
  if (options.sample !== undefined) check('sample', options.sample, 1);
  checkMapping(options);
  if (options.dbs !== 'all') {
    if (options.dbs.length === 0) throw new UserError('no database to verify');
    for (const db of options.dbs) check('db', db, 0);
  }
}
