// What a benchmark child prints on its last stdout line, read back by bench/copy-bench.ts.
export interface ChildResult {
  ok: boolean;
  error?: string;
  keys: number;
  durationMs: number;
  keysPerSecond: number;
  /** Peak resident set size of the child process (process.resourceUsage().maxRSS), bytes. */
  maxRssBytes: number;
  /** Node CPU time of the child (user + system), ms. */
  cpuMs: number;
  report?: unknown;
}

export function printResult(result: Omit<ChildResult, 'maxRssBytes' | 'cpuMs'>): void {
  const usage = process.resourceUsage();
  const out: ChildResult = {
    ...result,
    maxRssBytes: usage.maxRSS * 1024,
    cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
