// The probe of a Redis Cluster of real servers: topology (shards, slot ranges, primaries and
// replicas), every primary probed with the endpoint's credentials, totals summed over primaries,
// and `migration-buddy probe` showing the shards (text and --json).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { probeEndpoint } from '../../src/probe/probe.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { runCli } from '../harness/cli.js';
import { evenSlotRanges, type RedisCluster, startCluster } from '../harness/redis-cluster.js';

describe('probe of a cluster', () => {
  const password = 'cluster-Probe-s3cret';
  let cluster: RedisCluster;
  /** Keys per primary, counted with plain clients (independent of the probe). */
  const keysOn = new Map<string, number>();
  before(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1, password });
    const c = await cluster.client();
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) await c.set(`k:${i}`, String(i), 'EX', 600);
      else await c.set(`k:${i}`, String(i));
    }
    // Replicas must have caught up before their keys are compared with the primaries'.
    for (const p of cluster.primaries) {
      const n = await (await p.server.client()).dbsize();
      keysOn.set(`${p.server.host}:${p.server.port}`, n);
      await (await p.server.client()).call('WAIT', '1', '5000');
    }
  });
  after(() => cluster?.stop());

  function check(result: ProbeResult, via: string): void {
    assert.equal(result.server.mode, 'cluster');
    const c = result.cluster;
    assert.ok(c, 'cluster section');
    assert.equal(c.probedVia, via);
    assert.equal(c.topologyFrom, 'CLUSTER SHARDS');
    assert.equal(c.shards.length, 3);
    assert.equal(c.unassignedSlots, 0);
    assert.deepEqual(
      c.shards.map((s) => s.slots),
      evenSlotRanges(3).map((r) => [r]),
    );
    for (const shard of c.shards) {
      const primary = cluster.primaries.find(
        (p) => `${p.server.host}:${p.server.port}` === shard.primary.address,
      );
      assert.ok(primary, `primary ${shard.primary.address} is one of the cluster's`);
      assert.equal(shard.primary.id, primary.id);
      assert.equal(shard.primary.facts.keys, keysOn.get(shard.primary.address));
      const replica = cluster.replicas.find((r) => r.primaryId === primary.id)!;
      assert.deepEqual(
        shard.replicas.map((r) => r.address),
        [`${replica.server.host}:${replica.server.port}`],
      );
    }
    assert.equal(result.totalKeys, 300);
    assert.equal(result.totalExpires, 100);
    assert.deepEqual(
      result.databases.map((d) => [d.db, d.keys]),
      [[0, 300]],
    );
    assert.equal(
      result.memory.usedBytes,
      c.shards.reduce((n, s) => n + s.primary.facts.usedBytes, 0),
    );
    assert.equal(result.commands.DUMP.available, true);
    assert.doesNotMatch(JSON.stringify(result), new RegExp(password));
  }

  it('through a primary: every shard, its slots, primary and replica; totals are sums over primaries', async () => {
    const p = cluster.primaries[1]!.server;
    const result = await probeEndpoint(parseEndpointUrl(p.url));
    check(result, `${p.host}:${p.port}`);
  });

  it('through a replica: the same cluster (the replica only names it)', async () => {
    const r = cluster.replicas[0]!.server;
    const result = await probeEndpoint(parseEndpointUrl(r.url));
    assert.equal(result.replication.role, 'replica');
    check(result, `${r.host}:${r.port}`);
  });

  it('with a wrong password: exit with the reason, not a partial cluster', async () => {
    const p = cluster.primaries[0]!.server;
    await assert.rejects(
      probeEndpoint(parseEndpointUrl(`redis://:wrong@${p.host}:${p.port}`)),
      /authentication failed|WRONGPASS|invalid/i,
    );
  });

  it('the CLI shows the shards with slot ranges, primaries and replicas (text and --json)', async () => {
    const text = await runCli(['probe', cluster.url]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /Cluster \(3 shards, from CLUSTER SHARDS; keys and memory .* sums over the primaries\)/,
    );
    for (const p of cluster.primaries) {
      const r = cluster.replicas.find((x) => x.primaryId === p.id)!;
      assert.match(
        text.stdout,
        new RegExp(`${p.server.host}:${p.server.port} .* ${r.server.host}:${r.server.port}`),
      );
    }
    assert.match(text.stdout, /0-5460 \(5,461\)/);
    assert.doesNotMatch(text.stdout + text.stderr, new RegExp(password));
    const json = await runCli(['probe', cluster.url, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as ProbeResult;
    assert.equal(parsed.cluster?.shards.length, 3);
    assert.equal(parsed.totalKeys, 300);
  });
});

describe('probe of a cluster with a primary down', () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await startCluster({ primaries: 3 });
  });
  after(() => cluster?.stop());

  it('names the primary it cannot reach and says every primary must be reachable', async () => {
    const down = cluster.primaries[2]!.server;
    down.kill();
    await assert.rejects(probeEndpoint(parseEndpointUrl(cluster.primaries[0]!.server.url)), (err: Error) => {
      assert.match(err.message, new RegExp(`cannot probe primary ${down.host}:${down.port} of cluster`));
      assert.match(err.message, /Every primary must be reachable from here/);
      return true;
    });
  });
});
