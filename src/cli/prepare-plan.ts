// The plan-and-create use case's read-only part as the CLI runs it (`plan`, `migrate`): the real
// probe, the copy rates recorded on the control Redis when one is configured, and a probe's own
// error as is (it already says which server and what to do).
import type { Config } from '../config/load.js';
import { controlEndpoint } from '../jobs/connection.js';
import type { PlanOptions } from '../planner/types.js';
import { probeEndpoint } from '../probe/index.js';
import { connect } from '../redis/connect.js';
import type { Endpoint } from '../redis/endpoint.js';
import { CopyRates } from '../runbook/copy-rates.js';
import {
  type PlanInput,
  type PreparedPlan,
  ProbeFailedError,
  preparePlan,
} from '../usecases/plan-migration.js';
import { withTimeout } from '../util/timeout.js';

/** The runtime's key prefix (openCliRuntime opens it with the default). */
const CONTROL_PREFIX = 'mb';
/** Reading the rates is worth a short wait, never a failed plan. */
const RATES_TIMEOUT_MS = 2000;

export async function prepareCliPlan(
  source: Endpoint,
  target: Endpoint,
  options: PlanOptions,
  config: Config | undefined,
  bigKeys = false,
): Promise<PreparedPlan> {
  try {
    const rates = recordedRates(config);
    return await preparePlan(
      { source, target, options, hooks: config?.hooks, bigKeys, ...(rates ? { rates } : {}) },
      (e, o) => probeEndpoint(e, o),
    );
  } catch (err) {
    throw err instanceof ProbeFailedError ? err.cause : err;
  }
}

/** Reads the recorded copy rates from the control Redis; undefined when none is configured. */
function recordedRates(config: Config | undefined): PlanInput['rates'] {
  let control: Endpoint;
  try {
    control = controlEndpoint(config);
  } catch {
    return undefined;
  }
  return async (pair) => {
    const redis = await connect(control, {
      role: 'plan-rates',
      maxReconnects: 0,
      connectTimeoutMs: RATES_TIMEOUT_MS,
    });
    try {
      return await withTimeout(
        new CopyRates(redis, CONTROL_PREFIX).read(pair),
        RATES_TIMEOUT_MS,
        'reading the copy rates',
      );
    } finally {
      redis.disconnect();
    }
  };
}
