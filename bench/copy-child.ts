// Benchmark child: runs copyKeys alone in its own process so its peak RSS is the copier's.
//   tsx bench/copy-child.ts <source-url> <target-url> [auto|always]   (size probe)
import { copyKeys } from '../src/engine/copy/index.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { printResult } from './child-output.js';
import { procCpuMs } from './proc-cpu.js';

const [sourceUrl, targetUrl, sizeProbe = 'auto'] = process.argv.slice(2);
if (!sourceUrl || !targetUrl) throw new Error('usage: copy-child.ts <source-url> <target-url>');
const cpuAtStart = procCpuMs('self');
const started = Date.now();
try {
  const report = await copyKeys(
    parseEndpointUrl(sourceUrl, 'source'),
    parseEndpointUrl(targetUrl, 'target'),
    {
      dbs: 'all',
      onNonEmptyTarget: 'refuse',
      sizeProbe: sizeProbe === 'always' ? 'always' : 'auto',
    },
  );
  const durationMs = Date.now() - started;
  printResult(
    {
      ok: report.complete && report.keysFailed === 0,
      keys: report.keysCopied,
      durationMs,
      keysPerSecond: Math.round((report.keysCopied * 1000) / Math.max(1, durationMs)),
      report,
    },
    cpuAtStart,
  );
} catch (err) {
  printResult(
    {
      ok: false,
      error: (err as Error).message,
      keys: 0,
      durationMs: Date.now() - started,
      keysPerSecond: 0,
    },
    cpuAtStart,
  );
}
