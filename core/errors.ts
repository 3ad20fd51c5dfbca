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
  | 'StoreError';

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
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('InvalidCredentials', false, message, options);
    this.name = 'InvalidCredentialsError';
  }
}

/** The request or its configuration is wrong (400, bad input, a bad URL). Permanent. */
export class InvalidConfigurationError extends TokenRotatorError {
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
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('IssuerUnavailable', true, message, options);
    this.name = 'IssuerUnavailableError';
  }
}

/** The issuer answered 2xx with something we cannot use. Transient, but alerted. */
export class MalformedResponseError extends TokenRotatorError {
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('MalformedResponse', true, message, options);
    this.name = 'MalformedResponseError';
  }
}

/** A stored token is past its `expiresAt` and no fresh one could be read. */
export class TokenExpiredError extends TokenRotatorError {
  constructor(message: string, options?: TokenRotatorErrorOptions) {
    super('TokenExpired', true, message, options);
    this.name = 'TokenExpiredError';
  }
}

/** Secrets Manager refused or failed an operation the SDK's own retries could not get through. */
export class StoreError extends TokenRotatorError {
  constructor(message: string, options?: TokenRotatorErrorOptions & { transient?: boolean }) {
    super('StoreError', options?.transient ?? true, message, options);
    this.name = 'StoreError';
  }
}

/** True for any error token-rotator raised on purpose. */
export function isTokenRotatorError(value: unknown): value is TokenRotatorError {
  return value instanceof TokenRotatorError;
}
