/**
 * `token-rotator status [names...]`: how every credential under the prefix is doing — issuer,
 * expiry, next refresh, failures, last error, generation — as a table or as JSON, once or
 * redrawn every few seconds. Reads `ListSecrets` tags, and each token record unless
 * `--no-values`; never prints a token.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { assertCredentialName } from '../../core/store';
import type { CliContext, CliDeps } from '../context';
import { reportError } from '../error-report';
import { EXIT_CODES, type ExitCode } from '../exit-codes';
import { formatDuration } from '../format-duration';
import { runAction } from '../run-action';
import { collectStatus, renderStatusTable, type StatusReport, terminalRows } from '../status-report';

/** Options of `status`, as commander parses them. */
export interface StatusOptions {
  json?: boolean;
  /** False with `--no-values`. */
  values: boolean;
  /** Seconds between redraws. */
  watch?: number;
}

/** `--watch` bounds, in seconds. */
const MIN_WATCH_SECONDS = 1;
const MAX_WATCH_SECONDS = 86_400;

/** Parses `--watch <seconds>`: a number from 1 to 86400. */
export function parseWatchSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || seconds < MIN_WATCH_SECONDS || seconds > MAX_WATCH_SECONDS) {
    throw new InvalidArgumentError(
      `expected seconds between redraws, from ${MIN_WATCH_SECONDS} to ${MAX_WATCH_SECONDS}.`,
    );
  }
  return seconds;
}

/** Registers `status` on `program`. */
export function registerStatus(program: Command, deps: CliDeps): Command {
  return program
    .command('status')
    .summary('show the health of every credential (exit 3 when one needs attention)')
    .description(
      'Show issuer, expiry, next refresh, failures, last error and generation of each credential under the prefix ' +
        '(all of them, or the NAMES given). Never prints a token.',
    )
    .argument('[names...]', 'credentials to show (default: every credential under the prefix)')
    .option('--json', 'print a JSON array instead of a table (fields below)')
    .option(
      '--no-values',
      'list from ListSecrets tags only: no GetSecretValue per credential (cheaper, and needs no read access to ' +
        'token values), but issuer and generation show as "-", and an unreadable record goes unnoticed',
    )
    .option('--watch <seconds>', 'redraw every SECONDS (1-86400) until Ctrl-C', parseWatchSeconds)
    .addHelpText(
      'after',
      `
Each credential is one of: ok, failing (retrying after transient failures), blocked (the issuer
rejected its client credentials, or its configuration is invalid: nothing is retried until they
change), expired (its token is past expiresAt), unreadable, missing (named but not found).

--json prints an array of objects with these fields (null when unknown; instants in ISO-8601 UTC):
  credential, state, issuer, expiresAt, secondsToExpiry, refreshAfter, failures, lastError,
  nextAttempt, generation, tokenSecretArn
With --watch, --json prints one such array per line, once per redraw.

Exit codes: 0 all ok; 1 usage or configuration error; 2 AWS error; 3 some credential is expired,
blocked, failing, unreadable or missing.

Examples:
  token-rotator status
  token-rotator status sirv-prod aspose-prod --json
  token-rotator status --watch 10
  token-rotator status --no-values --json`,
    )
    .action(
      runAction(deps, async (context, command, names: string[]) =>
        status(context, names, command.opts<StatusOptions>()),
      ),
    );
}

async function status(context: CliContext, names: string[], options: StatusOptions): Promise<ExitCode> {
  for (const name of names) assertCredentialName(name);
  if (options.watch === undefined) {
    const report = await collectStatus(context, names, options.values);
    for (const problem of report.problems) context.stderr.write(`token-rotator: ${problem}\n`);
    const lines = options.json ? [JSON.stringify(report.statuses, null, 2)] : statusLines(report, context);
    context.stdout.write(`${lines.join('\n')}\n`);
    return report.exitCode;
  }
  return watch(context, names, options, options.watch);
}

function statusLines(report: StatusReport, context: CliContext): string[] {
  if (report.statuses.length === 0) return [`No credentials under prefix "${context.prefix}".`];
  return renderStatusTable(report.statuses, context.now(), context.colour);
}

async function watch(context: CliContext, names: string[], options: StatusOptions, seconds: number): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT_CODES.ok;
  let previousLines = 0;
  const redraw = context.stdout.isTTY === true && !options.json;
  for (let iteration = 0; iteration < context.watchMaxIterations && !context.signal?.aborted; iteration += 1) {
    if (iteration > 0) {
      await context.sleep(seconds * 1000, context.signal);
      if (context.signal?.aborted) break;
    }
    let lines: string[];
    try {
      const report = await collectStatus(context, names, options.values);
      exitCode = report.exitCode;
      if (options.json) for (const problem of report.problems) context.stderr.write(`token-rotator: ${problem}\n`);
      lines = options.json
        ? [JSON.stringify(report.statuses)]
        : [...statusLines(report, context), ...report.problems.map((p) => context.colour.red(p))];
    } catch (e) {
      // A failed round is shown in place of the table; the next round may well succeed.
      const report = reportError(e);
      exitCode = report.exitCode;
      if (options.json) {
        context.stderr.write(`token-rotator: ${report.line}\n`);
        continue;
      }
      lines = [context.colour.red(report.line)];
    }
    if (!options.json) {
      const stamp = context
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z');
      lines.unshift(context.colour.dim(`Every ${formatDuration(seconds)} · ${stamp} · Ctrl-C to stop`));
    }
    // On a terminal the previous frame is overwritten: cursor up over the rows it took, then clear
    // to the end of the screen.
    const erase = redraw && previousLines > 0 ? `\u001b[${previousLines}F\u001b[0J` : '';
    const gap = !redraw && !options.json && iteration > 0 ? '\n' : '';
    context.stdout.write(`${erase}${gap}${lines.join('\n')}\n`);
    previousLines = terminalRows(lines, context.stdout.columns);
  }
  return exitCode;
}
