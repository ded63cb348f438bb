import type { Command } from 'commander';
import { eitherIsCluster } from '../../engine/cluster/nodes.js';
import { dbMapping } from '../../engine/db-mapping.js';
import {
  DEFAULT_TTL_TOLERANCE_MS,
  DIFFERENCE_CLASSES,
  type VerifyOptions,
  type VerifyProgress,
  type VerifyReport,
  verify,
} from '../../engine/verify/index.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { action, addGlobalOptions, type CliContext } from '../context.js';
import { addDeprecatedAlias } from '../options/deprecated-alias.js';
import { parseBytes, parseDbs } from '../options/values.js';
import {
  addProgressOption,
  fmtInt,
  type ProgressMode,
  type ProgressState,
  progressRendererFor,
  sizeProbeLine,
} from '../progress.js';
import { runVerifyAcrossCli } from './verify-across.js';

interface VerifyCliOptions {
  db?: string;
  match?: string;
  sample?: string;
  ttlTolerance: string;
  recheckRounds?: string;
  recheckDelay?: string;
  compareBy: string;
  examples?: string;
  bigKeyThreshold?: string;
  sizeProbe?: boolean;
  progress?: ProgressMode;
}

export function registerVerifyCommand(program: Command): void {
  const cmd = program
    .command('verify')
    .description(
      'Compare target with source in both directions: missing and extra keys, types, values, TTLs. ' +
        'Exit code 0 when identical, 1 when different, 2 on error',
    )
    .argument('<source>', 'endpoint name from the config, or a redis:// URL')
    .argument('<target>', 'endpoint name from the config, or a redis:// URL')
    .option(
      '--db <list>',
      'databases: all (those with keys on either side, the default) or e.g. 0,3; not with a database in ' +
        "the URLs (redis://host:port/3 compares the source's db 3 with the target URL's database)",
    )
    .option('--match <pattern>', 'only keys matching this glob (SCAN MATCH)')
    .option('--sample <n>', 'check n random keys instead of all of them (a quick answer for big datasets)')
    .option(
      '--ttl-tolerance <ms>',
      'expiry times further apart than this are a difference. Expiries are read as absolute times ' +
        '(PEXPIRETIME, Redis >= 7.0) with the clock offset between the servers measured and allowed ' +
        'for, or as PTTLs bounded by when each was read, so the moment of reading is never a ' +
        `difference. ${DEFAULT_TTL_TOLERANCE_MS} ms, the default, is twice the worst drift measured ` +
        'between source and target expiries after a copy on a loaded machine (99-233 ms)',
      String(DEFAULT_TTL_TOLERANCE_MS),
    )
    .option(
      '--recheck-rounds <n>',
      'read differing keys again this many times before reporting them (default 3)',
    )
    .option('--recheck-delay <ms>', 'pause before each re-check round (default 1000)')
    .option('--compare-by <how>', 'auto (DUMP payloads when comparable) or digest (always by type)', 'auto')
    .option('--examples <n>', 'keys listed per difference class in the report (default 10)')
    .option(
      '--big-key-threshold <bytes>',
      'keys using more memory than this on the source are compared chunk by chunk, not dumped ' +
        '(e.g. 8MiB, the default; 0 never checks sizes)',
    )
    .option(
      '--size-probe',
      'MEMORY USAGE on the source before every DUMP (slower; by default only when maxmemory on ' +
        'either side leaves too little room for a big DUMP)',
    );
  // --samples was easy to mistake for --sample (which checks N random keys).
  addDeprecatedAlias(cmd, 'samples', 'examples', '--sample N checks N random keys');
  addProgressOption(cmd);
  addGlobalOptions(cmd);
  cmd.action(action(runVerify));
}

function nonNegativeInt(text: string, option: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UserError(`${option} must be a whole number`);
  return Number(text);
}

