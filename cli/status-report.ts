/**
 * The status report of credentials under a prefix, and its table: what `token-rotator status`
 * prints and what the demo redraws. Reads `ListSecrets` tags, and each token record when asked;
 * never shows a token.
 */
import pLimit from 'p-limit';
import { isTokenRotatorError } from '../core/errors';
import { type CredentialListing, listCredentials, readToken, TOKEN_SUFFIX } from '../core/store';
import type { TokenRecord } from '../core/token';
import type { CliContext } from './context';
import { type CredentialState, type CredentialStatus, credentialStatus, isHealthy } from './credential-status';
import { joinSentences, oneLine, reportError } from './error-report';
import { EXIT_CODES, type ExitCode } from './exit-codes';
import { expiryTime, relativeTime } from './format-duration';
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

/** How many terminal rows `lines` take once lines wider than the terminal wrap. */
export function terminalRows(lines: readonly string[], columns: number | undefined): number {
  const width = columns && columns > 0 ? columns : Number.POSITIVE_INFINITY;
  return lines.reduce((rows, line) => rows + Math.max(1, Math.ceil([...stripAnsi(line)].length / width)), 0);
}
