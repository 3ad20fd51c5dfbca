/**
 * What a failed AWS SDK call failed on, read from the error the SDK threw: no credentials, no
 * region, credentials AWS refused, access denied, a missing secret, throttling, an outage. One
 * classification for every side that talks to AWS (the store, the reader, the CLI), so they
 * judge the same errors transient and name the same cause and the same fix.
 *
 * It reads only an error's name, message, `$metadata` and `$fault`, and keeps nothing of it: the
 * SDK attaches the raw HTTP response to its errors, which a caller that remembers failures must
 * not hold on to.
 *
 * The AWS error names are those of Secrets Manager's "Common Errors" and the operations' own
 * errors (API reference), e.g. "AccessDeniedException: You do not have sufficient access to
 * perform this action", "DecryptionFailure: Secrets Manager can't decrypt the protected secret
 * text using the provided KMS key", "InvalidRequestException: … The secret is scheduled for
 * deletion", "ThrottlingException: The request was denied due to request throttling", plus the
 * names the JSON protocol uses for refused credentials (`UnrecognizedClientException`,
 * `ExpiredTokenException`).
 */

/** The cause of a failed AWS call, from the caller's side of the fix. */
export type AwsFailureKind =
  /** The SDK's credential chain found no credentials (`CredentialsProviderError`). */
  | 'no-aws-credentials'
  /** AWS refused the credentials: unknown key, expired session, bad signature. */
  | 'aws-credentials-rejected'
  /** No region configured (the SDK's "Region is missing"). */
  | 'no-region'
  /** The identity may not make this call on this resource (IAM, a resource policy, an SCP). */
  | 'access-denied'
  /** No such resource in this account and region. */
  | 'not-found'
  /** The resource is in a state that refuses the call (a secret scheduled for deletion). */
  | 'invalid-request'
  /** The secret's KMS key cannot be used to decrypt it. */
  | 'decryption-failed'
  /** The account's request quota is used up for now. */
  | 'throttled'
  /** The service failed or could not be reached (5xx, timeout, network). */
  | 'unavailable'
  /** Any other refusal (a parameter AWS rejects). */
  | 'rejected';

/** A failed AWS call, classified. Holds no part of the SDK's error or response. */
export interface AwsFailure {
  kind: AwsFailureKind;
  /** The AWS error name (`ResourceNotFoundException`, …) or the SDK's (`CredentialsProviderError`, `TimeoutError`). */
  errorName: string;
  /** The HTTP status of AWS's answer, when there was one. */
  status: number | undefined;
  /** Whether the same call may succeed later without anybody changing anything. */
  transient: boolean;
  /** What to do, as one sentence with no trailing full stop, for the kinds whose fix does not depend on the call. */
  fix: string;
}

const CREDENTIALS_REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'RequestExpired',
]);
const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'NotAuthorized', 'UnauthorizedOperation']);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
]);
const UNAVAILABLE = new Set([
  'InternalServiceError',
  'InternalServiceFailure',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);
const BY_NAME: ReadonlyMap<string, AwsFailureKind> = new Map<string, AwsFailureKind>([
  ...[...CREDENTIALS_REJECTED].map((name) => [name, 'aws-credentials-rejected'] as const),
  ...[...ACCESS_DENIED].map((name) => [name, 'access-denied'] as const),
  ...[...THROTTLED].map((name) => [name, 'throttled'] as const),
  ...[...UNAVAILABLE].map((name) => [name, 'unavailable'] as const),
  ['CredentialsProviderError', 'no-aws-credentials'],
  ['ResourceNotFoundException', 'not-found'],
  ['InvalidRequestException', 'invalid-request'],
  ['DecryptionFailure', 'decryption-failed'],
]);

/** The kind of failure an AWS error name stands for, when it is one this module knows by name. */
export function awsErrorKind(errorName: string): AwsFailureKind | undefined {
  return BY_NAME.get(errorName);
}

/** The fixes that do not depend on which call failed. */
const FIXES: Record<AwsFailureKind, string> = {
  'no-aws-credentials':
    'no AWS credentials were found: give the process credentials through the standard chain (an IAM role for the Lambda, task or instance; AWS_PROFILE; AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; or SSO)',
  'aws-credentials-rejected':
    'AWS refused the credentials (unknown, expired or mis-signed): renew them (a new session, aws sso login, or new keys)',
  'no-region': 'no AWS region is configured: set AWS_REGION (or a region in the AWS profile, or on the client)',
  'access-denied': "the AWS identity in use may not make this call: check its IAM policy and the resource's",
  'not-found': 'AWS found no such resource: check the region, the prefix and the name',
  'invalid-request':
    'the resource refuses the call in its current state (a secret scheduled for deletion is restored by pulumi up)',
  'decryption-failed': "grant the identity kms:Decrypt on the secret's KMS key, and check the key is enabled",
  throttled: "AWS throttled the call (the account's request quota): it passes by itself; retry after a back-off",
  unavailable: 'AWS failed or could not be reached: it passes by itself; retry after a back-off',
  rejected: 'AWS rejected the call',
};

interface AwsErrorLike {
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * The classified failure of `error`, looking through its `cause` chain (a store or CLI error may
 * wrap the SDK's); `undefined` when no AWS SDK error is in it.
 *
 * @example
 * ```ts
 * const failure = awsFailureOf(error);
 * if (failure?.kind === 'no-region') console.error(`${failure.fix}.`);
 * ```
 */
export function awsFailureOf(error: unknown): AwsFailure | undefined {
  let current: unknown = error;
  // Bounded: a cause chain is short, and a cycle must not hang the caller.
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth += 1) {
    const failure = classifyOne(current as AwsErrorLike);
    if (failure !== undefined) return failure;
    current = (current as AwsErrorLike).cause;
  }
  return undefined;
}

/**
 * The classified failure of an error thrown by an AWS SDK call: like {@link awsFailureOf}, but an
 * error that is not recognisably AWS's counts as a network failure (transient), as the SDK throws
 * the platform's own errors (`ECONNREFUSED`, a reset socket) as they are.
 */
export function classifyAwsFailure(error: unknown): AwsFailure {
  return awsFailureOf(error) ?? failure('unavailable', errorNameOf(error), undefined, true);
}

function classifyOne(error: AwsErrorLike): AwsFailure | undefined {
  const name = typeof error.name === 'string' ? error.name : '';
  const message = typeof error.message === 'string' ? error.message : '';
  // The SDK's missing-region error is a plain Error with no name or code of its own: its message
  // is all there is to recognise it by.
  if (/Region is missing/i.test(message)) return failure('no-region', name || 'Error', undefined, false);
  const rawStatus = error.$metadata?.httpStatusCode;
  const status = typeof rawStatus === 'number' ? rawStatus : undefined;
  const known = BY_NAME.get(name);
  if (known !== undefined) {
    return failure(known, name, status, known === 'throttled' || known === 'unavailable');
  }
  // Not an AWS answer we know by name: only an error the SDK built (it has `$metadata`) is AWS's.
  if (error.$metadata === undefined) return undefined;
  const answered = status !== undefined;
  if (!answered || status >= 500 || status === 429 || error.$fault === 'server' || error.$retryable !== undefined) {
    return failure(status === 429 ? 'throttled' : 'unavailable', name || 'Error', status, true);
  }
  return failure('rejected', name || 'Error', status, false);
}

function failure(kind: AwsFailureKind, errorName: string, status: number | undefined, transient: boolean): AwsFailure {
  return { kind, errorName, status, transient, fix: FIXES[kind] };
}

function errorNameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
