// Progress output for long CLI commands, always on stderr so stdout holds only the result (one JSON
// document with --json): a one-line bar redrawn in place on a terminal, NDJSON with --progress json
// (for logs and CI), nothing otherwise. Generic on purpose: copy, verify and import feed it.

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { formatBinaryBytes } from '../util/byte-size.js';

export interface ProgressState {
  /** e.g. 'functions', 'keys', 'done'. */
  phase: string;
  done: number;
  /** Expected total (an estimate); 0 when unknown. */
  total: number;
  bytes?: number;
  /** Items per second. */
  rate: number;
  etaSeconds: number | null;
  /** Short extra text: current db, skipped/failed counts. */
  detail?: string;
  /** Fields added to JSON lines as they are. */
  data?: Record<string, unknown>;
}

export interface ProgressRenderer {
  update(state: ProgressState): void;
  /** Ends the bar line (TTY) so later output starts on a fresh line. */
  finish(): void;
}

export interface RendererOptions {
  stream: NodeJS.WritableStream & { columns?: number };
  /** Draw a bar (the stream is a terminal) rather than JSON lines. */
  tty: boolean;
  /** Minimum milliseconds between JSON lines (phase changes are always written). Default 1000. */
  jsonIntervalMs?: number;
  /** What is counted, for the bar: "keys". */
  unit?: string;
}

export function createProgressRenderer(options: RendererOptions): ProgressRenderer {
  return options.tty ? new BarRenderer(options) : new JsonLinesRenderer(options);
}

/** `--progress`: auto = a bar when stderr is a terminal, nothing otherwise. */
export type ProgressMode = 'auto' | 'bar' | 'json' | 'none';
const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'bar', 'json', 'none'];

export function parseProgressMode(text: string): ProgressMode {
  const mode = text.trim().toLowerCase() as ProgressMode;
  if (!PROGRESS_MODES.includes(mode))
    throw new InvalidArgumentError(`must be one of ${PROGRESS_MODES.join(', ')}`);
  return mode;
}

export function addProgressOption(cmd: Command): Command {
  return cmd.option(
    '--progress <how>',
    'progress on stderr: auto (a bar on a terminal, nothing otherwise), bar, json (NDJSON lines) or none',
    parseProgressMode,
    'auto' as ProgressMode,
  );
}

/** The renderer `--progress` asks for, on stderr (stdout is kept for the result). */
export function progressRendererFor(
  mode: ProgressMode | undefined,
  stream: NodeJS.WritableStream & { columns?: number; isTTY?: boolean } = process.stderr,
  unit?: string,
): ProgressRenderer {
  const how = mode ?? 'auto';
  if (how === 'none' || (how === 'auto' && !stream.isTTY)) return { update() {}, finish() {} };
  return createProgressRenderer({ stream, tty: how !== 'json', ...(unit ? { unit } : {}) });
}

class BarRenderer implements ProgressRenderer {
  private drawn = false;

  constructor(private readonly options: RendererOptions) {}

  update(state: ProgressState): void {
    const width = Math.max(40, Math.min(this.options.stream.columns ?? 100, 160));
    const line = formatBar(state, width, this.options.unit ?? 'keys');
    this.options.stream.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.options.stream.write('\n');
    this.drawn = false;
  }
}

class JsonLinesRenderer implements ProgressRenderer {
  private last = 0;
  private lastPhase = '';

  constructor(private readonly options: RendererOptions) {}

  update(state: ProgressState): void {
    const now = Date.now();
    const interval = this.options.jsonIntervalMs ?? 1000;
    if (state.phase === this.lastPhase && now - this.last < interval) return;
    this.last = now;
    this.lastPhase = state.phase;
    const line = {
      event: 'progress',
      phase: state.phase,
      done: state.done,
      total: state.total,
      ...(state.bytes !== undefined ? { bytes: state.bytes } : {}),
      rate: Math.round(state.rate),
      etaSeconds: state.etaSeconds,
      ...state.data,
    };
    this.options.stream.write(`${JSON.stringify(line)}\n`);
  }

  finish(): void {}
}

/** `[#####.....]  45%  90,000/200,000 keys  12.3 MiB  44,000 keys/s  ETA 3s  db0` fitted to width. */
export function formatBar(state: ProgressState, width: number, unit: string): string {
  const fraction = state.total > 0 ? Math.min(1, state.done / state.total) : state.phase === 'done' ? 1 : 0;
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const counts =
    state.total > 0
      ? `${fmtInt(state.done)}/${fmtInt(state.total)} ${unit}`
      : `${fmtInt(state.done)} ${unit}`;
  const parts = [
    counts,
    state.bytes !== undefined ? fmtBytes(state.bytes) : '',
    `${fmtInt(Math.round(state.rate))} ${unit}/s`,
    state.phase === 'done' ? 'done' : `ETA ${fmtDuration(state.etaSeconds)}`,
    state.detail ?? '',
  ].filter(Boolean);
  const text = `${pct}  ${parts.join('  ')}`;
  const barWidth = Math.max(10, Math.min(30, width - text.length - 3));
  const filled = Math.round(fraction * barWidth);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${text}`;
  return line.length > width - 1 ? line.slice(0, width - 1) : line;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes for people, in binary units with their IEC labels ("12.3 MiB"). */
export function fmtBytes(n: number): string {
  return formatBinaryBytes(n);
}

export function fmtDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The summary line about MEMORY USAGE before DUMP (copy and verify reports). */
export function sizeProbeLine(p: { perKey: boolean; reason: string }): string {
  return `  key sizes checked before DUMP: ${p.perKey ? 'yes' : 'no'} (${p.reason})`;
}
