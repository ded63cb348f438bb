// The ops examples stay true to the code: the Grafana dashboard queries only metrics the process
// exports, and the Kubernetes example wires the ops listener to the probes and gives the control
// Redis an append-only file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { METRIC_PREFIX, OpsMetrics } from '../../../src/ops/metrics.js';

describe('ops examples', () => {
  test('the Grafana dashboard queries only metrics that exist', () => {
    const exported = new Set(new OpsMetrics().registry.getMetricsAsArray().map((m) => m.name as string));
    const used = new Set(
      [...readFileSync('examples/grafana-dashboard.json', 'utf8').matchAll(/migration_buddy_[a-z_]+/g)].map(
        (m) => m[0].replace(/_(bucket|count|sum)$/, ''),
      ),
    );
    assert.ok(used.size >= 10, `${used.size} metrics used`);
    for (const name of used) assert.ok(exported.has(name), `${name} is not exported`);
    for (const name of exported) assert.ok(name.startsWith(METRIC_PREFIX), name);
  });

  test('Kubernetes: serve and N workers probe /healthz and /readyz on the ops port; the control Redis has AOF', () => {
    const docs = parseAllDocuments(readFileSync('examples/deploy/kubernetes.yml', 'utf8')).map((d) =>
      d.toJS(),
    );
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), [
      'migration-buddy-serve',
      'migration-buddy-worker',
    ]);
    for (const d of deployments) {
      const [c] = d.spec.template.spec.containers;
      const port = c.env.find((e: { name: string }) => e.name === 'OPS_PORT').value;
      assert.equal(c.ports.find((p: { name: string }) => p.name === 'ops').containerPort, Number(port));
      assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'ops' });
      assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'ops' });
      assert.ok(['serve', 'worker'].includes(c.command[2]), c.command.join(' '));
    }
    const control = docs.find((d) => d.kind === 'StatefulSet');
    const args: string[] = control.spec.template.spec.containers[0].args;
    assert.equal(args[args.indexOf('--appendonly') + 1], 'yes');
    assert.equal(args[args.indexOf('--maxmemory-policy') + 1], 'noeviction');
  });
});
