// What a benchmark child prints on its last stdout line, read back by bench/copy-bench.ts.
import { procCpuMs } from './proc-cpu.js';

export interface ChildResult {
  ok: boolean;
  error?: string;
  keys: number;
  durationMs: number;
  keysPerSecond: number;
  /** Peak resident set size of the child process (process.resourceUsage().maxRSS), bytes. */
  maxRssBytes: number;
  /**
   * CPU time of the child's work from /proc/self/stat (utime + stime + cutime + cstime), ms:
   * from `cpuAtStartMs` on, so loading the modules (tsx compiling them) is not counted.
   */
  cpuMs: number;
  report?: unknown;
}

export function printResult(result: Omit<ChildResult, 'maxRssBytes' | 'cpuMs'>, cpuAtStartMs = 0): void {
  const usage = process.resourceUsage();
  const out: ChildResult = {
    ...result,
    maxRssBytes: usage.maxRSS * 1024,
    cpuMs: procCpuMs('self') - cpuAtStartMs,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
