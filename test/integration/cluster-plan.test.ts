// Plans with a Redis Cluster of real servers on either side (the CLI in a child process), and the
// standalone copy and verify engines refusing a cluster node, changing nothing (the runbook's
// steps go across topologies instead: shard jobs, live sync on every primary).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterNodeError } from '../../src/engine/cluster/standalone-only.js';
import { copyKeys } from '../../src/engine/copy/index.js';
import { verify } from '../../src/engine/verify/index.js';
import type { Plan } from '../../src/planner/types.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { runCli } from '../harness/cli.js';
import { type RedisCluster, startCluster } from '../harness/redis-cluster.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

function planOf(run: { code: number | null; stdout: string; stderr: string }): Plan {
  try {
    return JSON.parse(run.stdout) as Plan;
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

const blockerCodes = (p: Plan) => p.blockers.map((b) => b.code).sort();

/** Keys on every primary, counted with plain clients. */
async function clusterKeys(cluster: RedisCluster): Promise<number> {
  let n = 0;
  for (const p of cluster.primaries) n += await (await p.server.client()).dbsize();
  return n;
}

describe('plans and refusals with a cluster', () => {
  let cluster: RedisCluster;
  let standalone: RedisServer;
  let empty: RedisServer;

  before(async () => {
    [cluster, standalone, empty] = await Promise.all([
      startCluster({ primaries: 3 }),
      startRedis(),
      startRedis(),
    ]);
    const c = await cluster.client();
    for (let i = 0; i < 90; i++) await c.set(`c:${i}`, String(i));
    const db0 = await standalone.client(0);
    for (let i = 0; i < 20; i++) await db0.set(`s:${i}`, String(i));
    const db3 = await standalone.client(3);
    for (let i = 0; i < 7; i++) await db3.set(`t:${i}`, String(i));
  });
  after(async () => {
    await Promise.all([cluster?.stop(), standalone?.stop(), empty?.stop()]);
  });

  test('standalone -> cluster: dump-restore is the candidate; db 3 is named as a blocker', async () => {
    const run = await runCli(['plan', standalone.url, cluster.url, '--replace', '--json']);
    assert.equal(run.code, 1, run.stderr);
    const plan = planOf(run);
    assert.equal(plan.strategy, null);
    assert.equal(plan.candidate, 'dump-restore');
    assert.deepEqual(blockerCodes(plan), ['cluster-target-db-zero-only']);
    assert.match(
      plan.blockers.find((b) => b.code === 'cluster-target-db-zero-only')!.message,
      /db 3: 7 keys/,
    );
    const replication = plan.assessments.find((a) => a.strategy === 'replication')!;
    assert.match(replication.reasons.join(';'), /target is a Redis Cluster: its nodes refuse REPLICAOF/);
    assert.match(
      plan.assessments.find((a) => a.strategy === 'migrate')!.reasons.join(';'),
      /MIGRATE executors move keys between two servers only/,
    );
  });

  test('standalone/0 -> cluster/0: db 0 maps to db 0, no blocker: dump-restore is planned', async () => {
    const run = await runCli(['plan', `${standalone.url}/0`, `${cluster.url}/0`, '--replace', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const plan = planOf(run);
    assert.deepEqual(blockerCodes(plan), []);
    assert.equal(plan.strategy, 'dump-restore');
    assert.equal(plan.estimates.keys, 20);
  });

  test('standalone/3 -> cluster/0: the chosen database maps to db 0, no db blocker', async () => {
    const run = await runCli(['plan', `${standalone.url}/3`, `${cluster.url}/0`, '--replace', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const plan = planOf(run);
    assert.deepEqual(blockerCodes(plan), []);
    assert.equal(plan.estimates.keys, 7);
  });

  test('cluster -> standalone: the whole cluster is counted, replication ruled out for the source', async () => {
    const run = await runCli(['plan', cluster.url, empty.url, '--json']);
    const plan = planOf(run);
    assert.equal(plan.candidate, 'dump-restore');
    assert.equal(plan.estimates.keys, 90);
    assert.deepEqual(blockerCodes(plan), []);
    assert.equal(plan.strategy, 'dump-restore');
    assert.match(
      plan.assessments.find((a) => a.strategy === 'replication')!.reasons.join(';'),
      /source is a Redis Cluster: a replica of one node receives only that primary/,
    );
  });

  test("the standalone copy and verify engines (the runbook's) refuse a cluster node and change nothing", async () => {
    // `copy`/`verify` on the command line and the runbook's steps go across topologies; the
    // standalone engines must never see one node of a cluster.
    await assert.rejects(
      copyKeys(parseEndpointUrl(cluster.url), parseEndpointUrl(empty.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
      }),
      (err: Error) => err instanceof ClusterNodeError && /nothing was done/.test(err.message),
    );
    assert.equal(await (await empty.client()).dbsize(), 0);

    await assert.rejects(
      copyKeys(parseEndpointUrl(`${standalone.url}/0`), parseEndpointUrl(cluster.url), {
        dbs: [0],
        onNonEmptyTarget: 'replace',
      }),
      ClusterNodeError,
    );
    assert.equal(await clusterKeys(cluster), 90);

    await assert.rejects(
      verify(parseEndpointUrl(cluster.url), parseEndpointUrl(empty.url), { dbs: 'all' }),
      ClusterNodeError,
    );
  });
});
