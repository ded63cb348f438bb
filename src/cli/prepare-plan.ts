// The plan-and-create use case's read-only part as the CLI runs it (`plan`, `migrate`): the real
// probe, and a probe's own error as is (it already says which server and what to do).
import type { PlanOptions } from '../planner/types.js';
import { probeEndpoint } from '../probe/index.js';
import type { Endpoint } from '../redis/endpoint.js';
import { type PreparedPlan, ProbeFailedError, preparePlan } from '../usecases/plan-migration.js';

export async function prepareCliPlan(
  source: Endpoint,
  target: Endpoint,
  options: PlanOptions,
  hooks: Parameters<typeof preparePlan>[0]['hooks'],
  bigKeys = false,
): Promise<PreparedPlan> {
  try {
    return await preparePlan({ source, target, options, hooks, bigKeys }, (e, o) => probeEndpoint(e, o));
  } catch (err) {
    throw err instanceof ProbeFailedError ? err.cause : err;
  }
}
