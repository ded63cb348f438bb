import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { type Config, DEFAULT_CONFIG_FILE, loadConfig, resolveEndpoint } from '../config/load.js';
import type { Endpoint } from '../redis/endpoint.js';
import { ExitCode, errorMessage, UserError } from '../util/errors.js';
import { scrub, scrubDeep } from '../util/secrets.js';

/** Options every command shares. */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

/** What a command gets: the config (if any), endpoint lookup, and output helpers. */
export interface CliContext {
  config: Config | undefined;
  json: boolean;
  /** `role` ("the source") says which argument was wrong without repeating it. */
  endpoint(nameOrUrl: string, role?: string): Endpoint;
  /** Human output on stdout, scrubbed of secrets. */
  print(text: string): void;
  /** The one JSON document of --json on stdout, scrubbed of secrets (call it once, at the end). */
  printJson(value: unknown): void;
  /** Whether printJson has written the document (an error after it goes to stderr). */
  readonly printedJson: boolean;
  /** A note on stderr (kept out of --json output). */
  note(text: string): void;
  isTty: boolean;
}

export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', `config file with endpoints (default: ${DEFAULT_CONFIG_FILE} if present)`)
    .option('--json', 'machine-readable JSON output');
}

export function createContext(opts: GlobalOptions): CliContext {
  let config: Config | undefined;
  if (opts.config) config = loadConfig(opts.config);
  else if (existsSync(DEFAULT_CONFIG_FILE)) config = loadConfig(DEFAULT_CONFIG_FILE);
  let printedJson = false;
  return {
    config,
    json: Boolean(opts.json),
    endpoint: (nameOrUrl, role) => resolveEndpoint(nameOrUrl, config, role),
    print: (text) => process.stdout.write(`${scrub(text)}\n`),
    printJson: (value) => {
      printedJson = true;
      process.stdout.write(`${JSON.stringify(scrubDeep(value))}\n`);
    },
    get printedJson() {
      return printedJson;
    },
    note: (text) => process.stderr.write(`${scrub(text)}\n`),
    isTty: Boolean(process.stdout.isTTY),
  };
}

/**
 * Wraps a command action: builds the context, runs it, turns its result into an exit code, and
 * prints errors as one line (JSON when --json) without stack traces or secrets.
 */
export function action<A extends unknown[]>(
  run: (ctx: CliContext, ...args: A) => Promise<number | undefined> | number | undefined,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    // commander passes (...positionals, options, command); options are merged with globals.
    const command = args[args.length - 1] as Command;
    const opts = command.optsWithGlobals() as GlobalOptions;
    let code: number;
    let ctx: CliContext | undefined;
    try {
      ctx = createContext(opts);
      code = (await run(ctx, ...args)) ?? ExitCode.ok;
    } catch (err) {
      code = err instanceof UserError ? err.exitCode : ExitCode.usage;
      const message = errorMessage(err);
      // stdout holds one JSON document: when the command already wrote it (a report that says it
      // stopped), the error goes to stderr.
      if (opts.json && !ctx?.printedJson)
        process.stdout.write(`${JSON.stringify({ error: message, exitCode: code })}\n`);
      else process.stderr.write(`error: ${message}\n`);
      if (!(err instanceof UserError) && process.env.DEBUG)
        process.stderr.write(`${scrub(String((err as Error).stack))}\n`);
    }
    process.exitCode = code;
  };
}
