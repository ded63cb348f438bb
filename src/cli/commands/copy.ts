import type { Command } from 'commander';

// Being built: see the issue that owns the `copy` command.
export function registerCopyCommand(program: Command): void {
  void program;
}