export function verifyOptionsFromCli(
  opts: VerifyCliOptions,
  source: Pick<Endpoint, 'urlDb'>,
  target: Pick<Endpoint, 'urlDb'>,
): VerifyOptions {
  const mapping = dbMapping(source, target, opts.db === undefined ? undefined : parseDbs(opts.db));
  const options: VerifyOptions = {
    dbs: mapping.dbs,
    ...(mapping.remap ? { remap: mapping.remap } : {}),
    ttlToleranceMs: nonNegativeInt(opts.ttlTolerance, '--ttl-tolerance'),
  };
  if (opts.match) options.match = opts.match;
  if (opts.sample !== undefined) {
    options.sample = nonNegativeInt(opts.sample, '--sample');
    if (options.sample < 1) throw new UserError('--sample must be at least 1');
  }
  if (opts.recheckRounds !== undefined)
    options.recheckRounds = nonNegativeInt(opts.recheckRounds, '--recheck-rounds');
  if (opts.recheckDelay !== undefined)
    options.recheckDelayMs = nonNegativeInt(opts.recheckDelay, '--recheck-delay');
  if (opts.examples !== undefined) options.maxSamplesPerClass = nonNegativeInt(opts.examples, '--examples');
  if (opts.bigKeyThreshold !== undefined) {
    options.bigKeyThresholdBytes =
      opts.bigKeyThreshold.trim() === '0' ? 0 : parseBytes(opts.bigKeyThreshold, '--big-key-threshold');
  }
  if (opts.compareBy !== 'auto' && opts.compareBy !== 'digest') {
    throw new UserError(`--compare-by must be auto or digest`);
  }
  options.compareBy = opts.compareBy;
  if (opts.sizeProbe) options.sizeProbe = 'always';
  return options;
}

