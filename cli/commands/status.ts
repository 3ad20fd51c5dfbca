/**
 * `token-rotator status [names...]`: how every credential under the prefix is doing — issuer,
 * expiry, next refresh, failures, last error, generation — as a table or as JSON, once or
 * redrawn every few seconds. Reads `ListSecrets` tags, and each token record unless
 * `--no-values`; never prints a token.
 */
import { type Command, InvalidArgumentError } from 'commander';
import pLimit from 'p-limit';
import { isTokenRotatorError } from '../../core/errors';
import {
  assertCredentialName,
  type CredentialListing,
  listCredentials,
  readToken,
  TOKEN_SUFFIX,
} from '../../core/store';
import type { TokenRecord } from '../../core/token';
import type { CliContext, CliDeps } from '../context';
import { type CredentialState, type CredentialStatus, credentialStatus, isHealthy } from '../credential-status';
import { joinSentences, oneLine, reportError } from '../error-report';
import { EXIT_CODES, type ExitCode } from '../exit-codes';
import { expiryTime, formatDuration, relativeTime } from '../format-duration';
import { runAction } from '../run-action';
import { renderTable, type TableColumn } from '../table';
import { type Palette, stripAnsi } from '../terminal';

/** Options of `status`, as commander parses them. */
export interface StatusOptions {
  json?: boolean;
  /** False with `--no-values`. */
  values: boolean;
  /** Seconds between redraws. */
  watch?: number;
}

/** How many token records are read at once. */
const READ_CONCURRENCY = 8;
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

/** The statuses of the credentials, and the problems met while reading them (one line each). */
export interface StatusReport {
  statuses: CredentialStatus[];
  problems: string[];
  /** The exit code this report calls for. */
  exitCode: ExitCode;
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

/**
 * Reads the statuses of `names` (every credential when empty) under the context's prefix, from
 * tags and, with `readValues`, each token record (at most {@link READ_CONCURRENCY} at once).
 *
 * @throws {StoreError} when listing fails; a failed read of one record is a problem of its row.
 */
export async function collectStatus(context: CliContext, names: string[], readValues: boolean): Promise<StatusReport> {
  const store = context.store();
  const wanted = new Set(names);
  const listings = new Map<string, CredentialListing>();
  for await (const listing of listCredentials(store)) {
    if (wanted.size === 0 || wanted.has(listing.name)) listings.set(listing.name, listing);
  }
  const now = context.now();
  const problems: string[] = [];
  let awsFailure = false;
  const limit = pLimit(READ_CONCURRENCY);
  const order = wanted.size > 0 ? [...wanted] : [...listings.keys()].sort();
  const statuses = await Promise.all(
    order.map((name) =>
      limit(async (): Promise<CredentialStatus> => {
        const listing = listings.get(name);
        if (!listing) {
          problems.push(
            `Credential "${name}": no token secret "${store.prefix}${name}${TOKEN_SUFFIX}"; check the name and --prefix.`,
          );
          return credentialStatus({ name }, now);
        }
        if (!readValues) return credentialStatus({ name, listing }, now);
        let record: TokenRecord | undefined;
        try {
          record = await readToken(store, name);
        } catch (e) {
          const storeFailure = isTokenRotatorError(e) && e.code === 'StoreError';
          awsFailure ||= storeFailure;
          const report = reportError(e);
          problems.push(
            storeFailure ? joinSentences(report.line, 'Or use --no-values to list from tags only.') : report.line,
          );
          return credentialStatus({ name, listing, unreadable: true }, now);
        }
        return credentialStatus({ name, listing, record, unreadable: record === undefined }, now);
      }),
    ),
  );
  const exitCode = awsFailure ? EXIT_CODES.aws : statuses.every(isHealthy) ? EXIT_CODES.ok : EXIT_CODES.unhealthy;
  return { statuses, problems: problems.map(oneLine), exitCode };
}

const COLUMNS: TableColumn[] = [
  { header: 'CREDENTIAL' },
  { header: 'STATE' },
  { header: 'ISSUER' },
  { header: 'EXPIRES' },
  { header: 'REFRESH AFTER' },
  { header: 'FAILURES', align: 'right' },
  { header: 'LAST ERROR' },
  { header: 'GENERATION', align: 'right' },
];

/** How soon an expiry is shown as a warning. */
const EXPIRY_WARNING_SECONDS = 300;

/**
 * The status table as lines: one row per credential, coloured only when `colour` is enabled.
 *
 * @example
 * ```text
 * CREDENTIAL  STATE    ISSUER  EXPIRES        REFRESH AFTER  FAILURES  LAST ERROR  GENERATION
 * sirv-prod   ok       sirv    in 14m 3s      in 9m 3s              0  -                   42
 * ```
 */
export function renderStatusTable(statuses: readonly CredentialStatus[], now: Date, colour: Palette): string[] {
  const rows = statuses.map((s) => {
    const expiresAt = s.expiresAt ? new Date(s.expiresAt) : undefined;
    const refreshAfter = s.refreshAfter ? new Date(s.refreshAfter) : undefined;
    const expiry = expiresAt ? expiryTime(expiresAt, now) : '-';
    const secondsLeft = s.secondsToExpiry ?? Number.POSITIVE_INFINITY;
    return [
      s.credential,
      stateColour(s.state, colour)(s.state),
      s.issuer ?? '-',
      secondsLeft <= 0 ? colour.red(expiry) : secondsLeft <= EXPIRY_WARNING_SECONDS ? colour.yellow(expiry) : expiry,
      refreshAfter
        ? refreshAfter.getTime() < now.getTime()
          ? colour.yellow(relativeTime(refreshAfter, now))
          : relativeTime(refreshAfter, now)
        : '-',
      s.failures > 0 ? colour.yellow(String(s.failures)) : String(s.failures),
      s.lastError ? stateColour(s.state, colour)(s.lastError) : '-',
      s.generation === null ? '-' : String(s.generation),
    ];
  });
  return renderTable(COLUMNS, rows);
}

function stateColour(state: CredentialState, colour: Palette): (text: string) => string {
  switch (state) {
    case 'ok':
      return colour.green;
    case 'failing':
      return colour.yellow;
    default:
      return colour.red;
  }
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

/** How many terminal rows `lines` take once lines wider than the terminal wrap. */
export function terminalRows(lines: readonly string[], columns: number | undefined): number {
  const width = columns && columns > 0 ? columns : Number.POSITIVE_INFINITY;
  return lines.reduce((rows, line) => rows + Math.max(1, Math.ceil([...stripAnsi(line)].length / width)), 0);
}
