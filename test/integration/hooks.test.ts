// Hooks as runbook steps: command hooks (environment, captured and scrubbed output, failure,
// timeout with the process group killed) and webhooks (HMAC-signed POST checked by a local
// receiver, a 500 failing the step), and the repoint step running its hook.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hooksSchema } from '../../src/config/schema.js';
import {
  hookStepExecutor,
  placeHooks,
  repointExecutor,
  verifyWebhookSignature,
} from '../../src/hooks/index.js';
import type { Plan, PlannedStep } from '../../src/planner/types.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { ExecutorRegistry } from '../../src/runbook/step-executor.js';
import { RunbookHarness } from './replication-support.js';

const SOURCE_PW = 'hook-source-pw-31337';
const WEBHOOK_SECRET = 'hook-hmac-secret-777';
let dir: string;
let server: Server;
let baseUrl: string;
const received: { headers: IncomingMessage['headers']; body: string; signatureOk: boolean }[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mb-hooks-'));
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const ts = String(req.headers['x-mb-timestamp'] ?? '');
      const sig = String(req.headers['x-mb-signature'] ?? '');
      const signatureOk = verifyWebhookSignature(WEBHOOK_SECRET, ts, body, sig);
      received.push({ headers: req.headers, body, signatureOk });
      if (req.url === '/fail') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('deploy pipeline exploded');
        return;
      }
      res.writeHead(signatureOk ? 200 : 401, { 'content-type': 'text/plain' });
      res.end(signatureOk ? 'repointed' : 'bad signature');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const endpoints = {
  source: parseEndpointUrl(`redis://app:${SOURCE_PW}@127.0.0.1:6390/2`, 'old-cache'),
  target: parseEndpointUrl('rediss://new.example:6380/0', 'new-cache'),
};

const baseSteps: PlannedStep[] = [
  {
    id: '1-preflight',
    kind: 'preflight',
    title: 'Preflight',
    description: '',
    needsApproval: false,
    irreversible: false,
    params: { strategy: 'replication' },
  },
  {
    id: '2-repoint',
    kind: 'repoint',
    title: 'Repoint',
    description: '',
    needsApproval: false,
    irreversible: false,
    params: { strategy: 'replication', hook: 'repoint' },
  },
];

function harness(hooks: Record<string, unknown>) {
  const config = hooksSchema.parse(hooks);
  const steps = placeHooks(baseSteps, { hooks: config });
  const plan = { strategy: 'replication', steps } as unknown as Plan;
  const options = { hooks: config, run: { killGraceMs: 200 } };
  const registry = new ExecutorRegistry()
    .register('hook', hookStepExecutor(options))
    .register('repoint', repointExecutor(options));
  return new RunbookHarness(plan, endpoints, registry);
}

