// Every way a `migrate` run stops leaves the source as it was and the CLI gone: succeeded, failed
// (a hook fails with live sync running, or under the write pause), aborted (Ctrl-C, both stages),
// rejected, and the control Redis restarted empty. In each the test app keeps writing; afterwards
// notify-keyspace-events is back to its original value, the source takes writes, no connection of
// the CLI is left on source or target, and every write the app saw acknowledged is where it must be
// (on the target once the apps were repointed), checked by the harness's own reads.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { openRuntime, type Runtime } from '../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { createLogger } from '../../src/util/logger.js';
import {
  type AckLine,
  checkAcknowledged,
  readAckLog,
  repointHookCommand,
  startApp,
  writeEndpointFile,
} from '../harness/app/index.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

/** From the stop (or the failure showing) to the CLI's exit. */
const EXIT_BOUND_MS = 10_000;
/**
 * A lost control Redis is noticed first (a reconnect, then the run_id check and a lease renewal),
 * so its stages get more room on a loaded machine; the bound still catches a CLI that hangs.
 */
const CONTROL_LOST_EXIT_BOUND_MS = 20_000;

interface Stage {
  name: string;
  /** Extra hooks (YAML lines under `hooks:`). */
  hooks: string[];
  /** Extra top-level config lines. */
  config?: string[];
  /** Output that marks the moment to act (or the failure itself). */
  when: RegExp;
  /** What the test does then (nothing for a failure of the run's own). */
  act?: (ctx: {
    cli: CliRun;
    rt: Runtime;
    migrationId: string;
    control: RedisServer;
    source: RedisServer;
  }) => Promise<void>;
  /** The CLI answers gates itself (--approve-as); otherwise the test approves, and may reject. */
  scripted: boolean;
  code: number;
  /** Output expected after the stop. */
  says: RegExp;
  /**
   * Which writes the source acknowledged must also be on the target: all (the migration ran to
   * the end), those before the write pause began (the drain carried them over before the stop),
   * or none (the stop came while live sync ran: it stopped following). Every write is checked on
   * the server that acknowledged it as well (the app follows its endpoint file, so it may have
   * moved to the target after the repoint).
   */
  carried: 'all' | 'before-pause' | 'none';
  /** How long the CLI may take to exit after the stop (default EXIT_BOUND_MS). */
  exitBoundMs?: number;
  /** Stop the app when this shows (default: after the stop). */
  stopAppAt?: RegExp;
}

const slow = (at: string) => `  slow: { command: "sleep 30", at: ${at}, timeout: 1m }`;

