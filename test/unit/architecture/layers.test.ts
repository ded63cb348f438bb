// The layers of docs/ARCHITECTURE.md, checked on the import graph of src/: the edges (Slack, CLI,
// jobs) call the domain and the domain imports none of them; the mechanisms in src/engine know no
// runbook; the planner lists the strategies, which never call the planner back.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cycles, type ImportEdge, importGraph } from './imports.js';

const { files, edges } = importGraph();
const area = (path: string) => (path.startsWith('src/') ? path.split('/')[1]! : path);
const offending = (from: (f: string) => boolean, to: (t: string) => boolean) =>
  edges.filter((e) => from(e.from) && to(e.to)).map((e) => `${e.from} -> ${e.to}`);
const inArea =
  (...areas: string[]) =>
  (path: string) =>
    areas.includes(area(path));

const DOMAIN = [
  'config',
  'engine',
  'hooks',
  'planner',
  'probe',
  'redis',
  'runbook',
  'strategies',
  'usecases',
  'util',
];
const EDGES = ['slack', 'jobs', 'cli', 'ops'];

describe('layers', () => {
  test('reads the whole tree', () => {
    assert.ok(files.length > 200, `${files.length} files`);
    assert.ok(edges.some((e) => e.to === 'bullmq'));
  });

  test('the domain imports no edge: no Slack, no BullMQ, no CLI', () => {
    assert.deepEqual(
      offending(
        inArea(...DOMAIN),
        (t) => inArea(...EDGES)(t) || t === 'bullmq' || t.startsWith('@slack/') || t === 'commander',
      ),
      [],
    );
  });

  test('the mechanisms (src/engine) import no runbook, strategy, planner or hook code', () => {
    assert.deepEqual(
      offending(inArea('engine'), inArea('runbook', 'strategies', 'planner', 'hooks', 'usecases')),
      [],
    );
  });

  test('the runbook knows no strategy: it runs whatever executor the registry gives it', () => {
    assert.deepEqual(offending(inArea('runbook'), inArea('strategies', 'usecases', 'hooks')), []);
  });

  test('only the planner lists the strategies, and no strategy calls the planner back', () => {
    assert.deepEqual(offending(inArea('planner'), inArea('strategies', 'runbook')), [
      'src/planner/plan.ts -> src/strategies/index.ts',
    ]);
    assert.deepEqual(
      offending(inArea('strategies'), (t) => t === 'src/planner/plan.ts'),
      [],
    );
  });

  test('jobs and Slack do not import the CLI; jobs do not import Slack', () => {
    assert.deepEqual(offending(inArea('jobs', 'slack'), inArea('cli')), []);
    assert.deepEqual(offending(inArea('jobs'), inArea('slack')), []);
  });

  test('metrics and the dashboard live in src/ops: nothing else imports prom-client or bull-board, nor ops', () => {
    const opsLibrary = (t: string) => t === 'prom-client' || t.startsWith('@bull-board/');
    assert.deepEqual(
      offending((f) => !inArea('ops')(f), opsLibrary),
      [],
    );
    assert.ok(edges.some((e) => e.to === 'prom-client'));
    assert.deepEqual(offending(inArea(...DOMAIN, 'jobs', 'slack'), inArea('ops')), []);
  });

  test('no import cycle among the modules (type-only imports aside)', () => {
    assert.deepEqual(cycles(edges.filter((e: ImportEdge) => !e.typeOnly)), []);
  });
});

describe('the import graph reader', () => {
  test('finds a cycle and an edge that breaks a rule', () => {
    const made: ImportEdge[] = [
      { from: 'src/a.ts', to: 'src/b.ts', typeOnly: false },
      { from: 'src/b.ts', to: 'src/a.ts', typeOnly: false },
    ];
    assert.deepEqual(cycles(made), [['src/a.ts', 'src/b.ts', 'src/a.ts']]);
    assert.ok(edges.some((e) => e.from === 'src/jobs/runtime.ts' && e.to === 'bullmq'));
  });
});
