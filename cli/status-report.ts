/**
 * The status report of credentials under a prefix, and its table: what `token-rotator status`
 * prints and what the demo redraws. Reads `ListSecrets` tags, and each token record when asked;
 * never shows a token.
 */
import pLimit from 'p-limit';
import { isTokenRotatorError } from '../core/errors';
import { readToken } from '../core/store';
import type { TokenRecord } from '../core/token';
import type { CliContext } from './context';
import {
  type CredentialState,
  type CredentialStatus,
  credentialStatus,
  DEFAULT_STATUS_OPTIONS,
  OVERDUE_INTERVALS,
  refreshOverdue,
  type StatusOptions,
} from './credential-status';
import { emptyPrefixLine } from './empty-prefix';
import { joinSentences, oneLine, reportError } from './error-report';
import { EXIT_CODES, type ExitCode } from './exit-codes';
import { expiryTime, formatDuration, relativeTime } from './format-duration';
import { absentTokenLine, listPrefix } from './prefix-listing';
import { renderTable, type TableColumn } from './table';
import { type Palette, stripAnsi } from './terminal';

/** How many token records are read at once. */
const READ_CONCURRENCY = 8;

/** The statuses of the credentials, and the problems met while reading them (one line each). */
export interface StatusReport {
  statuses: CredentialStatus[];
  problems: string[];
  /** The exit code this report calls for. */
  exitCode: ExitCode;
}

/** Options of {@link collectStatus}. */
export interface CollectOptions extends StatusOptions {
  /** An empty prefix is fine: exit 0, not {@link EXIT_CODES.noCredentials}. */
  allowEmpty?: boolean | undefined;
}

/** The states `status` exits {@link EXIT_CODES.unhealthy} for. */
const UNHEALTHY: ReadonlySet<CredentialState> = new Set([
  'missing',
  'no-token',
  'unreadable',
  'expired',
  'blocked',
  'failing',
]);

/**
 * Reads the statuses of `names` (every credential when empty) under the context's prefix, from
 * tags and, with `readValues`, each token record (at most {@link READ_CONCURRENCY} at once).
 *
 * @throws {StoreError} when listing fails; a failed read of one record is a problem of its row.
 */
export async function collectStatus(
  context: CliContext,
  names: string[],
  readValues: boolean,
  options: CollectOptions = DEFAULT_STATUS_OPTIONS,
): Promise<StatusReport> {
  const store = context.store();
  const listed = await listPrefix(store);
  const now = context.now();
  const problems: string[] = [];
  let awsFailure = false;
  const limit = pLimit(READ_CONCURRENCY);
  const order = names.length > 0 ? [...new Set(names)] : [...listed.tokens.keys(), ...listed.clientOnly].sort();
  if (order.length === 0) {
    const line = options.allowEmpty ? [] : [await emptyPrefixLine(context)];
    return { statuses: [], problems: line, exitCode: options.allowEmpty ? EXIT_CODES.ok : EXIT_CODES.noCredentials };
  }
  const statuses = await Promise.all(
    order.map((name) =>
      limit(async (): Promise<CredentialStatus> => {
        const listing = listed.tokens.get(name);
        if (!listing) {
          const clientOnly = listed.clientOnly.has(name);
          problems.push(absentTokenLine(name, store.prefix, clientOnly));
          return credentialStatus({ name, clientOnly }, now, options);
        }
        if (!readValues) return credentialStatus({ name, listing }, now, options);
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
          return credentialStatus({ name, listing, unreadable: true }, now, options);
        }
        return credentialStatus({ name, listing, record, unreadable: record === undefined }, now, options);
      }),
    ),
  );
  if (rotatorAbsent(statuses, now, options)) {
    problems.push(
      `No rotator seems to serve prefix "${store.prefix}": the refresh of every token is overdue by more than ` +
        `${OVERDUE_INTERVALS} schedule intervals (${formatDuration(OVERDUE_INTERVALS * options.scheduleIntervalSeconds)}). ` +
        'Deploy a TokenRotator for this prefix or check that its schedule is enabled, or run "token-rotator sweep" ' +
        'on a schedule; if the rotator runs less often, pass its interval with --schedule-interval.',
    );
  }
  return { statuses, problems: problems.map(oneLine), exitCode: exitCodeOf(statuses, awsFailure) };
}

/** The exit code of a report: an AWS failure first, then a credential in trouble, then an overdue one. */
function exitCodeOf(statuses: readonly CredentialStatus[], awsFailure: boolean): ExitCode {
  if (awsFailure) return EXIT_CODES.aws;
  if (statuses.some((s) => UNHEALTHY.has(s.state))) return EXIT_CODES.unhealthy;
  if (statuses.some((s) => s.state === 'overdue')) return EXIT_CODES.overdue;
  return EXIT_CODES.ok;
}

/**
 * True when nothing seems to refresh this prefix: every token a rotator would have refreshed
 * (one with a refresh time, no failure recorded and not blocked) is overdue, expired ones
 * included. Failing and blocked credentials say nothing either way: failure tags are written by
 * whoever tried, and blocked ones are left alone by design.
 */
function rotatorAbsent(statuses: readonly CredentialStatus[], now: Date, options: StatusOptions): boolean {
  const judged = statuses.filter(
    (s) => s.refreshAfter !== null && (s.state === 'ok' || s.state === 'overdue' || s.state === 'expired'),
  );
  return (
    judged.length > 0 &&
    judged.every((s) => s.refreshAfter !== null && refreshOverdue(new Date(s.refreshAfter), now, options))
  );
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
    case 'overdue':
      return colour.yellow;
    default:
      return colour.red;
  }
}

/** How many terminal rows `lines` take once lines wider than the terminal wrap. */
export function terminalRows(lines: readonly string[], columns: number | undefined): number {
  const width = columns && columns > 0 ? columns : Number.POSITIVE_INFINITY;
  return lines.reduce((rows, line) => rows + Math.max(1, Math.ceil([...stripAnsi(line)].length / width)), 0);
}
