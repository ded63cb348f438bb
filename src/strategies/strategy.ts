// What a strategy is: when these two servers allow it (and why not), the runbook steps it plans,
// and the executors of those steps. Planning is pure (probes and options in, steps out); the
// executors do the work, on the mechanisms in src/engine. A strategy is found by its name in
// src/strategies/<name>/ and listed once in ./index.ts.
import type { HooksConfig } from '../config/schema.js';
import type { PlanContext } from '../planner/context.js';
import type { CopyPath } from '../planner/copy-path.js';
import type {
  Plan,
  PlannedStep,
  PlanOptions,
  StepKind,
  StrategyAssessment,
  StrategyName,
} from '../planner/types.js';
import type { ProbeResult } from '../probe/types.js';
import type { StepExecutor } from '../runbook/step-executor.js';
import type { AppWritesProvider } from './app-writes/index.js';
import type { LivePhaseProvider } from './live-phase/index.js';
import type { ShardFlowProvider } from './shared/shard-flow.js';

/** A strategy's assessment; `subsetOnly`: ruled out only because the options select part of the data. */
export interface Assessment extends StrategyAssessment {
  subsetOnly?: boolean;
}

/** What the executors of every strategy may need from the process that runs them. */
export interface StrategyDeps {
  /** The `hooks` section of this worker's config (repoint and placed hooks). */
  hooks: HooksConfig | undefined;
  /** The follower queue and records of the live phase (undefined: this process runs no followers). */
  livePhase: LivePhaseProvider;
  /** The record of the apps' writes on the target after the repoint, for the final check. */
  appWrites: AppWritesProvider;
  /** The planner, for preflight's fresh plan (injected: the planner itself lists the strategies). */
  replan: (source: ProbeResult, target: ProbeResult, options: PlanOptions) => Plan;
  /** The queue of shard jobs: a cluster's bulk copy and verify run one job per source shard. */
  shardFlow?: ShardFlowProvider;
}

/** Executors by step kind: every kind the strategy's plans contain must be here. */
export type StrategyExecutors = Partial<Record<StepKind, StepExecutor>>;

export interface Strategy<Options = undefined> {
  readonly name: StrategyName;
  /** One line for people: how the data moves. */
  readonly summary: string;
  /** Moves keys one by one (from a client or server side) rather than the whole dataset. */
  readonly copiesKeys: boolean;
  /** Whether these servers and options allow it; the reasons quote the probes' own words. */
  assess(ctx: PlanContext, path: CopyPath): Assessment;
  /** Why it fits when auto picks it, in a few words (the plan adds why better ones were ruled out). */
  because?(ctx: PlanContext, path: CopyPath): string;
  /** The runbook steps, in order, with the parameters people approve. */
  steps(ctx: PlanContext, path: CopyPath): PlannedStep[];
  /** Its step executors; `options` tune the strategy's own mechanism (tests, benches). */
  executors(deps: StrategyDeps, options?: Options): StrategyExecutors;
}
