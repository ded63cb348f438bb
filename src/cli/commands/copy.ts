import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { eitherIsCluster } from '../../engine/cluster/nodes.js';
import {
  type CopyOptions,
  type CopyProgress,
  type CopyReport,
  CopyStoppedError,
  copyKeys,
  fileCheckpointStore,
  functionsNotCopied,
} from '../../engine/copy/index.js';
import { dbMapping } from '../../engine/db-mapping.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { action, addGlobalOptions, type CliContext } from '../context.js';
import { addDropFieldTtlsOption } from '../options/field-ttl-option.js';
import { parseBytes, parseDbs } from '../options/values.js';
import {
  addProgressOption,
  fmtBytes,
  fmtInt,
  type ProgressMode,
  progressRendererFor,
  sizeProbeLine,
} from '../progress.js';
import { runCopyAcrossCli } from './copy-across.js';

interface CopyCliOptions {
  db?: string;
  match?: string;
  replace?: boolean;
  flushTarget?: boolean;
  byType?: boolean;
  bigKeyThreshold?: string;
  checkpoint?: string;
  yes?: boolean;
  batchSize?: string;
  sizeProbe?: boolean;
  dropFieldTtls?: boolean;
  progress?: ProgressMode;
}

export function registerCopyCommand(program: Command): void {
  const cmd = program
    .command('copy')
    .description(
      'Copy every key of the selected databases (all types, TTLs, stream groups) and Redis 7 functions ' +
        'from source to target with DUMP/RESTORE; resumable with --checkpoint',
    )
    .argument('<source>', 'endpoint name from the config, or a redis:// URL')
    .argument('<target>', 'endpoint name from the config, or a redis:// URL')
    .option(
      '--db <list>',
      'databases to copy: all (those with keys on the source, the default) or e.g. 0,3; not with a database ' +
        "in the URLs (redis://host:port/3 copies db 3 only, into the target URL's database)",
    )
    .option('--match <pattern>', 'only keys matching this glob (SCAN MATCH)')
    .option(
      '--replace',
      'copy into a non-empty target, overwriting keys and function libraries of the same name',
    )
    .option('--flush-target', 'empty the selected target databases (and function libraries) first')
    .option('--yes', 'confirm --flush-target without asking (required when not on a terminal)')
    .option('--by-type', 'copy every key with native commands instead of DUMP/RESTORE')
    .option(
      '--big-key-threshold <bytes>',
      'keys bigger than this are copied in chunks (Redis units: 64mb = 64MiB, 500k = 500000; default 64mb)',
    )
    .option('--checkpoint <file>', 'save progress to this file after every batch, and resume from it')
    .option('--batch-size <n>', 'keys per SCAN page (default 1000)')
    .option(
      '--size-probe',
      'MEMORY USAGE before every DUMP, so no key over the big-key threshold is ever DUMPed whole ' +
        "(slower; by default only when the source's maxmemory leaves too little room)",
    );
  addDropFieldTtlsOption(cmd);
  addProgressOption(cmd);
  addGlobalOptions(cmd);
  cmd.action(action(runCopy));
}