/** Running (a killed child may linger as a zombie until something reaps it: that counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

describe('hooks', () => {
  it('a command hook gets the migration in MB_* variables; its output is captured and scrubbed', async () => {
    const envFile = join(dir, 'env.txt');
    const h = harness({
      maint_on: {
        command: `printenv MB_SOURCE_URL > ${envFile}; echo "url=$MB_SOURCE_URL redacted=$MB_SOURCE_URL_REDACTED target=$MB_TARGET_NAME step=$MB_STEP migration=$MB_MIGRATION_ID point=$MB_HOOK_POINT"; echo warming up >&2`,
        at: 'before_start',
      },
    });
    const step = h.migration.steps.find((s) => s.kind === 'hook')!;
    assert.equal(step.id, 'hook-before_start-maint_on');
    const r = await h.run(step.id);
    assert.ifError(r.error);
    assert.notEqual(r.outcome!.verdict, 'failed', r.outcome!.summary);
    // The unredacted URL really was in the environment...
    assert.equal(readFileSync(envFile, 'utf8').trim(), `redis://app:${SOURCE_PW}@127.0.0.1:6390/2`);
    // ...but never leaves in the captured output.
    const event = h.events.find((e) => e.type === 'note')!;
    const stdout = String(event.data!.stdout);
    assert.ok(!stdout.includes(SOURCE_PW), stdout);
    assert.match(stdout, /url=redis:\/\/app:\*\*\*@127\.0\.0\.1:6390\/2/);
    assert.match(stdout, /redacted=redis:\/\/app:\*\*\*@127\.0\.0\.1:6390\/2/);
    assert.match(stdout, /target=new-cache/);
    assert.match(stdout, new RegExp(`step=${step.id} migration=${h.migration.id} point=before_start`));
    assert.match(String(event.data!.stderr), /warming up/);
    assert.ok(!JSON.stringify(r.outcome!.result).includes(SOURCE_PW));
  });

  it('a non-zero exit fails the step with its output', async () => {
    const h = harness({
      broken: { command: 'echo "deploying"; echo "no such service" >&2; exit 3', at: 'end' },
    });
    const r = await h.run('hook-end-broken');
    assert.equal(r.outcome?.verdict, 'failed');
    assert.match(r.outcome!.summary, /exited with code 3/);
    assert.match(r.outcome!.summary, /no such service/);
    assert.equal(r.outcome!.result!.exitCode, 3);
  });

  it('a hook that runs too long is killed with its whole process group', async () => {
    const pids = join(dir, 'pids.txt');
    const h = harness({
      slow: { command: `sleep 30 & echo "$$ $!" > ${pids}; wait`, timeout: 300, at: 'before_cutover' },
    });
    const r = await h.run('hook-before_cutover-slow');
    assert.equal(r.outcome?.verdict, 'failed');
    assert.match(r.outcome!.summary, /timed out after 0\.3 s; its process group was killed/);
    assert.equal(alive(process.pid), true, 'alive() sees a running process');
    const [shell, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    assert.equal(alive(shell!), false, 'the shell is gone');
    assert.equal(alive(child!), false, 'the background sleep is gone');
  });

  it('a webhook POSTs a signed JSON body without credentials', async () => {
    received.length = 0;
    const h = harness({ notify: { url: `${baseUrl}/hook`, secret: WEBHOOK_SECRET, at: 'after_repoint' } });
    const r = await h.run('hook-after_repoint-notify');
    assert.ifError(r.error);
    assert.notEqual(r.outcome!.verdict, 'failed', r.outcome!.summary);
    assert.equal(received.length, 1);
    assert.equal(received[0]!.signatureOk, true);
    const body = JSON.parse(received[0]!.body);
    assert.equal(body.migrationId, h.migration.id);
    assert.equal(body.point, 'after_repoint');
    assert.equal(body.source.name, 'old-cache');
    assert.ok(!received[0]!.body.includes(SOURCE_PW));
    assert.equal(r.outcome!.result!.status, 200);
    assert.equal(r.outcome!.result!.stdout, 'repointed');
  });

  it('a webhook answering 500 fails the step with the response', async () => {
    const h = harness({ deploy: { url: `${baseUrl}/fail`, at: 'after_cutover' } });
    const r = await h.run('hook-after_cutover-deploy');
    assert.equal(r.outcome?.verdict, 'failed');
    assert.match(r.outcome!.summary, /answered HTTP 500/);
    assert.match(r.outcome!.summary, /deploy pipeline exploded/);
  });

  it('the repoint step runs the repoint hook, or waits for a person without one', async () => {
    received.length = 0;
    const withHook = harness({
      flip: { url: `${baseUrl}/flip`, secret: WEBHOOK_SECRET, at: 'repoint', gated: true },
    });
    assert.equal(withHook.step('repoint').needsApproval, true, 'a gated repoint hook gates the step');
    const r = await withHook.run('repoint');
    assert.ifError(r.error);
    assert.equal(r.outcome!.awaitConfirmation, undefined);
    assert.equal(r.outcome!.result!.method, 'hook');
    assert.equal(received.length, 1);

    const without = harness({});
    const waiting = await without.run('repoint');
    assert.match(waiting.outcome!.awaitConfirmation ?? '', /point the apps at new-cache/);
    const confirmed = await without.run('repoint', { confirmedBy: 'UBUDDY' });
    assert.match(confirmed.outcome!.summary, /UBUDDY confirmed/);
  });
});
