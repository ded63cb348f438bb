import type { Command } from 'commander';

// Being built: see the issue that owns the `verify` command.
export function registerVerifyCommand(program: Command): void {
  void program;
}
