/**
 * `token-rotator status [names...]`: how every credential under the prefix is doing — issuer,
 * expiry, next refresh, failures, last error, generation — as a table or as JSON, once or
 * redrawn every few seconds. Reads `ListSecrets` tags, and each token record unless
 * `--no-values`; never prints a token.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { assertCredentialName } from '../../core/store';
import type { CliContext, CliDeps } from '../context';
import { OVERDUE_INTERVALS } from '../credential-status';
import { noCredentialsLine } from '../empty-prefix';
import { reportError } from '../error-report';
import { EXIT_CODES, type ExitCode } from '../exit-codes';
import { formatDuration } from '../format-duration';
import { runAction } from '../run-action';
import { addOutputOptions, allowEmptyOption, outputFormat, scheduleIntervalOption } from '../shared-options';
import {
  type CollectOptions,
  collectStatus,
  renderStatusTable,
  type StatusReport,
  terminalRows,
} from '../status-report';

/** Options of `status`, as commander parses them (the output format is read with {@link outputFormat}). */
export interface StatusCommandOptions {
  /** False with `--no-values`. */
  values: boolean;
  /** Seconds between redraws. */
  watch?: number;
  allowEmpty?: boolean;
  scheduleInterval: number;
}

/** What one `status` run does, resolved from its options. */
interface StatusRun {
  json: boolean;
  values: boolean;
  collect: CollectOptions;
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
  const command = program
    .command('status')
    .summary(
      `show the health of every credential (exit ${EXIT_CODES.unhealthy} when one needs attention, ${EXIT_CODES.overdue} when a refresh is overdue)`,
    )
    .description(
      'Show issuer, expiry, next refresh, failures, last error and generation of each credential under the prefix ' +
        '(all of them, or the NAMES given). Never prints a token.',
    )
    .argument('[names...]', 'credentials to show (default: every credential under the prefix)');
  addOutputOptions(command, 'an array of objects (fields below)');
  return command
    .option(
      '--no-values',
      'list from ListSecrets tags only: no GetSecretValue per credential (cheaper, and needs no read access to ' +
        'token values), but issuer and generation show as "-", and an unreadable record goes unnoticed',
    )
    .option('--watch <seconds>', 'redraw every SECONDS (1-86400) until Ctrl-C', parseWatchSeconds)
    .addOption(
      scheduleIntervalOption(
        `the rotator's schedule interval in seconds: a refresh more than ${OVERDUE_INTERVALS} intervals late is overdue`,
      ),
    )
    .addOption(allowEmptyOption())
    .addHelpText(
      'after',
      `
Each credential is one of: ok; overdue (no failure recorded, but its refresh time passed more than
${OVERDUE_INTERVALS} schedule intervals ago: nothing seems to refresh it); failing (retrying after transient
failures); blocked (the issuer rejected its client credentials, or its configuration is invalid:
nothing is retried until they change, with pulumi up; a client secret from a clientSecretSource is
mended in that source instead: the rotator looks at it again within an hour, and
"token-rotator refresh --force NAME" asks at once); expired (its token is past expiresAt); unreadable; no-token
(its client secret is there, its token secret is not: deleted by hand?); missing (named but not found).
When every token's refresh is overdue, a line on stderr says that no rotator seems to serve the prefix.

--output json prints an array of objects with these fields (null when unknown; instants in ISO-8601 UTC):
  credential, state, issuer, expiresAt, secondsToExpiry, refreshAfter, failures, lastError,
  nextAttempt, generation, tokenSecretArn
With --watch, --output json prints one such array per line, once per redraw.

Exit codes: ${EXIT_CODES.ok} all ok; ${EXIT_CODES.usage} usage or configuration error; ${EXIT_CODES.aws} AWS error; ${EXIT_CODES.unhealthy} some credential is expired,
blocked, failing, unreadable, missing or has no token secret; ${EXIT_CODES.noCredentials} no credential under the prefix
(unless --allow-empty); ${EXIT_CODES.overdue} nothing worse, but some refresh is overdue.

Examples:
  token-rotator status
  token-rotator status sirv-prod aspose-prod --output json
  token-rotator status --watch 10
  token-rotator status --no-values --json
  token-rotator status --schedule-interval 300   # a rotator (or sweep) every 5 minutes`,
    )
    .action(
      runAction(deps, async (context, command, names: string[]) => {
        const options = command.opts<StatusCommandOptions>();
        const run: StatusRun = {
          json: outputFormat(command) === 'json',
          values: options.values,
          collect: { scheduleIntervalSeconds: options.scheduleInterval, allowEmpty: options.allowEmpty === true },
        };
        return status(context, names, run, options.watch);
      }),
    );
}

async function status(context: CliContext, names: string[], run: StatusRun, watchSeconds?: number): Promise<ExitCode> {
  for (const name of names) assertCredentialName(name);
  if (watchSeconds === undefined) {
    const report = await collectStatus(context, names, run.values, run.collect);
    for (const problem of report.problems) context.stderr.write(`token-rotator: ${problem}\n`);
    const lines = run.json ? [JSON.stringify(report.statuses, null, 2)] : statusLines(report, context);
    if (lines.length > 0) context.stdout.write(`${lines.join('\n')}\n`);
    return report.exitCode;
  }
  return watch(context, names, run, watchSeconds);
}

// An empty prefix that is not allowed is said once, as a problem; an allowed one as a plain fact.
function statusLines(report: StatusReport, context: CliContext): string[] {
  if (report.statuses.length > 0) return renderStatusTable(report.statuses, context.now(), context.colour);
  return report.exitCode === EXIT_CODES.ok ? [noCredentialsLine(context)] : [];
}

async function watch(context: CliContext, names: string[], options: StatusRun, seconds: number): Promise<ExitCode> {
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
      const report = await collectStatus(context, names, options.values, options.collect);
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
