// How many shard jobs one worker process runs at once: `--shard-concurrency`, else the
// SHARD_CONCURRENCY environment variable, else `workers.shardConcurrency` in the config, else 2.
import type { Config } from '../config/load.js';
import { UserError } from '../util/errors.js';

export const DEFAULT_SHARD_CONCURRENCY = 2;

export function shardConcurrency(
  flag: string | undefined,
  config: Pick<Config, 'workers'> | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const [text, where] =
    flag !== undefined
      ? [flag, '--shard-concurrency']
      : env.SHARD_CONCURRENCY
        ? [env.SHARD_CONCURRENCY, 'SHARD_CONCURRENCY']
        : [undefined, ''];
  if (text === undefined) return config?.workers?.shardConcurrency ?? DEFAULT_SHARD_CONCURRENCY;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 64)
    throw new UserError(`${where} must be a whole number from 1 to 64`);
  return n;
}