async function runCopy(
  ctx: CliContext,
  sourceName: string,
  targetName: string,
  opts: CopyCliOptions,
): Promise<number> {
  if (opts.replace && opts.flushTarget) throw new UserError('choose one of --replace and --flush-target');
  const stdinTty = Boolean(process.stdin.isTTY);
  if (opts.flushTarget && !opts.yes && !stdinTty) {
    throw new UserError(
      '--flush-target deletes data on the target: add --yes to confirm (no terminal to ask on)',
    );
  }
  const source = ctx.endpoint(sourceName, 'the source');
  const target = ctx.endpoint(targetName, 'the target');
  const mapping = dbMapping(source, target, opts.db === undefined ? undefined : parseDbs(opts.db));
  if (await eitherIsCluster(source, target)) {
    return runCopyAcrossCli(
      ctx,
      source,
      target,
      mapping,
      {
        ...opts,
        batchSize: opts.batchSize ? parsePositiveInt(opts.batchSize, '--batch-size') : undefined,
      },
      askFlush,
    );
  }
  const options: CopyOptions = {
    dbs: mapping.dbs,
    ...(mapping.remap ? { remap: mapping.remap } : {}),
    onNonEmptyTarget: opts.replace ? 'replace' : opts.flushTarget ? 'flush' : 'refuse',
    mode: opts.byType ? 'by-type' : 'auto',
  };
  if (opts.match) options.match = opts.match;
  if (opts.bigKeyThreshold)
    options.bigKeyThresholdBytes = parseBytes(opts.bigKeyThreshold, '--big-key-threshold');
  if (opts.batchSize) options.batchSize = parsePositiveInt(opts.batchSize, '--batch-size');
  if (opts.checkpoint) options.checkpoint = fileCheckpointStore(opts.checkpoint);
  if (opts.sizeProbe) options.sizeProbe = 'always';
  if (opts.dropFieldTtls) options.dropFieldTtls = true;
  if (opts.flushTarget && !opts.yes) {
    options.confirmFlush = (nonEmpty, libraries) => askFlush(describeEndpoint(target), nonEmpty, libraries);
  }

  const renderer = progressRendererFor(opts.progress);
  options.onProgress = (p) => renderer.update(toProgressState(p));

  const controller = new AbortController();
  options.signal = controller.signal;
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    ctx.note('\nstopping after the batches in flight (press Ctrl-C again to quit at once)...');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let report: CopyReport;
  try {
    report = await copyKeys(source, target, options);
  } catch (err) {
    renderer.finish();
    if (err instanceof CopyStoppedError) {
      if (ctx.json) ctx.printJson({ event: 'report', ...report2json(err.report), stopped: err.message });
      else ctx.print(summary(err.report, describeEndpoint(source), describeEndpoint(target)));
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  renderer.finish();
  if (ctx.json) ctx.printJson({ event: 'report', ...report2json(report) });
  else ctx.print(summary(report, describeEndpoint(source), describeEndpoint(target)));
  if (!report.complete) {
    ctx.note(
      opts.checkpoint
        ? `stopped before the end; run the same command again to resume from ${opts.checkpoint}`
        : 'stopped before the end (no --checkpoint: a new run starts over)',
    );
    return ExitCode.problem;
  }
  const functionsFailure = functionsNotCopied(report.functions);
  if (functionsFailure) {
    ctx.note(functionsFailure);
    return ExitCode.problem;
  }
  return report.keysFailed > 0 ? ExitCode.problem : ExitCode.ok;
}

function toProgressState(p: CopyProgress) {
  const details: string[] = [];
  if (p.db !== null && p.phase === 'keys') details.push(`db${p.db}`);
  if (p.phase === 'functions') details.push('functions');
  if (p.keysSkipped) details.push(`${fmtInt(p.keysSkipped)} skipped`);
  if (p.keysFailed) details.push(`${fmtInt(p.keysFailed)} failed`);
  return {
    phase: p.phase,
    done: p.keysCopied + p.keysSkipped + p.keysFailed,
    total: p.totalKeys,
    bytes: p.bytesCopied,
    rate: p.keysPerSecond,
    etaSeconds: p.etaSeconds,
    detail: details.join(', '),
    data: {
      db: p.db,
      keysCopied: p.keysCopied,
      keysSkipped: p.keysSkipped,
      keysFailed: p.keysFailed,
      keysByTypeFallback: p.keysByTypeFallback,
      bigKeysChunked: p.bigKeysChunked,
      elapsedMs: p.elapsedMs,
    },
  };
}

function report2json(report: CopyReport): Record<string, unknown> {
  return { ...report };
}

export function summary(r: CopyReport, source: string, target: string): string {
  const seconds = r.durationMs / 1000;
  const lines = [
    `${r.complete ? 'copied' : 'partly copied'} ${fmtInt(r.keysCopied)} keys (${fmtBytes(r.bytesCopied)}) ` +
      `from ${source} to ${target} in ${seconds.toFixed(1)} s (${fmtInt(r.keysPerSecond)} keys/s this run)` +
      (r.resumed ? ', resumed from checkpoint' : ''),
    `  databases: ${r.remap ? `db${r.remap.from} -> db${r.remap.to}` : r.dbs.length ? r.dbs.map((d) => `db${d}`).join(', ') : '(none with keys)'}`,
    `  skipped (expired or deleted during the copy): ${fmtInt(r.keysSkipped)}; failed: ${fmtInt(r.keysFailed)}`,
  ];
  if (r.keysByTypeFallback)
    lines.push(`  copied with native commands (by type): ${fmtInt(r.keysByTypeFallback)}`);
  if (r.bigKeysChunked) lines.push(`  big keys copied in chunks: ${fmtInt(r.bigKeysChunked)}`);
  if (r.fieldTtlsDropped)
    lines.push(
      `  hash fields copied without their TTL (--drop-field-ttls; persistent on the target): ${fmtInt(r.fieldTtlsDropped)}`,
    );
  if (r.sizeProbe) lines.push(sizeProbeLine(r.sizeProbe));
  if (r.functions) lines.push(`  functions: ${r.functions.libraries} libraries, ${r.functions.action}`);
  for (const why of r.restarts ?? []) lines.push(`  started over from the first key: ${why}`);
  if (r.errors.length > 0) {
    lines.push('  errors:');
    for (const e of r.errors) lines.push(`    db${e.db} ${e.key}: ${e.reason}`);
    if (r.errorsOmitted) lines.push(`    ... and ${fmtInt(r.errorsOmitted)} more`);
  }
  return lines.join('\n');
}

export async function askFlush(
  target: string,
  nonEmpty: { db: number; keys: number }[],
  libraries: string[],
): Promise<boolean> {
  const what = nonEmpty.map((d) => `db${d.db} (${fmtInt(d.keys)} keys)`);
  if (libraries.length > 0) what.push(`function libraries ${libraries.join(', ')}`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`This deletes ${what.join(', ')} on ${target}. Type "yes" to go on: `);
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

function parsePositiveInt(text: string, option: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UserError(`${option} must be a positive integer`);
  return Number(text);
}
