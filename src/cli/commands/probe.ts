import type { Command } from 'commander';

// Being built: see the issue that owns the `probe` command.
export function registerProbeCommand(program: Command): void {
  void program;
}
