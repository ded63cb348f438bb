// What each candidate big-key guard costs the source per key, on the bench dataset: every key is
// asked one command (pipelined, 1,000 at a time) and the source's CPU (/proc/<pid>/stat) and
// INFO commandstats are read around each pass. Passes alternate over several rounds, so a change
// in the machine's load hits every candidate alike.
//
//   npx tsx bench/guard-cost.ts [--keys 200000] [--rounds 3]
import { parseArgs } from 'node:util';
import { RespConnection } from '../src/engine/resp/connection.js';
import { commandTemplate } from '../src/engine/resp/encoder.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { startRedis } from '../test/harness/redis-server.js';
import { loadDataset } from './dataset.js';
import { procCpuMs } from './proc-cpu.js';

const { values } = parseArgs({
  options: { keys: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '3' } },
});
const total = Number(values.keys);
const CANDIDATES: Record<string, string[]> = {
  PTTL: ['PTTL'],
  'MEMORY USAGE': ['MEMORY', 'USAGE'],
  'MEMORY USAGE SAMPLES 1': ['MEMORY', 'USAGE'],
  'OBJECT ENCODING': ['OBJECT', 'ENCODING'],
  TYPE: ['TYPE'],
  STRLEN: ['STRLEN'],
  DUMP: ['DUMP'],
};

const server = await startRedis();
try {
  await loadDataset(server, { keys: total, seed: 42 });
  const conn = await RespConnection.open(parseEndpointUrl(server.url, 'source'));
  const keys: Buffer[] = [];
  let cursor = '0';
  do {
    const [reply] = await conn.exec([['SCAN', cursor, 'COUNT', 1000]]);
    const [next, page] = reply as [Buffer, Buffer[]];
    cursor = next.toString();
    keys.push(...page);
  } while (cursor !== '0');
  const cpu: Record<string, number[]> = {};
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, words] of Object.entries(CANDIDATES)) {
      const template = name.endsWith('SAMPLES 1')
        ? commandTemplate(words, 1, ['SAMPLES', '1'])
        : commandTemplate(words, 1);
      const before = procCpuMs(server.pid);
      for (let at = 0; at < keys.length; at += 1000) {
        const page = keys.slice(at, at + 1000);
        await conn.execEncoded(page.length, (enc) => {
          for (const k of page) enc.pushTemplate(template, k);
        });
      }
      const runs = cpu[name] ?? [];
      runs.push(((procCpuMs(server.pid) - before) * 1000) / keys.length);
      cpu[name] = runs;
    }
  }
  const [stats] = await conn.exec([['INFO', 'commandstats']]);
  conn.close();
  process.stdout.write(`source CPU us/key per pass (${keys.length} keys; min, then each round):\n`);
  for (const [name, runs] of Object.entries(cpu)) {
    process.stdout.write(
      `  ${name.padEnd(24)} ${Math.min(...runs).toFixed(2)}   (${runs.map((r) => r.toFixed(2)).join(', ')})\n`,
    );
  }
  process.stdout.write(`commandstats (usec_per_call, inside the command):\n`);
  for (const m of String(stats).matchAll(/^cmdstat_([^:]+):.*usec_per_call=([\d.]+)/gm))
    process.stdout.write(`  ${m[1]} ${m[2]}\n`);
} finally {
  await server.stop();
}