async function runVerify(
  ctx: CliContext,
  sourceName: string,
  targetName: string,
  opts: VerifyCliOptions,
): Promise<number> {
  const source = ctx.endpoint(sourceName, 'the source');
  const target = ctx.endpoint(targetName, 'the target');
  const options = verifyOptionsFromCli(opts, source, target);
  if (await eitherIsCluster(source, target)) {
    const given: [unknown, string][] = [
      [opts.sample, '--sample'],
      [opts.recheckRounds, '--recheck-rounds'],
      [opts.recheckDelay, '--recheck-delay'],
      [opts.compareBy === 'digest' ? true : undefined, '--compare-by digest'],
      [opts.bigKeyThreshold, '--big-key-threshold'],
      [opts.sizeProbe, '--size-probe'],
    ];
    return runVerifyAcrossCli(
      ctx,
      source,
      target,
      { dbs: options.dbs, ...(options.remap ? { remap: options.remap } : {}) },
      {
        ...(options.match ? { match: options.match } : {}),
        ttlToleranceMs: options.ttlToleranceMs ?? DEFAULT_TTL_TOLERANCE_MS,
        ...(options.maxSamplesPerClass !== undefined ? { samples: options.maxSamplesPerClass } : {}),
        ...(opts.progress ? { progress: opts.progress } : {}),
        unsupported: given.filter(([v]) => v !== undefined).map(([, flag]) => flag),
      },
    );
  }

  const renderer = progressRendererFor(opts.progress);
  options.onProgress = (p) => renderer.update(toProgressState(p));

  const controller = new AbortController();
  options.signal = controller.signal;
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let report: VerifyReport;
  try {
    report = await verify(source, target, options);
  } catch (err) {
    if (controller.signal.aborted) throw new UserError('verification interrupted');
    throw err;
  } finally {
    renderer.finish();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (ctx.json) ctx.printJson({ event: 'report', ...report });
  else ctx.print(formatVerifyReport(report, describeEndpoint(source), describeEndpoint(target)));
  return report.identical ? ExitCode.ok : ExitCode.problem;
}

function toProgressState(p: VerifyProgress): ProgressState {
  const detail: string[] = [];
  if (p.db !== null) detail.push(`db${p.db}`);
  if (p.differences > 0) detail.push(`${fmtInt(p.differences)} differing`);
  if (p.phase === 'recheck') detail.push(`re-check ${p.recheckRound}: ${fmtInt(p.recheckKeys ?? 0)} keys`);
  return {
    phase: p.phase,
    done: p.keysChecked,
    total: p.totalKeys,
    rate: p.keysPerSecond,
    etaSeconds: p.etaSeconds,
    detail: detail.join(', '),
    data: { db: p.db, differences: p.differences, elapsedMs: p.elapsedMs },
  };
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** Human summary: verdict, per-db counts, a table per difference class, samples. */
export function formatVerifyReport(r: VerifyReport, source: string, target: string): string {
  const seconds = (r.durationMs / 1000).toFixed(1);
  const what = r.sampled
    ? `${fmtInt(r.keysChecked)} random keys sampled`
    : `${fmtInt(r.keysChecked)} keys checked`;
  const lines = [
    r.identical
      ? `IDENTICAL: ${target} matches ${source}`
      : `DIFFERENT: ${fmtInt(r.differentKeys)} keys differ between ${source} and ${target}`,
    `  ${what} in ${seconds} s (${fmtInt(r.keysPerSecond)} keys/s)`,
    '',
    `  ${pad('database', 10)}${pad('source keys', 14, true)}${pad('target keys', 14, true)}`,
  ];
  for (const d of r.dbs) {
    lines.push(
      `  ${pad(d.targetDb !== undefined ? `db${d.db}->${d.targetDb}` : `db${d.db}`, 10)}${pad(fmtInt(d.sourceKeys), 14, true)}${pad(fmtInt(d.targetKeys), 14, true)}`,
    );
  }
  if (r.dbs.length === 0) lines.push('  (no database has keys on either side)');
  lines.push('', `  ${pad('difference', 14)}${pad('keys', 10, true)}`);
  for (const cls of DIFFERENCE_CLASSES) {
    lines.push(`  ${pad(cls, 14)}${pad(fmtInt(r.differences[cls].count), 10, true)}`);
  }
  for (const cls of DIFFERENCE_CLASSES) {
    const { count, samples } = r.differences[cls];
    if (count === 0) continue;
    lines.push(
      '',
      `  ${cls} (${fmtInt(count)}${samples.length < count ? `, first ${samples.length} shown` : ''}):`,
    );
    for (const s of samples) lines.push(`    db${s.db} ${s.key}: ${s.detail}`);
  }
  const { byPayload, byType } = r.comparisons;
  const versions =
    r.rdbVersions.source !== null
      ? ` (RDB versions ${r.rdbVersions.source}/${r.rdbVersions.target ?? '?'})`
      : '';
  const how =
    r.comparedBy === 'digest'
      ? `values compared by type: ${fmtInt(byType)} keys`
      : `values compared by DUMP payload: ${fmtInt(byPayload)} keys${versions}` +
        (byType > 0 ? `; by type where payloads differ: ${fmtInt(byType)}` : '');
  lines.push('', `  ${how}`);
  if (r.sizeProbe) lines.push(sizeProbeLine(r.sizeProbe));
  if (r.ttls) lines.push(ttlsLine(r.ttls));
  if (r.recheck.candidates > 0) {
    lines.push(
      `  re-checks: ${r.recheck.rounds} rounds; ${fmtInt(r.recheck.candidates)} keys differed at first sight, ` +
        `${fmtInt(r.recheck.cleared)} were fine when looked at again` +
        (r.recheck.unconfirmed
          ? `; ${fmtInt(r.recheck.unconfirmed)} reported without re-check (too many)`
          : ''),
    );
  }
  if (r.sampled) lines.push('  note: a sample, not a full comparison: run without --sample for every key');
  return lines.join('\n');
}

/** How expiry times were compared, in one line. */
export function ttlsLine(t: NonNullable<VerifyReport['ttls']>): string {
  if (t.by === 'pttl')
    return `  TTLs: ${t.reason ?? 'compared by PTTL, bounded by the time between the reads'}`;
  const ahead = t.targetClockAheadMs ?? 0;
  const uncertainty = t.clockUncertaintyMs ?? 0;
  const ms = (v: number) => `${v < 1 ? v.toFixed(2) : v.toFixed(1)} ms`;
  const clocks =
    Math.abs(ahead) <= uncertainty
      ? `the servers' clocks agree within ${ms(uncertainty)}`
      : `the target's clock is ${ms(Math.abs(ahead))} ${ahead > 0 ? 'ahead of' : 'behind'} the source's (±${ms(uncertainty)}), allowed for`;
  return `  TTLs: compared as absolute expiry times (PEXPIRETIME); ${clocks}`;
}
