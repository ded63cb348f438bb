import type { Command } from 'commander';

// Being built: see the issue that owns the `plan` command.
export function registerPlanCommand(program: Command): void {
  void program;
}
