// start_replication: the target becomes a replica of the source. Gated by the runbook, because the
// target discards everything it holds once the sync loads.

import { clientInfo, readIdentity } from '../../engine/identity/index.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext, StepOutcome } from '../../runbook/step-executor.js';
import { errorMessage } from '../../util/errors.js';
import { sleep } from '../../util/sleep.js';
import { describeDetach, detachAndRestore } from './abort.js';
import { runGuarded, throwIfStopped } from './guard.js';
import { describeLink, replicatesFrom, type SourceState, type TargetState, totalKeys } from './info.js';
import { diagnoseNoContact, hasContact } from './link.js';
import type { ResolvedReplicationOptions } from './options.js';
import { asStartRecord, type StartCheckpoint } from './records.js';
import type { LinkSession } from './session.js';
import {
  applySettings,
  mergeOriginals,
  neededSettings,
  type Originals,
  settingsToChange,
} from './settings.js';

/** Refusals before anything is changed. */
function refuseReason(
  ctx: StepContext,
  target: TargetState,
  source: SourceState | null,
  address: { host: string; port: number },
  attached: boolean,
): string | null {
  const where = describeEndpoint(ctx.endpoints.target);
  if (target.clusterEnabled)
    return `the target ${where} runs in cluster mode, where REPLICAOF is not allowed`;
  if (source && source.runId !== '' && source.runId === target.runId) {
    return 'source and target are the same server (same run_id): replicating it onto itself would wipe it';
  }
  if (target.role === 'replica' && !attached) {
    return (
      `the target ${where} already replicates ${target.masterHost}:${target.masterPort}, not the source at ` +
      `${address.host}:${address.port}; detach it first (REPLICAOF NO ONE) if that is intended`
    );
  }
  // masterauth/masteruser come from the endpoint itself, not the plan's setMasterauth/masteruser:
  // the planner sees only redacted URLs and misses credentials given as separate config fields.
  const params = ctx.step.params;
  const planned = Number(params.discardsTargetKeys ?? 0);
  const now = totalKeys(target.keyspace);
  if (!attached && now > planned) {
    return (
      `the target now holds ${now} keys, more than the ${planned} this step was approved to discard; ` +
      'plan the migration again'
    );
  }
  return null;
}

/** Polls until the target has contact with the source, or the timeout passes. */
export async function waitForContact(
  session: LinkSession,
  signal: AbortSignal,
  options: ResolvedReplicationOptions,
): Promise<{ contact: boolean; target: TargetState; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    throwIfStopped(signal);
    const target = await session.targetState();
    const source = session.source ? await session.sourceState().catch(() => null) : null;
    const waitedMs = Date.now() - started;
    if (hasContact(target, source)) return { contact: true, target, waitedMs };
    if (waitedMs >= options.linkTimeoutMs) return { contact: false, target, waitedMs };
    await sleep(options.pollIntervalMs, signal);
  }
}

/**
 * Sets what the link needs and sends REPLICAOF. Shared by start and by wait_sync re-attaching
 * after a loop; `known` are originals already recorded (they win over what the target has now).
 */
export async function attach(
  ctx: StepContext,
  session: LinkSession,
  known: Originals | undefined,
  save: (originals: Originals) => Promise<void>,
  address: { host: string; port: number },
): Promise<{ originals: Originals; changed: string[] }> {
  const { changes, originals: current } = await settingsToChange(
    session.target,
    neededSettings(ctx.endpoints.source),
  );
  const originals = mergeOriginals(known, current);
  // Recorded before anything changes: a crash from here on finds the true originals.
  await save(originals);
  await applySettings(session.target, changes);
  const t = await session.targetState();
  if (!replicatesFrom(t, address.host, address.port)) {
    try {
      await session.target.call('REPLICAOF', address.host, String(address.port));
    } catch (err) {
      throw new UnrecoverableStepError(`REPLICAOF on the target failed: ${errorMessage(err)}`);
    }
  }
  return { originals, changed: Object.keys(originals) };
}

export async function startReplication(
  ctx: StepContext,
  options: ResolvedReplicationOptions,
): Promise<StepOutcome> {
  const address = options.replicaOfAddress(ctx.endpoints.source);
  let record = asStartRecord(ctx.checkpoint);
  return runGuarded(
    ctx,
    async (session) => {
      const target = await session.targetState();
      const source = session.source ? await session.sourceState() : null;
      const attached = replicatesFrom(target, address.host, address.port);
      const refusal = refuseReason(ctx, target, source, address, attached);
      if (refusal) throw new UnrecoverableStepError(refusal);
      const discarded = totalKeys(target.keyspace);
      const sourceIdentity =
        record?.sourceIdentity ??
        (session.source ? await readIdentity(clientInfo(session.source)) : undefined);

      const { changed } = await attach(
        ctx,
        session,
        record?.originals,
        async (originals) => {
          const next: StartCheckpoint = {
            version: 1,
            originals,
            replicaOf: address,
            syncFullBaseline: record?.syncFullBaseline ?? source?.syncFull ?? null,
            startedAt: record?.startedAt ?? new Date().toISOString(),
            ...(sourceIdentity ? { sourceIdentity } : {}),
          };
          if (JSON.stringify(next) !== JSON.stringify(record)) await ctx.saveCheckpoint(next);
          record = next;
        },
        address,
      );
      ctx.reportProgress({ phase: 'connecting', message: `REPLICAOF ${address.host} ${address.port} sent` });

      const contact = await waitForContact(session, ctx.signal, options);
      if (!contact.contact) {
        const why = await diagnoseNoContact(session, address, contact.target, contact.waitedMs);
        const undo = await detachAndRestore(session.target, record!.originals, address);
        throw new UnrecoverableStepError(
          `${why} Undone: ${describeDetach(undo)}; the target's data is as it was (the sync never began).`,
        );
      }
      const settings = changed.length > 0 ? `; set ${changed.join(', ')} (restored at promote)` : '';
      return {
        summary:
          `the target replicates from ${describeEndpoint(ctx.endpoints.source)} (${address.host}:${address.port}): ` +
          `${describeLink(contact.target)}${settings}`,
        result: {
          record: record!,
          replicaOf: `${address.host}:${address.port}`,
          changed,
          discardedKeys: attached ? null : discarded,
          alreadyAttached: attached,
          targetReplicas: target.connectedReplicas,
          link: describeLink(contact.target),
        },
        verdict: target.connectedReplicas > 0 ? 'warning' : 'ok',
      };
    },
    // Before the first checkpoint nothing was changed: an abort then has nothing to undo.
    { originals: () => record?.originals ?? {}, replicaOf: () => address },
  );
}
