/**
 * How the CLI reports a failure: one line that names the credential (our error classes' messages
 * already do) and says what to do, and the exit code it maps to. A stack trace only with
 * `--debug`. Messages come from token-rotator's own error classes, which never carry a secret;
 * anything else is shown redacted and shortened.
 */
import { awsErrorKind, awsFailureOf } from '../core/aws-failure';
import { type AnyTokenRotatorError, isTokenRotatorError } from '../core/errors';
import { redact } from '../core/redact';
import { EXIT_CODES, type ExitCode } from './exit-codes';

/** A failure as the CLI prints it. */
export interface ErrorReport {
  /** One line, no trailing newline. */
  line: string;
  exitCode: ExitCode;
  /** The stack and causes, for `--debug`. */
  detail: string;
}

const MAX_FOREIGN_MESSAGE = 300;

/**
 * A failure the CLI itself diagnosed (a rotator Lambda that failed, an answer it cannot read),
 * with its message already written for the user and the exit code it calls for.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** What is known of a failure beyond its code: whether it is retried, and the reason inside its class. */
export interface FailureNature {
  /** The error's own verdict (core/errors.ts): a transient failure is retried with backoff. */
  transient?: boolean | undefined;
  /** The finer reason, e.g. the AWS error name of a StoreError (`ThrottlingException`). */
  reason?: string | undefined;
}

/**
 * What to add to a failure of class `code` (a stable error code of core/errors.ts, or an AWS
 * error name), as a short sentence; empty when there is nothing useful to add. An issuer's
 * failure message already says what went wrong and what to check (core/issuers/http.ts), so its
 * hint only says what the rotator does about it. A store failure's hint follows its nature: a
 * throttled or otherwise transient one passes by itself (credentials, region and permissions are
 * not the cause), a permanent one is a configuration to check.
 */
export function hintFor(code: string, nature: FailureNature = {}): string {
  switch (code) {
    case 'InvalidCredentials':
      return 'The rotator will not retry until the client credentials change (pulumi up).';
    case 'InvalidConfiguration':
      return "The rotator will not retry until the credential's configuration changes (pulumi up).";
    case 'IssuerUnavailable':
    case 'MalformedResponse':
      return '';
    case 'TokenExpired':
      return 'Run refresh for it, and check that the rotator is scheduled.';
    case 'StoreError':
      if (nature.reason !== undefined && awsErrorKind(nature.reason) === 'throttled') {
        return "Secrets Manager throttled it (the account's request quota, shared with the rotator): try again later.";
      }
      if (nature.transient === true) {
        // A refresh's outcome carries no reason: its failure is recorded, so the rotator retries it.
        return nature.reason === undefined
          ? 'Transient (throttled, or Secrets Manager unavailable): the rotator retries it, or run refresh again later.'
          : 'Transient: try again later; if it persists, check the region and the network.';
      }
      return 'Check the AWS credentials, region, permissions and --prefix.';
    case 'InvalidTokenRecord':
      return 'Run refresh for it with --force.';
    default:
      return '';
  }
}

// A configuration error of the command line itself (prefix, a name) is fixed on the command line,
// not in the credential's configuration.
function hintOf(error: AnyTokenRotatorError): string {
  switch (error.code) {
    case 'InvalidConfiguration':
      if (error.field === 'prefix') return 'Check --prefix or TOKEN_ROTATOR_PREFIX.';
      return error.credential && error.field !== 'name' ? hintFor(error.code) : '';
    default:
      return hintFor(error.code, { transient: error.transient, reason: error.reason });
  }
}

/** The report of any error thrown while running a command. */
export function reportError(error: unknown): ErrorReport {
  const detail = describeChain(error);
  const aws = awsFailureOf(error);
  if (aws?.kind === 'no-region') {
    return {
      line: 'No AWS region: pass --region or set AWS_REGION (or a region in your AWS profile).',
      exitCode: EXIT_CODES.usage,
      detail,
    };
  }
  if (error instanceof CliError) return { line: oneLine(error.message), exitCode: error.exitCode, detail };
  if (isTokenRotatorError(error)) {
    const hint =
      aws?.kind === 'no-aws-credentials'
        ? 'Configure AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, or an instance role).'
        : hintOf(error);
    return {
      line: joinSentences(oneLine(error.message), hint),
      exitCode: error.code === 'InvalidConfiguration' ? EXIT_CODES.usage : EXIT_CODES.aws,
      detail,
    };
  }
  if (isAwsServiceError(error)) {
    return {
      line: `AWS ${error.name}: ${foreignMessage(error.message)}`,
      exitCode: EXIT_CODES.aws,
      detail,
    };
  }
  const kind = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? foreignMessage(error.message) : '';
  return {
    line: `Unexpected ${kind}${message ? `: ${message}` : ''} (run with --debug for details).`,
    exitCode: EXIT_CODES.aws,
    detail,
  };
}

/** An upstream or platform message: redacted, on one line, shortened. */
export function foreignMessage(message: string): string {
  const clean = oneLine(redact(message));
  return clean.length > MAX_FOREIGN_MESSAGE ? `${clean.slice(0, MAX_FOREIGN_MESSAGE)}…` : clean;
}

/** `text` with every run of whitespace (newlines included) collapsed to one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Two sentences on one line, the first given a full stop when it has none. */
export function joinSentences(first: string, second: string): string {
  if (!second) return first;
  return `${/[.!?]$/.test(first) ? first : `${first}.`} ${second}`;
}

function isAwsServiceError(e: unknown): e is Error & { $metadata: unknown } {
  return e instanceof Error && '$metadata' in e;
}

function* chain(error: unknown): Generator<unknown> {
  let current: unknown = error;
  // Bounded: a cause chain is short, and a cycle must not hang the CLI.
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth += 1) {
    yield current;
    current = current instanceof Error ? current.cause : undefined;
  }
}

function describeChain(error: unknown): string {
  const parts: string[] = [];
  for (const e of chain(error)) {
    parts.push(`${parts.length === 0 ? '' : 'Caused by: '}${debugText(e)}`);
  }
  return parts.join('\n');
}

// Stack frames hold file paths, which the redaction of opaque strings would mangle: only the
// message part is redacted.
function debugText(e: unknown): string {
  if (!(e instanceof Error)) return redact(String(e));
  const head = redact(`${e.name}: ${e.message}`);
  const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  return [head, ...frames].join('\n');
}