const STAGES: Stage[] = [
  {
    name: 'succeeded',
    hooks: [],
    when: /"Final check and summary" succeeded/,
    scripted: true,
    code: 0,
    says: /migration m\w+ succeeded/,
    carried: 'all',
    // Writes after the cutover go to the target only; the final check compares both servers.
    stopAppAt: /"Verify the copy" succeeded/,
  },
  {
    name: 'failed: a hook fails while live sync runs',
    hooks: ['  broken: { command: "exit 3", at: before_cutover }'],
    when: /"Run hook broken" failed/,
    scripted: true,
    code: 1,
    says: /stopped: "Run hook broken" failed/,
    carried: 'none',
  },
  {
    name: 'failed: a hook fails under the write pause',
    hooks: ['  broken: { command: "exit 3", at: after_repoint }'],
    when: /"Run hook broken" failed/,
    scripted: true,
    code: 1,
    says: /source writes resumed after a \d+ ms pause/,
    carried: 'before-pause',
  },
  {
    name: 'aborted: Ctrl-C while live sync runs',
    hooks: [slow('before_cutover')],
    when: /started "Run hook slow"/,
    act: async ({ cli }) => {
      cli.child.kill('SIGINT');
    },
    scripted: true,
    code: 1,
    says: /aborted the migration \(interrupted on the terminal\)/,
    carried: 'none',
  },
  {
    name: 'aborted: Ctrl-C under the write pause',
    hooks: [slow('after_repoint')],
    when: /started "Run hook slow"/,
    act: async ({ cli }) => {
      cli.child.kill('SIGINT');
    },
    scripted: true,
    code: 1,
    says: /source writes resumed after a \d+ ms pause/,
    carried: 'before-pause',
  },
  {
    name: 'rejected: the buddy rejects the write pause',
    hooks: [],
    when: /"Pause source writes" needs approval/,
    act: async ({ rt, migrationId }) => {
      const m = (await rt.service.get(migrationId))!;
      const step = m.steps.find((s) => s.kind === 'write_pause')!;
      const res = await rt.service.reject(migrationId, step.id, 'UBUDDY', step.hash, 'not tonight');
      assert.ok(res.ok, res.ok ? '' : res.reason);
    },
    scripted: false,
    code: 1,
    says: /follower stopped: the migration stopped: "Pause source writes" rejected/,
    carried: 'none',
  },
  {
    name: 'expired: an approval under the pause expires (writes go on), then the migration is aborted',
    hooks: ['  gate: { command: "true", at: after_repoint, gated: true }'],
    config: ['approvals: { expiresAfter: 2s }'],
    when: /"Run hook gate" needs approval/,
    act: async ({ cli, rt, migrationId, source }) => {
      // The sweeper (every 15 s) expires the request; the follower then lets writes through.
      await cli.seen(/a request under the write pause expired: source writes resumed/, 30_000);
      const c = await source.client();
      assert.equal(await c.set('probe:expired', '1'), 'OK');
      assert.equal((await rt.service.get(migrationId))?.status, 'expired');
      assert.ok((await rt.service.abort(migrationId, 'UREQ', 'nobody confirmed')).ok);
    },
    scripted: false,
    code: 1,
    says: /follower stopped: the migration was aborted by UREQ/,
    carried: 'before-pause',
  },
  {
    name: 'control state lost: the control Redis restarts empty at the write-pause gate',
    hooks: [],
    when: /"Pause source writes" needs approval/,
    act: async ({ control }) => {
      await restartEmpty(control);
    },
    exitBoundMs: CONTROL_LOST_EXIT_BOUND_MS,
    scripted: false,
    code: 1,
    says: /the control Redis no longer has migration m\w+ .*live sync stopped, source writes were not paused, notify-keyspace-events restored to ""/,
    carried: 'none',
  },
  {
    name: 'control state lost: the control Redis restarts empty under the write pause',
    hooks: [slow('after_repoint')],
    when: /started "Run hook slow"/,
    act: async ({ control }) => {
      await restartEmpty(control);
    },
    exitBoundMs: CONTROL_LOST_EXIT_BOUND_MS,
    scripted: true,
    code: 1,
    says: /the control Redis no longer has migration m\w+ .*source writes resumed after a \d+ ms pause/,
    carried: 'before-pause',
  },
];

const restarted = new Set<ChildProcess>();

/** SIGKILLs the server and starts an empty one on its port (stopped by PID in the stage's cleanup). */
async function restartEmpty(server: RedisServer): Promise<void> {
  server.kill();
  for (let attempt = 0; ; attempt++) {
    const child = spawn(
      'redis-server',
      ['--port', String(server.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const up = await new Promise<boolean>((resolve) => {
      child.once('exit', () => resolve(false));
      setTimeout(() => resolve(child.exitCode === null), 300);
    });
    if (up) {
      restarted.add(child);
      return;
    }
    if (attempt > 20) throw new Error(`could not start a server on port ${server.port} again`);
  }
}

interface CliRun {
  child: ChildProcess;
  out: () => string;
  /** Resolves with the first match of `re` in the output. */
  seen(re: RegExp, ms: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

function startCli(args: string[]): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', CONTROL_REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    out: () => out,
    exited,
    seen: (re, ms) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (!m) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} in the output within ${ms} ms:\n${out}`));
        }, ms);
        const gone = () => {
          done();
          if (!re.exec(out)) reject(new Error(`the CLI exited without ${re}:\n${out}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', gone);
        };
        listeners.add(check);
        child.once('exit', gone);
        check();
      }),
  };
}

