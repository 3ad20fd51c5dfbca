/**
 * The one place where a command's action meets the process: it resolves the global options into
 * a {@link CliContext}, runs the command, prints any error as one line (stack only with
 * `--debug`) and turns a non-zero exit code into a {@link CliExit}.
 */
import { type Command, CommanderError } from 'commander';
import { type CliContext, type CliDeps, createContext, type GlobalOptions } from './context';
import { reportError } from './error-report';
import { CliExit, EXIT_CODES, type ExitCode } from './exit-codes';

/** A command body: does its work with the context and says how the process should exit. */
export type CommandBody<A extends unknown[]> = (context: CliContext, command: Command, ...args: A) => Promise<ExitCode>;

/**
 * Wraps a command body as a commander action. Commander passes the command's arguments, then its
 * options, then the command itself; the body gets the context and the command first.
 */
export function runAction<A extends unknown[]>(deps: CliDeps, body: CommandBody<A>) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received.at(-1) as Command;
    const args = received.slice(0, -2) as A;
    const globals = command.optsWithGlobals<GlobalOptions>();
    let code: ExitCode;
    try {
      const context = createContext(deps, globals);
      code = await body(context, command, ...args);
    } catch (e) {
      // Usage errors (command.error) and exits were printed already.
      if (e instanceof CommanderError) throw e;
      code = printError(deps, globals.debug === true, e);
    }
    if (code !== EXIT_CODES.ok) throw new CliExit(code);
  };
}

/** Prints `error` as one line on stderr (and its stack with `debug`); returns its exit code. */
export function printError(deps: Pick<CliDeps, 'stderr'>, debug: boolean, error: unknown): ExitCode {
  const report = reportError(error);
  deps.stderr.write(`token-rotator: ${report.line}\n`);
  if (debug) deps.stderr.write(`${report.detail}\n`);
  return report.exitCode;
}
