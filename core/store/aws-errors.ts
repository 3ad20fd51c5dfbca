/**
 * How the store turns AWS SDK errors into token-rotator's {@link StoreError}: which are
 * transient, what the message says (redacted), and a wrapper for one Secrets Manager call.
 */
import { classifyAwsFailure } from '../aws-failure';
import { StoreError, VersionLimitExceededError } from '../errors';
import { excerpt } from '../redact';

/** How long a write refused for too many young versions waits: versions age out over 24 hours. */
export const VERSION_LIMIT_RETRY_SECONDS = 3600;

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
export function storeError(
  e: unknown,
  credential: string | undefined,
  operation: string,
): StoreError | VersionLimitExceededError {
  if (e instanceof StoreError || e instanceof VersionLimitExceededError) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as AwsErrorLike;
  const name = typeof err.name === 'string' ? err.name : 'UnknownError';
  const who = credential ? `Credential "${credential}": ` : '';
  if (name === 'LimitExceededException' && operation === 'PutSecretValue') {
    return new VersionLimitExceededError(
      `${who}Secrets Manager refused a new version of the token secret (LimitExceededException): it keeps every version younger than 24 hours, and this secret has too many. Writes resume as versions age; the rotator retries in an hour. Look for what writes this secret so often (forced refreshes, a policy with allowFrequentWrites).`,
      {
        credential,
        status: err.$metadata?.httpStatusCode,
        reason: name,
        retryAfterSeconds: VERSION_LIMIT_RETRY_SECONDS,
        cause: e,
      },
    );
  }
  const status = err.$metadata?.httpStatusCode;
  // Throttling, 5xx and no answer at all (connection refused, reset, DNS) pass by themselves.
  const { transient } = classifyAwsFailure(e);
  const detail = typeof err.message === 'string' && err.message ? `: ${excerpt(err.message)}` : '';
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