async function ownConnections(client: Redis): Promise<string[]> {
  const list = (await client.client('LIST')) as string;
  return list.split('\n').filter((l) => /name=migration-buddy/.test(l));
}

describe('migrate: every way a migration stops puts the source back', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mb-stops-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [i, stage] of STAGES.entries()) {
    it(stage.name, async (t) => {
      const [control, source, target] = await Promise.all([startRedis(), startRedis(), startRedis()]);
      const rt = await openRuntime({
        control: parseEndpointUrl(control.url, 'control'),
        logger: createLogger({ level: 'silent' }),
      });
      let cli: CliRun | undefined;
      let app: Awaited<ReturnType<typeof startApp>> | undefined;
      let stopped = false;
      try {
        const db = await source.client();
        const pipe = db.pipeline();
        for (let k = 0; k < 5000; k++) pipe.set(`key:${k}`, `value-${k}`);
        await pipe.exec();
        const endpointFile = join(dir, `app-${i}.url`);
        writeEndpointFile(endpointFile, source.url);
        app = await startApp({ endpointFile, rate: 300, dir });
        const config = join(dir, `stage-${i}.yml`);
        writeFileSync(
          config,
          `${[
            'endpoints:',
            `  src: { url: "${source.url}" }`,
            `  dst: { url: "${target.url}" }`,
            `control: { url: "${control.url}" }`,
            ...(stage.config ?? []),
            'hooks:',
            `  repoint: { command: "${repointHookCommand(endpointFile).replace(/"/g, '\\"')}", at: repoint }`,
            ...stage.hooks,
          ].join('\n')}\n`,
        );
        const gates = stage.scripted ? ['--approve-as', 'UBUDDY', '--confirm-as', 'UBUDDY'] : [];
        const args = ['migrate', 'src', 'dst', '-c', config, '--as', 'UREQ', '--buddy', 'UBUDDY'];
        const run = startCli([...args, ...gates, '--strategy', 'dump-restore']);
        cli = run;
        const id = (await run.seen(/migration (m[0-9a-z]+): /, 60_000))[1]!;
        if (!stage.scripted) {
          await run.seen(/"Copy the keys" needs approval/, 60_000);
          const m = (await rt.service.get(id))!;
          const copy = m.steps.find((s) => s.kind === 'bulk_copy')!;
          const res = await rt.service.approve(id, copy.id, 'UBUDDY', copy.hash);
          assert.ok(res.ok, res.ok ? '' : res.reason);
          if (stage.config) {
            await run.seen(/"Pause source writes" needs approval/, 60_000);
            const pause = (await rt.service.get(id))!.steps.find((s) => s.kind === 'write_pause')!;
            const ok = await rt.service.approve(id, pause.id, 'UBUDDY', pause.hash);
            assert.ok(ok.ok, ok.ok ? '' : ok.reason);
          }
        }
        let report: Awaited<ReturnType<typeof app.stop>> | undefined;
        if (stage.stopAppAt) {
          await run.seen(stage.stopAppAt, 90_000);
          report = await app.stop();
          stopped = true;
        }
        await run.seen(stage.when, 90_000);
        await stage.act?.({ cli: run, rt, migrationId: id, control, source });
        const t0 = Date.now();
        const bound = stage.exitBoundMs ?? EXIT_BOUND_MS;
        let timer: NodeJS.Timeout | undefined;
        const code = await Promise.race([
          run.exited,
          new Promise<'hung'>((r) => {
            timer = setTimeout(() => r('hung'), bound);
          }),
        ]);
        clearTimeout(timer);
        if (code === 'hung') {
          const names = async (srv: RedisServer) =>
            (await ownConnections(await srv.client())).map((l) => /name=(\S+)/.exec(l)?.[1]);
          t.diagnostic(`still connected: source ${await names(source)}, target ${await names(target)}`);
        }
        assert.notEqual(code, 'hung', `the CLI did not exit within ${bound} ms:\n${run.out()}`);
        t.diagnostic(`exited ${Date.now() - t0} ms after the stop, code ${code}`);
        assert.equal(code, stage.code, run.out());
        assert.match(run.out(), stage.says);

        // The source as it was: settings back, writes go through at once. (A new client: the
        // resume killed every application connection, ours too.)
        const src = await source.client();
        // After a success with the app stopped before the cutover, both servers hold the same data
        // (an independent comparison: test/harness/compare.ts).
        // A key whose TTL runs out during the comparison may be gone on one side only: such a
        // difference must be gone on a second look.
        if (stage.code === 0) {
          let diffs = await compareServers(source, target);
          if (diffs.length > 0) {
            await new Promise((r) => setTimeout(r, 2000));
            diffs = await compareServers(source, target);
          }
          assert.deepEqual(diffs, []);
        }
        assert.equal(((await src.config('GET', 'notify-keyspace-events')) as string[])[1], '');
        const began = Date.now();
        assert.equal(await src.set('probe:after-stop', '1'), 'OK');
        assert.ok(Date.now() - began < 1000, 'a write on the source waited: still paused?');
        const tgt = await target.client();
        assert.deepEqual(await ownConnections(src), [], 'connections of the CLI left on the source');
        assert.deepEqual(await ownConnections(tgt), [], 'connections of the CLI left on the target');

        // A failed or rejected migration can still be aborted (people say "not retrying" so).
        const ended = await rt.service.get(id);
        if (ended?.status === 'failed' || ended?.status === 'rejected') {
          const res = await rt.service.abort(id, 'UREQ', 'not retrying');
          assert.ok(res.ok, res.ok ? '' : res.reason);
          assert.equal(res.migration.status, 'aborted');
        }
        if (!report) {
          report = await app.stop();
          stopped = true;
        }
        assert.ok(report.acknowledged > 0, 'the app wrote');
        t.diagnostic(`app: ${report.acknowledged} writes acknowledged, longest wait ${report.maxWaitMs} ms`);
        const lines = await readAckLog(report.logFile);
        const srcAddr = `127.0.0.1:${source.port}`;
        const tgtAddr = `127.0.0.1:${target.port}`;
        const pausedSince = /source writes paused since (\S+?);/.exec(run.out())?.[1];
        const cutoff =
          stage.carried === 'all'
            ? Number.POSITIVE_INFINITY
            : stage.carried === 'none'
              ? 0
              : Date.parse(pausedSince ?? '');
        assert.ok(!Number.isNaN(cutoff), 'the pause start is in the output');
        const checks = [
          {
            what: 'acknowledged by the source, on the source',
            url: source.url,
            keep: (l: AckLine) => l.server === srcAddr,
          },
          {
            what: 'acknowledged by the target, on the target',
            url: target.url,
            keep: (l: AckLine) => l.server === tgtAddr,
          },
          {
            what: 'acknowledged by the source before the stop could matter, on the target',
            url: target.url,
            keep: (l: AckLine) => l.server === srcAddr && l.at < cutoff,
          },
        ];
        for (const [n, c] of checks.entries()) {
          const kept = lines.filter(c.keep);
          if (kept.length === 0) continue;
          const logFile = join(dir, `acks-${i}-${n}.jsonl`);
          writeFileSync(logFile, `${kept.map((l) => JSON.stringify(l)).join('\n')}\n`);
          const check = await checkAcknowledged({ ...report, logFile }, c.url);
          t.diagnostic(`${c.what}: ${check.checked} checked`);
          assert.ok(
            check.ok,
            `${c.what}: ${check.missing.length} of ${kept.length} missing: ${JSON.stringify(check.missing.slice(0, 5))}`,
          );
        }
        if (stage.carried === 'all') assert.equal(lines.filter((l) => l.server === tgtAddr).length, 0);
      } finally {
        if (cli && cli.child.exitCode === null) cli.child.kill('SIGKILL');
        if (app && !stopped) await app.stop().catch(() => undefined);
        await rt.close();
        for (const c of restarted) c.kill('SIGKILL');
        restarted.clear();
        await Promise.all([control.stop(), source.stop(), target.stop()]);
      }
    });
  }
});
