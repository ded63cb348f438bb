// drain_check: who is still connected to the source (CLIENT LIST minus replicas and our own
// connections), polled until nobody is left and the lag is 0, within a bound. Past the bound a
// person may approve going on anyway; the result then says who was still connected.

import { listSourceClients, type SourceClient } from '../../engine/cutover/index.js';
import { UnrecoverableStepError } from '../../runbook/errors.js';
import type { StepContext, StepOutcome } from '../../runbook/step-executor.js';
import { errorMessage } from '../../util/errors.js';
import { sleep } from '../../util/sleep.js';
import { runGuarded, throwIfStopped } from './guard.js';
import type { ResolvedReplicationOptions } from './options.js';
import type { LinkSession } from './session.js';

export interface ClientSummary {
  addr: string;
  name: string;
  user: string | null;
  db: number;
  idleSeconds: number;
  lastCommand: string;
}

function summarize(c: SourceClient): ClientSummary {
  return {
    addr: c.addr,
    name: c.name,
    user: c.user,
    db: c.db,
    idleSeconds: c.idleSeconds,
    lastCommand: c.lastCommand,
  };
}

export function formatClients(clients: readonly ClientSummary[], max = 10): string {
  const shown = clients
    .slice(0, max)
    .map((c) => `${c.addr}${c.name ? ` (${c.name})` : ''} idle ${c.idleSeconds} s`)
    .join(', ');
  return clients.length > max ? `${shown} and ${clients.length - max} more` : shown;
}

async function readClients(session: LinkSession, ignorePrefix: string | null): Promise<ClientSummary[]> {
  let clients: SourceClient[];
  try {
    clients = await listSourceClients(session.requireSource());
  } catch (err) {
    throw new UnrecoverableStepError(`CLIENT LIST on the source failed: ${errorMessage(err)}`);
  }
  return clients.filter((c) => !(ignorePrefix && c.name.startsWith(ignorePrefix))).map(summarize);
}

async function lagBytes(session: LinkSession): Promise<number> {
  return (await session.readBoth()).lagBytes;
}

export async function drainCheck(
  ctx: StepContext,
  options: ResolvedReplicationOptions,
): Promise<StepOutcome> {
  const p = ctx.step.params;
  const confirmed = ctx.step.confirmedBy;
  if (p.method === 'person-confirms') {
    if (!confirmed) {
      return {
        summary: 'waiting for a person to confirm no app uses the source any more',
        awaitConfirmation: `check that no app still uses ${ctx.migration.source} (CLIENT LIST is not available), then confirm`,
      };
    }
    return {
      summary: `${confirmed.userId} confirmed no app uses the source any more`,
      result: { method: 'person-confirms', confirmedBy: confirmed.userId },
    };
  }
  const ignorePrefix = typeof p.ignoreClientNamePrefix === 'string' ? p.ignoreClientNamePrefix : null;
  const requireLagZero = p.requireLagZero === true;
  return runGuarded(ctx, async (session) => {
    if (!session.source) throw new UnrecoverableStepError('the source is not reachable from this worker');
    if (confirmed) {
      // A person approved going on: one last look, recorded with the approval.
      const clients = await readClients(session, ignorePrefix);
      const lag = await lagBytes(session);
      const left =
        clients.length > 0
          ? `${clients.length} clients were still connected: ${formatClients(clients)}`
          : 'no client was left';
      return {
        summary: `${confirmed.userId} approved going on; ${left}; lag ${lag} bytes`,
        result: { clientsStillConnected: clients, lagBytes: lag, confirmedBy: confirmed.userId },
        verdict: clients.length > 0 || lag > 0 ? 'warning' : 'ok',
      };
    }
    const started = Date.now();
    let clients: ClientSummary[] = [];
    let lag = 0;
    for (;;) {
      throwIfStopped(ctx.signal);
      clients = await readClients(session, ignorePrefix);
      lag = requireLagZero && clients.length === 0 ? await lagBytes(session) : 0;
      if (clients.length === 0 && lag === 0) {
        return {
          summary: `nobody is left on the source${requireLagZero ? ' and the target has all it wrote (lag 0)' : ''}`,
          result: { clientsStillConnected: [], lagBytes: lag, waitedMs: Date.now() - started },
        };
      }
      ctx.reportProgress({
        phase: 'draining',
        keysDone: clients.length,
        message:
          clients.length > 0
            ? `${clients.length} clients still on the source: ${formatClients(clients)}`
            : `no clients left; waiting for lag ${lag} bytes to reach 0`,
      });
      if (Date.now() - started >= options.drainTimeoutMs) break;
      await sleep(options.drainPollMs, ctx.signal);
    }
    const what =
      clients.length > 0
        ? `${clients.length} clients are still connected to the source: ${formatClients(clients)}`
        : `replication lag is still ${lag} bytes`;
    return {
      summary: `after ${Math.round((Date.now() - started) / 1000)} s ${what}`,
      result: { clientsStillConnected: clients, lagBytes: lag },
      awaitConfirmation: `${what}. Approve to go on anyway (writes they make to the source after the promote are lost)`,
    };
  });
}
