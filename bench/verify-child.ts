// Benchmark child: runs verify alone in its own process so its peak RSS is the verifier's.
//   tsx bench/verify-child.ts <source-url> <target-url> [auto|digest]
import { verify } from '../src/engine/verify/index.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { printResult } from './child-output.js';
import { procCpuMs } from './proc-cpu.js';

const [sourceUrl, targetUrl, compareBy = 'auto'] = process.argv.slice(2);
if (!sourceUrl || !targetUrl)
  throw new Error('usage: verify-child.ts <source-url> <target-url> [auto|digest]');
const cpuAtStart = procCpuMs('self');
const started = Date.now();
try {
  const report = await verify(parseEndpointUrl(sourceUrl, 'source'), parseEndpointUrl(targetUrl, 'target'), {
    dbs: 'all',
    compareBy: compareBy === 'digest' ? 'digest' : 'auto',
  });
  printResult(
    {
      ok: report.identical,
      ...(report.identical ? {} : { error: `${report.differentKeys} keys differ` }),
      keys: report.keysChecked,
      durationMs: Date.now() - started,
      keysPerSecond: report.keysPerSecond,
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
