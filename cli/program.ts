/**
 * The `token-rotator` command line, built as a commander program whose every effect goes
 * through {@link CliDeps}, so tests run it in-process with buffers, a frozen clock and mocked AWS
 * clients and read the exit code.
 *
 * Commands live in `cli/commands/`, one file each, registered below.
 */
import { Command, CommanderError } from 'commander';
import { CODE_VERSION } from '../core/version';
import { registerDemo } from './commands/demo';
import { registerRefresh } from './commands/refresh';
import { registerStatus } from './commands/status';
import { registerSweep } from './commands/sweep';
import type { CliDeps, GlobalOptions } from './context';
import { EXIT_CODES } from './exit-codes';
import { printError } from './run-action';
import { colourAllowed } from './terminal';

export type { CliDeps } from './context';
export { EXIT_CODES, type ExitCode } from './exit-codes';

/**
 * Builds the program. Commander never calls `process.exit`: every exit (help, version, usage
 * errors, a command's non-zero exit code) is thrown as a `CommanderError` carrying `exitCode`,
 * which {@link runCli} turns into a number.
 *
 * @example
 * ```ts
 * const program = buildProgram({ stdout: process.stdout, stderr: process.stderr });
 * await program.parseAsync(['status', '--json'], { from: 'user' });
 * ```
 */
export function buildProgram(deps: CliDeps): Command {
  const env = deps.env ?? process.env;
  const program = new Command('token-rotator');
  // Set before any subcommand is added: commands created with .command() inherit them.
  program
    .exitOverride()
    .configureOutput({
      writeOut: (text) => deps.stdout.write(text),
      writeErr: (text) => deps.stderr.write(text),
      getOutHelpWidth: () => deps.stdout.columns ?? 100,
      getErrHelpWidth: () => deps.stderr.columns ?? 100,
      getOutHasColors: () => colourAllowed(deps.stdout, env),
      getErrHasColors: () => colourAllowed(deps.stderr, env),
    })
    .showHelpAfterError('(run "token-rotator --help" for usage)')
    .description(
      'Inspect and refresh the short-lived API tokens token-rotator keeps in AWS Secrets Manager.\n' +
        'AWS configuration is the standard one: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, credentials chain.',
    )
    .version(CODE_VERSION, '-V, --version', 'print the version')
    .option(
      '--prefix <prefix>',
      'secret name prefix of the credentials (default: $TOKEN_ROTATOR_PREFIX, else "token-rotator/")',
    )
    .option('--region <region>', 'AWS region (default: from the AWS configuration, e.g. AWS_REGION)')
    .option('--debug', 'print stack traces of errors')
    .addHelpText(
      'after',
      `
Exit codes: ${EXIT_CODES.ok} ok; ${EXIT_CODES.usage} usage or configuration error; ${EXIT_CODES.aws} AWS error; ${EXIT_CODES.unhealthy} (status) a credential needs
attention; ${EXIT_CODES.refreshFailed} (refresh, sweep) a refresh failed; ${EXIT_CODES.noCredentials} no credential under the prefix;
${EXIT_CODES.overdue} (status) a refresh is overdue. "token-rotator COMMAND --help" says more.`,
    );

  registerStatus(program, deps);
  registerRefresh(program, deps);
  registerSweep(program, deps);
  registerDemo(program, deps);
  return program;
}

/**
 * Runs the command line `argv` (without the node and script paths) and resolves to its exit code.
 * Never rejects: an error no command handled is printed as one line and exits with 2.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
 * ```
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_CODES.ok;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    return printError(deps, program.opts<GlobalOptions>().debug === true, e);
  }
}
