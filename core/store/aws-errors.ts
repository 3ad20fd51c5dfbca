/**
 * How the store turns AWS SDK errors into token-rotator's {@link StoreError}: which are
 * transient, what the message says (redacted), and a wrapper for one Secrets Manager call.
 */
import { StoreError } from '../errors';
import { excerpt } from '../redact';

const TRANSIENT_AWS_ERRORS = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

interface AwsErrorLike {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** The AWS error name (`ResourceNotFoundException`, …) of an SDK error, if it is one. */
function awsErrorName(e: unknown): string | undefined {
  return e instanceof Error ? e.name : undefined;
}

/** Whether `e` is the AWS error called `name` (`ResourceNotFoundException`, …). */
export function isAwsError(e: unknown, name: string): boolean {
  return awsErrorName(e) === name;
}

/**
 * Wraps an SDK error in a {@link StoreError} naming the credential, the operation and the AWS
 * error name. Throttling, 5xx and network failures are transient; access, validation and
 * not-found errors are permanent. The AWS message is redacted and shortened: AWS never echoes a
 * secret value, but an idempotency token or an ARN is all it should ever add.
 */
export function storeError(e: unknown, credential: string | undefined, operation: string): StoreError {
  if (e instanceof StoreError) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as AwsErrorLike;
  const name = typeof err.name === 'string' ? err.name : 'UnknownError';
  const status = err.$metadata?.httpStatusCode;
  const isServiceError = err.$metadata !== undefined && err.$fault !== undefined;
  const transient =
    TRANSIENT_AWS_ERRORS.has(name) ||
    err.$retryable !== undefined ||
    err.$fault === 'server' ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    // No response at all (connection refused, reset, DNS): the service may well be back soon.
    !isServiceError;
  const detail = typeof err.message === 'string' && err.message ? `: ${excerpt(err.message)}` : '';
  const who = credential ? `Credential "${credential}": ` : '';
  return new StoreError(
    `${who}Secrets Manager ${operation} failed with ${name}${status ? ` (HTTP ${status})` : ''}${detail}`,
    { credential, status, reason: name, transient, cause: e },
  );
}

/** Runs one SDK call of `operation`, turning its failure into a {@link StoreError} for `credential`. */
export async function call<T>(credential: string | undefined, operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw storeError(e, credential, operation);
  }
}
