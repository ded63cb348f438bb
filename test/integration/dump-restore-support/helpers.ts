// Shared pieces of the dump-restore end-to-end tests: the writer process, gates answered like a
// buddy would, and the checks that every acknowledged write reached the target.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { buildExecutorRegistry } from '../../../src/jobs/executors.js';
import { openRuntime, type Runtime, startWorkers, type WorkerPool } from '../../../src/jobs/runtime.js';
import { withDefaults } from '../../../src/planner/defaults.js';
import { planMigration } from '../../../src/planner/plan.js';
import type { Plan, PlanOptions } from '../../../src/planner/types.js';
import { probeEndpoint } from '../../../src/probe/index.js';
import { type Endpoint, parseEndpointUrl } from '../../../src/redis/endpoint.js';
import type { Migration, Step, StepKind } from '../../../src/runbook/model.js';
import type { MigrationService } from '../../../src/runbook/service.js';
import { createLogger } from '../../../src/util/logger.js';
import { snapshotKey } from '../../harness/compare.js';
import type { RedisServer } from '../../harness/redis-server.js';
import { JOB_TIMING, LIVE_PHASE_TIMING } from './timing.js';
import type { WriterReport } from './writer.js';

const WRITER = fileURLToPath(new URL('./writer.ts', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker-child.ts', import.meta.url));

const children = new Set<ChildProcess>();
/** SIGKILLs every writer and worker process still running (call it in after()). */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}
process.once('exit', killChildren);

export interface Writer {
  pid: number;
  /** Resolves once the writer acknowledged at least n writes. */
  acked(n: number): Promise<void>;
  count(): number;
  /** The app moves to the target: no new writes; a write blocked by the pause stays in flight. */
  redirect(): void;
  /** Resolves once no write is in flight any more (after redirect). */
  settled: Promise<void>;
  stop(): Promise<WriterReport>;
}

export function startWriter(sourceUrl: string, seed = 7): Promise<Writer> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER], {
    env: { ...process.env, SOURCE_URL: sourceUrl, SEED: String(seed) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let acked = 0;
  let report: WriterReport | undefined;
  let stderr = '';
  const waiters: { n: number; resolve: () => void }[] = [];
  let onSettled: () => void = () => {};
  const settled = new Promise<void>((r) => {
    onSettled = r;
  });
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  let buffer = '';
  child.stdout!.on('data', (b: Buffer) => {
    buffer += b.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') onReady();
      else if (line === 'settled') onSettled();
      else if (line.startsWith('acked ')) acked = Number(line.slice(6));
      else if (line.startsWith('{')) report = JSON.parse(line) as WriterReport;
      for (const w of [...waiters]) {
        if (acked >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  });
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const writer: Writer = {
    pid: child.pid!,
    acked: (n) =>
      acked >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push({ n, resolve });
          }),
    count: () => acked,
    redirect: () => child.stdin!.write('redirect\n'),
    settled,
    async stop() {
      child.stdin!.write('stop\n');
      const code = await exited;
      children.delete(child);
      assert.equal(code, 0, `writer exited with ${code}: ${stderr}`);
      assert.ok(report, 'writer report');
      return report;
    },
  };
  return Promise.race([
    ready.then(() => writer),
    exited.then((code) => {
      throw new Error(`writer exited (${code}) before it was ready: ${stderr}`);
    }),
  ]);
}

/**
 * Every key the writer's acknowledged writes left behind is on the target with that value (and a
 * TTL where it set one). Returns how many keys were checked.
 */
export async function assertWritesOnTarget(report: WriterReport, target: Redis): Promise<number> {
  const problems: string[] = [];
  for (const e of report.model) {
    const snap = await snapshotKey(target, Buffer.from(e.keyHex, 'hex'));
    const name = Buffer.from(e.keyHex, 'hex').toString('latin1');
    if (!snap) {
      problems.push(`${name}: missing on the target`);
      continue;
    }
    const expected = canonical(e.value);
    const actual = canonicalSnapshot(snap.type, snap.value);
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      problems.push(
        `${name}: ${JSON.stringify(actual).slice(0, 200)} instead of ${JSON.stringify(expected).slice(0, 200)}`,
      );
    }
    if (e.ttl !== snap.pttl > 0)
      problems.push(`${name}: pttl ${snap.pttl}, expected ${e.ttl ? 'a TTL' : 'none'}`);
  }
  assert.deepEqual(
    problems.slice(0, 10),
    [],
    `${problems.length} acknowledged write(s) missing on the target`,
  );
  return report.model.length;
}

function canonical(v: WriterReport['model'][number]['value']): unknown {
  switch (v.type) {
    case 'string':
      return ['string', v.value];
    case 'hash':
      return ['hash', Object.entries(v.value).sort(([a], [b]) => a.localeCompare(b))];
    case 'list':
      return ['list', v.value];
    case 'set':
      return ['set', [...v.value].sort()];
    case 'zset':
      return ['zset', [...v.value].sort(([a], [b]) => a.localeCompare(b)).map(([m, s]) => [m, s])];
  }
}

