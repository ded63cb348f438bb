// The config and command line of a whole scripted `migrate` run between two test servers: the
// endpoints `src` and `dst`, the control Redis, and hooks; UREQ requests, UBUDDY approves and confirms.
import { writeFileSync } from 'node:fs';

export interface HookLines {
  command: string;
  at: string;
  timeout?: string;
}

export interface MigrateConfig {
  source: { url: string };
  target: { url: string };
  control: { url: string };
  hooks?: Record<string, HookLines>;
}

/** Writes the YAML config of a migration from `src` (source) to `dst` (target). */
export function writeMigrateConfig(path: string, c: MigrateConfig): void {
  const hooks = Object.entries(c.hooks ?? {}).flatMap(([name, h]) => [
    `  ${name}:`,
    `    command: ${JSON.stringify(h.command)}`,
    `    at: ${h.at}`,
    ...(h.timeout ? [`    timeout: ${h.timeout}`] : []),
  ]);
  const lines = [
    'endpoints:',
    '  src:',
    `    url: ${c.source.url}`,
    '  dst:',
    `    url: ${c.target.url}`,
    'control:',
    `  url: ${c.control.url}`,
    ...(hooks.length > 0 ? ['hooks:', ...hooks] : []),
  ];
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** `migrate src dst` with every gate approved by UBUDDY, who also confirms the repoint. */
export function scriptedMigrateArgs(config: string, strategy: string): string[] {
  return [
    'migrate',
    'src',
    'dst',
    '-c',
    config,
    '--as',
    'UREQ',
    '--approve-as',
    'UBUDDY',
    '--confirm-as',
    'UBUDDY',
    '--strategy',
    strategy,
  ];
}
