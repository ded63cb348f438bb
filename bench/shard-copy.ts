// The per-shard copy (engine/cluster/shards.ts copyShard, every shard in turn) against the first
// cross-topology copy (copy-across.ts: DUMP/RESTORE only) on one dataset, cluster (3 shards) ->
// cluster (2 shards), in this process: keys/s of each and their ratio within the run, and CPU per
// key of the copier (process.cpuUsage) and of the servers (/proc/<pid>/stat). Usage:
//   npx tsx bench/shard-copy.ts [keys=100000]
import { readFileSync } from 'node:fs';
import { copyAcrossTopologies } from '../src/engine/cluster/copy-across.js';
import { copyShard, listSourceShards } from '../src/engine/cluster/shards.js';
import { keySlot } from '../src/engine/cluster/slot.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { createLogger } from '../src/util/logger.js';
import { evenSlotRanges, type RedisCluster, startCluster } from '../test/harness/redis-cluster.js';

const keys = Number(process.argv[2] ?? 100_000);

/** CPU seconds (user + system, children included) a live process has used, from /proc/<pid>/stat. */
function procCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 3, so utime..cstime (14..17) are at 11..14 here.
  const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i]), 0);
  return ticks / 100;
}

const serversCpu = (clusters: RedisCluster[]) =>
  clusters.flatMap((c) => c.primaries).reduce((n, p) => n + procCpu(p.server.pid), 0);
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function main(): Promise<void> {
  const [src, dst] = await Promise.all([startCluster({ primaries: 3 }), startCluster({ primaries: 2 })]);
  try {
    const ranges = evenSlotRanges(3);
    const clients = await Promise.all(src.primaries.map((p) => p.server.client()));
    for (let start = 0; start < keys; start += 10_000) {
      const pipes = clients.map((c) => c.pipeline());
      for (let i = start; i < Math.min(keys, start + 10_000); i++) {
        const k = `bench:${i}`;
        const s = keySlot(k);
        pipes[ranges.findIndex(([a, b]) => s >= a && s <= b)]!.set(k, `value-${i}-${'x'.repeat(50)}`);
      }
      await Promise.all(pipes.map((p) => p.exec()));
    }
    const source = parseEndpointUrl(`${src.url}/0`);
    const target = parseEndpointUrl(`${dst.url}/0`);
    const flush = async () => {
      for (const p of dst.primaries) await (await p.server.client()).flushall();
    };
    const measure = async (run: () => Promise<number>) => {
      const [t, c, s] = [performance.now(), selfCpu(), serversCpu([src, dst])];
      const copied = await run();
      const seconds = (performance.now() - t) / 1000;
      const out = {
        keysPerSecond: Math.round(copied / seconds),
        copierUsPerKey: ((selfCpu() - c) / copied) * 1e6,
        serversUsPerKey: ((serversCpu([src, dst]) - s) / copied) * 1e6,
        seconds,
      };
      await flush();
      return out;
    };
    for (const round of [1, 2]) {
      const first = await measure(
        async () => (await copyAcrossTopologies(source, target, { batchSize: 500, replace: true })).copied,
      );
      const shards = await measure(async () => {
        let copied = 0;
        for (const shard of await listSourceShards(source)) {
          const r = await copyShard({
            source,
            target,
            shard,
            mapping: { dbs: [0] },
            replace: true,
            logger: createLogger({ level: 'silent' }),
          });
          copied += r.copied;
        }
        return copied;
      });
      const line = (name: string, m: typeof first) =>
        `${name}: ${m.keysPerSecond} keys/s, copier ${m.copierUsPerKey.toFixed(1)} us/key, servers ${m.serversUsPerKey.toFixed(1)} us/key`;
      console.log(
        `round ${round}, ${keys} keys, 3 -> 2 shards | ${line('copy-across', first)} | ${line('copyShard', shards)} | speed ratio copyShard/copy-across ${(first.seconds / shards.seconds).toFixed(2)}`,
      );
    }
  } finally {
    await Promise.all([src.stop(), dst.stop()]);
  }
}

await main();
