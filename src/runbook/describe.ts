// Sentences for people about where a migration stands.
import type { Migration, Step } from './model.js';
import { defaultAbortState } from './step-executor.js';

/** Who has to act on a gated step, in words. */
export function approverPhrase(m: Pick<Migration, 'buddy'>, quorum: number): string {
  const others = m.buddy ? quorum - 1 : quorum;
  const rest = others > 1 ? `${others} different approvers` : 'an approver';
  if (!m.buddy) return rest;
  return others > 0
    ? `the buddy (${m.buddy}) and ${others > 1 ? `${others} other approvers` : 'another approver'}`
    : `the buddy (${m.buddy})`;
}

function titles(steps: Step[]): string {
  return steps.map((s) => `"${s.title}"`).join(', ');
}

/**
 * After an abort: what ran, what was stopped and what it left behind, what never ran. Source and
 * target are only changed by steps that ran, so this is what people need to decide the next move.
 */
export function describeState(m: Migration, stopped: { step: Step; state: string }[] = []): string {
  const done = m.steps.filter((s) => s.status === 'succeeded');
  const running = m.steps.filter((s) => s.status === 'running');
  const notRun = m.steps.filter((s) => !['succeeded', 'running', 'failed'].includes(s.status));
  const parts: string[] = [];
  if (done.length === 0 && running.length === 0 && stopped.length === 0) {
    parts.push('No step had run, so source and target are as they were.');
  } else if (done.length > 0) {
    parts.push(`Completed: ${titles(done)}.`);
  }
  for (const s of stopped) parts.push(`Stopped "${s.step.title}": ${s.state}.`);
  for (const s of running) {
    if (!stopped.some((x) => x.step.id === s.id)) {
      parts.push(`Stopping "${s.title}" (${defaultAbortState(s)}).`);
    }
  }
  if (notRun.length > 0) parts.push(`Not run: ${titles(notRun)}.`);
  return parts.join(' ');
}
