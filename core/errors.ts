/**
 * The error classes of token-rotator. Callers, metrics and tags switch on `code`, never on the
 * message text. Messages name the credential and what to do, and never carry a secret.
 */

/** Stable codes, one per class of failure (DESIGN.md "Errors are classified"). */
export type ErrorCode =
  | 'InvalidCredentials'
  | 'InvalidConfiguration'
  | 'IssuerUnavailable'
  | 'MalformedResponse'
  | 'TokenExpired'
  | 'StoreError'
  | 'VersionLimitExceeded'
  | 'InvalidTokenRecord'
  | 'InternalError';

export interface TokenRotatorErrorOptions {
  /** The credential the failure belongs to, when known. */
  credential?: string | undefined;
  /** The HTTP status the issuer answered with, when there was one. */
  status?: number | undefined;
  /** Seconds the issuer asked us to wait (Retry-After), when it said so. */
  retryAfterSeconds?: number | undefined;
  /** A finer-grained reason inside the class, e.g. `timeout`, `network`, `token-expired-on-arrival`. */
  reason?: string | undefined;
  cause?: unknown;
}

/**
 * Base class of every error token-rotator throws on purpose.
 *
 * @example
 * ```ts
 * try { await obtainToken(config, { credential: 'sirv-prod' }); }
 * catch (e) { if (e instanceof TokenRotatorError && e.code === 'InvalidCredentials') alert(e); }
 * ```
 */
export class TokenRotatorError extends Error {
  readonly code: ErrorCode;
  /** Whether a later attempt may succeed without anybody changing anything. */
  readonly transient: boolean;
  readonly credential: string | undefined;
  readonly status: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly reason: string | undefined;

  constructor(code: ErrorCode, transient: boolean, message: string, options: TokenRotatorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenRotatorError';
    this.code = code;
    this.transient = transient;
    this.credential = options.credential;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.reason = options.reason;
  }

  /** A plain, secret-free view for logs and invoke results. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      transient: this.transient,
      credential: this.credential,
      status: this.status,
      retryAfterSeconds: this.retryAfterSeconds,
      reason: this.reason,
      message: this.message,
    };
  }
}

/** The issuer rejected the client id/secret (401/403, `invalid_client`). Permanent: alert, stop retrying. */
export class InvalidCredentialsError extends TokenRotatorError {
  declare readonly code: 'InvalidCredentials';
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('InvalidCredentials', false, message, options);
    this.name = 'InvalidCredentialsError';
  }
}

/** The request or its configuration is wrong (400, bad input, a bad URL). Permanent. */
export class InvalidConfigurationError extends TokenRotatorError {
  declare readonly code: 'InvalidConfiguration';
  /** The input field at fault, as a dotted path, when there is one. */
  readonly field: string | undefined;
  constructor(message: string, options?: TokenRotatorErrorOptions & { field?: string | undefined }) {
    super('InvalidConfiguration', false, message, options);
    this.name = 'InvalidConfigurationError';
    this.field = options?.field;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), field: this.field };
  }
}

/** The issuer could not be reached or is overloaded (5xx, 429, timeout, network). Transient: back off and retry. */
export class IssuerUnavailableError extends TokenRotatorError {
  declare readonly code: 'IssuerUnavailable';
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('IssuerUnavailable', true, message, options);
    this.name = 'IssuerUnavailableError';
  }
}

/** The issuer answered 2xx with something we cannot use. Transient, but alerted. */
export class MalformedResponseError extends TokenRotatorError {
  declare readonly code: 'MalformedResponse';
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('MalformedResponse', true, message, options);
    this.name = 'MalformedResponseError';
  }
}

/** A stored token is past its `expiresAt` and no fresh one could be read. */
export class TokenExpiredError extends TokenRotatorError {
  declare readonly code: 'TokenExpired';
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('TokenExpired', true, message, options);
    this.name = 'TokenExpiredError';
  }
}

/** Secrets Manager refused or failed an operation the SDK's own retries could not get through. */
export class StoreError extends TokenRotatorError {
  declare readonly code: 'StoreError';
  constructor(message: string, options?: TokenRotatorErrorOptions & { transient?: boolean }) {
    super('StoreError', options?.transient ?? true, message, options);
    this.name = 'StoreError';
  }
}

/**
 * Secrets Manager refused a new version of the token secret: it keeps every version younger than
 * 24 hours, and past its quota of versions a write is refused until the oldest age out. Transient:
 * writes resume as versions age, so the rotator backs off (an hour) instead of retrying each tick.
 */
