// Runbook executors that act outside Redis: `hook` steps run the named hook; `repoint` runs the
// configured repoint hook, or waits for a person to confirm the apps moved.
import type { HooksConfig } from '../config/schema.js';
import { StepAbortedError, UnrecoverableStepError } from '../runbook/errors.js';
import type { StepContext, StepExecutor, StepOutcome } from '../runbook/step-executor.js';
import { lastChars } from './output.js';
import { describeHook, findHook, runHook } from './run.js';
import type { HookConfig, HookOutcome, HookRunOptions } from './types.js';

export interface HookExecutorOptions {
  /** The `hooks` section of this worker's config. */
  hooks: HooksConfig | undefined;
  run?: Omit<HookRunOptions, 'signal'>;
}

/** Output kept in the step result (the audit event has the full bounded capture). */
const RESULT_OUTPUT_CHARS = 4000;

async function runHookStep(
  ctx: StepContext,
  name: string,
  def: HookConfig,
  point: string,
  options: HookExecutorOptions,
): Promise<StepOutcome> {
  const what = describeHook(name, def);
  ctx.reportProgress({ phase: 'hook', message: `running the ${what}` });
  const outcome = await runHook(
    def,
    {
      hook: name,
      point,
      migrationId: ctx.migration.id,
      step: { id: ctx.step.id, kind: ctx.step.kind, title: ctx.step.title },
      strategy: ctx.migration.plan.strategy,
      source: ctx.endpoints.source,
      target: ctx.endpoints.target,
    },
    { ...options.run, signal: ctx.signal },
  );
  const how = outcome.ok ? 'succeeded' : `failed: ${outcome.error}`;
  const message = `${what} ${how} (${(outcome.durationMs / 1000).toFixed(1)} s)`;
  await ctx.audit('note', message, auditData(outcome, point));
  if (ctx.signal.aborted) {
    throw new StepAbortedError(
      `the ${what} was stopped part way (${outcome.error ?? 'aborted'}); check what it did`,
    );
  }
  const result = resultData(outcome, point);
  if (!outcome.ok) {
    const output = lastChars(outcome.stderr || outcome.stdout, 500);
    return {
      summary: `${message}${output ? `; output: ${output}` : ''}`,
      result,
      verdict: 'failed',
    };
  }
  return { summary: message, result };
}

function auditData(o: HookOutcome, point: string): Record<string, unknown> {
  return {
    hook: o.hook,
    point,
    kind: o.kind,
    ok: o.ok,
    durationMs: o.durationMs,
    ...(o.kind === 'command'
      ? { exitCode: o.exitCode ?? null, signal: o.signal ?? null }
      : { status: o.status }),
    timedOut: o.timedOut,
    stdout: o.stdout,
    stderr: o.stderr,
    truncated: o.truncated,
    ...(o.error ? { error: o.error } : {}),
  };
}

function resultData(o: HookOutcome, point: string): Record<string, unknown> {
  const data = auditData(o, point);
  data.stdout = lastChars(o.stdout, RESULT_OUTPUT_CHARS);
  data.stderr = lastChars(o.stderr, RESULT_OUTPUT_CHARS);
  return data;
}

export function hookStepExecutor(options: HookExecutorOptions): StepExecutor {
  return {
    async run(ctx) {
      const name = String(ctx.step.params.hook ?? '');
      const def = findHook(options.hooks, name);
      if (!def)
        throw new UnrecoverableStepError(`hook "${name}" is not in this worker's config (hooks.${name})`);
      return runHookStep(ctx, name, def, String(ctx.step.params.point ?? 'manual'), options);
    },
    abortState: (ctx) =>
      `the hook "${String(ctx.step.params.hook)}" was stopped part way (its process group is killed); check what it did`,
  };
}

/** The hook the repoint step runs: the one it names, else the one placed at "repoint". */
export function repointHook(
  hooks: HooksConfig | undefined,
  named: unknown,
): { name: string; def: HookConfig } | undefined {
  if (typeof named === 'string') {
    const def = findHook(hooks, named);
    if (def) return { name: named, def };
  }
  const placed = Object.entries(hooks ?? {}).find(([, def]) => def.at === 'repoint');
  return placed ? { name: placed[0], def: placed[1] } : undefined;
}

export function repointExecutor(options: HookExecutorOptions): StepExecutor {
  return {
    async run(ctx) {
      const by = ctx.step.confirmedBy;
      if (by) {
        return {
          summary: `${by.userId} confirmed the apps now use ${ctx.migration.target}${by.reason ? ` (${by.reason})` : ''}`,
          result: { method: 'person-confirms', confirmedBy: by.userId, at: by.at },
        };
      }
      const hook = repointHook(options.hooks, ctx.step.params.hook);
      if (!hook) {
        return {
          summary: 'waiting for a person to repoint the apps (no repoint hook is configured)',
          awaitConfirmation: `point the apps at ${ctx.migration.target} (${ctx.endpoints.target.redactedUrl}), then confirm`,
        };
      }
      const outcome = await runHookStep(ctx, hook.name, hook.def, 'repoint', options);
      return { ...outcome, result: { method: 'hook', ...outcome.result } };
    },
    abortState: () =>
      'the repoint may have run part way: check where the apps point (source or target) before going on',
  };
}