/** The harness snapshot (bytes as hex; hash `f=v`, zset `m@score`) in the writer model's shape. */
function canonicalSnapshot(type: string, value: unknown): unknown {
  const str = (h: string) => Buffer.from(h, 'hex').toString();
  const pairs = (sep: string) =>
    (value as string[]).map((p) => {
      const at = p.indexOf(sep);
      return [p.slice(0, at), p.slice(at + 1)] as [string, string];
    });
  switch (type) {
    case 'string':
      return ['string', str(value as string)];
    case 'hash':
      return [
        'hash',
        pairs('=')
          .map(([f, v]) => [str(f), str(v)])
          .sort(([a], [b]) => a!.localeCompare(b!)),
      ];
    case 'list':
      return ['list', (value as string[]).map(str)];
    case 'set':
      return ['set', (value as string[]).map(str).sort()];
    case 'zset':
      return [
        'zset',
        pairs('@')
          .map(([m, s]) => [str(m), Number(s)] as [string, number])
          .sort(([a], [b]) => a.localeCompare(b)),
      ];
    default:
      return [type, value];
  }
}

/** A dump-restore plan for two endpoints (write-pause timeout and such in `options`). */
export async function planFor(
  source: Endpoint,
  target: Endpoint,
  options: Partial<PlanOptions> = {},
): Promise<Plan> {
  const [sp, tp] = await Promise.all([probeEndpoint(source), probeEndpoint(target)]);
  return planMigration(sp, tp, withDefaults({ strategy: 'dump-restore', ...options }));
}

export async function until<T>(
  what: string,
  get: () => Promise<T | undefined | false>,
  ms = 60_000,
  describe?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${describe ? `: ${await describe()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const stepOf = (m: Migration, kind: StepKind): Step => m.steps.find((s) => s.kind === kind)!;

/** Waits until the step of `kind` waits for a person (or the migration ended: then throws). */
export async function awaiting(
  service: MigrationService,
  id: string,
  kind: StepKind,
  ms = 60_000,
): Promise<Step> {
  return until(
    `${kind} to wait for a person`,
    async () => {
      const m = (await service.get(id))!;
      const step = stepOf(m, kind);
      if (['failed', 'aborted', 'rejected', 'succeeded'].includes(m.status)) {
        const bad = m.steps.find((s) => s.status === 'failed');
        throw new Error(`migration ${m.status} before ${kind} was up: ${bad?.id} ${bad?.error ?? ''}`);
      }
      return step.status === 'awaiting_approval' && step;
    },
    ms,
  );
}

export async function approve(service: MigrationService, id: string, kind: StepKind, user = 'UBUDDY') {
  const step = await awaiting(service, id, kind);
  const res = await service.approve(id, step.id, user, step.hash);
  assert.ok(res.ok, res.ok ? '' : res.reason);
}

export async function confirm(service: MigrationService, id: string, kind: StepKind, user = 'UREQ') {
  const step = await awaiting(service, id, kind);
  assert.equal(step.gate, 'confirmation');
  const res = await service.confirm(id, step.id, user, step.hash, 'apps moved');
  assert.ok(res.ok, res.ok ? '' : res.reason);
}

export async function ended(service: MigrationService, id: string, ms = 90_000): Promise<Migration> {
  return until(
    'the migration to end',
    async () => {
      const m = await service.get(id);
      return m && ['succeeded', 'failed', 'aborted', 'rejected'].includes(m.status) && m;
    },
    ms,
  );
}

/** A migration that did not succeed, told as the step that failed. */
export function explain(m: Migration): string {
  const bad = m.steps.find((s) => ['failed', 'aborted', 'rejected'].includes(s.status));
  return `${m.status}: ${bad ? `${bad.id} ${bad.status}: ${bad.error ?? bad.summary ?? ''}` : ''}`;
}

export interface WorkerProcess {
  pid: number;
  ready: Promise<void>;
  exited: Promise<number | null>;
  stderr: () => string;
  kill(signal?: NodeJS.Signals): void;
}

/** A worker process with the real executors (worker-child.ts). */
export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      children.delete(child);
      r(code);
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().split('\n').includes('ready')) resolve();
    });
    void exited.then(() => reject(new Error(`worker exited before ready: ${stderr}`)));
  });
  ready.catch(() => undefined);
  return {
    pid: child.pid!,
    ready,
    exited,
    stderr: () => stderr,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null) child.kill(signal);
    },
  };
}

/** A runtime on `control` with in-process workers that know the endpoints `src` and `dst`. */
export async function inProcessWorkers(
  servers: { control: RedisServer; source: RedisServer; target: RedisServer },
  options: { prefix: string; workerId: string; concurrency?: number },
): Promise<{ rt: Runtime; pool: WorkerPool }> {
  const rt = await openRuntime({
    control: parseEndpointUrl(servers.control.url, 'control'),
    logger: createLogger({ level: 'silent' }),
    prefix: options.prefix,
    timing: JOB_TIMING,
    livePhase: LIVE_PHASE_TIMING,
  });
  const src = parseEndpointUrl(servers.source.url, 'src');
  const dst = parseEndpointUrl(servers.target.url, 'dst');
  const pool = await startWorkers(rt, {
    registry: buildExecutorRegistry(undefined, rt),
    resolveEndpoints: () => ({ source: src, target: dst }),
    workerId: options.workerId,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  return { rt, pool };
}