export class VersionLimitExceededError extends TokenRotatorError {
  declare readonly code: 'VersionLimitExceeded';
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('VersionLimitExceeded', true, message, options);
    this.name = 'VersionLimitExceededError';
  }
}

/**
 * A stored token record that cannot be parsed (not JSON, bad fields, expiring before it was issued).
 * Transient: the rotator replaces such a value with a good token on its next refresh. Carries no
 * part of the value.
 */
export class InvalidTokenRecordError extends TokenRotatorError {
  declare readonly code: 'InvalidTokenRecord';
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('InvalidTokenRecord', true, message, options);
    this.name = 'InvalidTokenRecordError';
  }
}

/**
 * A failure that is no failure of the issuer, the store or the input: our bug or the platform's.
 * Built by {@link unexpectedError}, whose message names only the kind of what was thrown.
 */
export class InternalError extends TokenRotatorError {
  declare readonly code: 'InternalError';
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('InternalError', true, message, options);
    this.name = 'InternalError';
  }
}

/**
 * Every error class token-rotator throws, as a union that a `switch (error.code)` narrows to
 * the class of each case.
 *
 * @example
 * ```ts
 * if (isTokenRotatorError(e)) {
 *   switch (e.code) {
 *     case 'InvalidConfiguration': console.error(e.field); break; // e is InvalidConfigurationError
 *     case 'StoreError': console.error(e.transient); break;
 *   }
 * }
 * ```
 */
export type AnyTokenRotatorError =
  | InvalidCredentialsError
  | InvalidConfigurationError
  | IssuerUnavailableError
  | MalformedResponseError
  | TokenExpiredError
  | StoreError
  | VersionLimitExceededError
  | InvalidTokenRecordError
  | InternalError;

/** True for any error token-rotator raised on purpose; `code` then narrows it to its class. */
export function isTokenRotatorError(value: unknown): value is AnyTokenRotatorError {
  return value instanceof TokenRotatorError;
}

/**
 * `value` as a token-rotator error: itself when it is one, else an {@link InternalError} for
 * `credential` that names only the kind of what was thrown (its text may hold anything).
 */
export function unexpectedError(value: unknown, credential: string): AnyTokenRotatorError {
  if (isTokenRotatorError(value)) return value;
  const kind = value instanceof Error ? value.name : typeof value;
  return new InternalError(`Credential "${credential}": refresh failed unexpectedly (${kind}).`, {
    credential,
    reason: kind,
  });
}

/**
 * The error class of `code`, for a failure reported across a process boundary (the rotator
 * Lambda's answer) by its code alone. A code this version does not know is treated as the
 * issuer being unavailable: transient, so callers retry rather than give up.
 *
 * @example
 * ```ts
 * throw errorFromCode(answer.error.code, answer.error.message, { credential: 'sirv-prod' });
 * ```
 */
export function errorFromCode(
  code: string | undefined,
  message: string,
  options: TokenRotatorErrorOptions & { transient?: boolean } = {},
): AnyTokenRotatorError {
  const known = code as ErrorCode | undefined;
  switch (known) {
    case 'InvalidCredentials':
      return new InvalidCredentialsError(message, options);
    case 'InvalidConfiguration':
      return new InvalidConfigurationError(message, options);
    case 'MalformedResponse':
      return new MalformedResponseError(message, options);
    case 'TokenExpired':
      return new TokenExpiredError(message, options);
    case 'StoreError':
      return new StoreError(message, options);
    case 'VersionLimitExceeded':
      return new VersionLimitExceededError(message, options);
    case 'InvalidTokenRecord':
      return new InvalidTokenRecordError(message, options);
    case 'InternalError':
      return new InternalError(message, options);
    default:
      return new IssuerUnavailableError(message, options);
  }
}

/**
 * The codes after which refreshing cannot help until somebody changes the credential's client
 * secret: the rotator stops retrying (the credential is *blocked*) and a newer client secret
 * lifts the block. Every other code is retried with backoff.
 */
export const CODES_BLOCKING_UNTIL_CLIENT_CHANGES: ReadonlySet<string> = new Set<ErrorCode>([
  'InvalidCredentials',
  'InvalidConfiguration',
]);

/** Whether a failure of `code` (a code, or a `last-error` tag) blocks the credential until its client secret changes. */
export function blocksUntilClientChanges(code: string | undefined): boolean {
  return code !== undefined && CODES_BLOCKING_UNTIL_CLIENT_CHANGES.has(code);
}
