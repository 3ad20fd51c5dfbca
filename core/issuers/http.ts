/**
 * The one HTTP exchange every HTTP issuer kind goes through: timeout, no redirects, and the
 * classification of every failure into the error classes of DESIGN.md. Nothing secret ever
 * reaches a message, a reason or a cause.
 */

import {
  type BoundedBody,
  decodeLenient,
  decodeStrictUtf8,
  MAX_ANSWER_BYTES,
  readBoundedBody,
  redirectTarget,
  safeUrl,
  untilAborted,
} from '../bounded-http';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  MalformedResponseError,
  type TokenRotatorError,
} from '../errors';
import { excerpt } from '../redact';
import { parseRetryAfter } from '../untrusted-time';
import { DEFAULT_TIMEOUT_SECONDS } from './config';

export { parseRetryAfter } from '../untrusted-time';

/** One request to an issuer, with everything needed to describe its failure. */
export interface IssuerRequest {
  /** Credential name, for messages. */
  credential: string;
  /** Issuer kind, for messages. */
  kind: string;
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string | undefined;
  /** Seconds before the request is abandoned; defaults to {@link DEFAULT_TIMEOUT_SECONDS}. */
  timeoutSeconds?: number | undefined;
  /** Values to redact from any quoted upstream text (see `secretValuesOf`). */
  secrets: readonly string[];
  /** What to check when the issuer rejects the credentials; `clientId/clientSecret` unless said. */
  credentialFields?: string | undefined;
  /** HTTP client seam; defaults to the global `fetch`. */
  fetch?: typeof fetch | undefined;
  /** Clock seam that turns an HTTP-date `Retry-After` into seconds. */
  now?: (() => Date) | undefined;
  /**
   * The token comes in a response header (header-jwt): a 2xx body is cancelled unread, so an
   * unused body can never fail the refresh (not UTF-8, over the cap) nor cost its download.
   * A failure's body is still read (bounded) to be quoted.
   */
  discardAnswerBody?: boolean | undefined;
}

/** A 2xx answer, its body already read. */
export interface IssuerResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** OAuth2 error codes (RFC 6749 §5.2) that mean the client itself was rejected. */
const CREDENTIAL_ERROR_CODES = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant']);
/**
 * Codes that say "not now" (RFC 6749 §4.1.2.1's `temporarily_unavailable` and `server_error`,
 * RFC 8628's `slow_down`, and `jti_known`: an assertion's `jti` the server has seen already, as
 * Ory Hydra answers a replayed RFC 7523 assertion), whatever the status they come with: retry,
 * never block. A replay says nothing about the key; a fresh assertion gets through.
 */
const TRANSIENT_ERROR_CODES = new Set(['temporarily_unavailable', 'server_error', 'slow_down', 'jti_known']);
/** Every standard OAuth2 token error code; only these are trusted enough to become a `reason`. */
const OAUTH_ERROR_CODES = new Set([
  ...CREDENTIAL_ERROR_CODES,
  ...TRANSIENT_ERROR_CODES,
  'invalid_request',
  'invalid_scope',
  'unsupported_grant_type',
  'invalid_target',
]);

/**
 * Sends one request to an issuer and returns its 2xx answer, or throws a classified error:
 * 401/403 and OAuth2 `invalid_client`/`unauthorized_client`/`invalid_grant` →
 * {@link InvalidCredentialsError}; 3xx, 400 and other 4xx → {@link InvalidConfigurationError};
 * 408, 429, 5xx, timeouts and network failures → {@link IssuerUnavailableError} (with
 * `retryAfterSeconds` when the issuer sent `Retry-After`).
 *
 * @example
 * ```ts
 * const response = await sendIssuerRequest({
 *   credential: 'sirv-prod', kind: 'json', url: 'https://api.sirv.com/v2/token', method: 'POST',
 *   headers: { 'content-type': 'application/json' }, body, secrets: secretValuesOf(config),
 * });
 * ```
 */
export async function sendIssuerRequest(request: IssuerRequest): Promise<IssuerResponse> {
  const fetchImpl = request.fetch ?? globalThis.fetch;
  const signal = AbortSignal.timeout((request.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000);
  let response: Response;
  try {
    response = await untilAborted(
      () =>
        fetchImpl(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          redirect: 'manual',
          signal,
        }),
      signal,
    );
  } catch (error) {
    throw transportError(error, signal, request);
  }
  const ok = response.status >= 200 && response.status < 300;
  if (ok && request.discardAnswerBody === true) {
    // Not awaited: a stream's cancel may itself never settle, and nothing waits on it.
    response.body?.cancel().catch(() => {});
    return { status: response.status, headers: response.headers, text: '' };
  }
  let answer: BoundedBody;
  try {
    // The timeout covers the body too: a trickling answer is abandoned like a silent one.
    answer = await untilAborted(() => readBoundedBody(response, MAX_ANSWER_BYTES, signal), signal);
  } catch (error) {
    throw bodyError(error, signal, request, response.status);
  }
  if (!ok) {
    // A failure's body is only quoted (redacted, truncated): its first bytes are enough.
    throw classifyHttpFailure(response.status, response.headers, decodeLenient(answer.bytes), request);
  }
  if (answer.truncated) {
    throw new MalformedResponseError(
      `${describeRequest(request, response.status)} with an answer over ${MAX_ANSWER_BYTES / 1024} KiB (after decompression), far more than a token answer; retry later, and report it to the issuer if it persists.`,
      { credential: request.credential, status: response.status, reason: 'answer-too-large' },
    );
  }
  const text = decodeStrictUtf8(answer.bytes);
  if (text === undefined) {
    // Decoding leniently would store a token with replacement characters in it: refuse.
    throw new MalformedResponseError(
      `${describeRequest(request, response.status)} with a body that is not valid UTF-8; retry later, and report it to the issuer if it persists.`,
      { credential: request.credential, status: response.status, reason: 'not-utf8' },
    );
  }
  return { status: response.status, headers: response.headers, text };
}

/** A body that failed mid-stream: the issuer's doing, so transient, never a configuration error. */
function bodyError(error: unknown, signal: AbortSignal, request: IssuerRequest, status: number): TokenRotatorError {
  if (signal.aborted) return transportError(error, signal, request);
  return new IssuerUnavailableError(
    `${describeRequest(request, status)} but the answer broke off while it was read (${networkCode(error) ?? 'read error'}); retry later.`,
    {
      credential: request.credential,
      status,
      reason: 'body-read-failed',
      cause: new TransportFailure('body read failed', networkCode(error)),
    },
  );
}

/**
 * Classifies a non-2xx answer (or a 2xx carrying an OAuth2 `error`) into an error class.
 * Exported for the OAuth2 kind, whose servers sometimes put an error in a 200 body.
 */
export function classifyHttpFailure(
  status: number,
  headers: Headers,
  text: string,
  request: Pick<IssuerRequest, 'credential' | 'kind' | 'url' | 'secrets' | 'now' | 'credentialFields'>,
): TokenRotatorError {
  const where = describeRequest(request, status);
  const upstream = quoteUpstream(text, request.secrets);
  const oauthError = oauthErrorCode(text);
  const base = { credential: request.credential, status };

  if (status >= 300 && status < 400) {
    const target = redirectTarget(headers, request.url, request.secrets);
    return new InvalidConfigurationError(
      `${where} redirected${target ? ` to ${target}` : ''}; configure the final token URL instead.`,
      { ...base, reason: 'redirect', field: 'issuer.url' },
    );
  }
  const notNow = oauthError !== undefined && TRANSIENT_ERROR_CODES.has(oauthError);
  if (status === 429 || status === 408 || status >= 500 || notNow) {
    const retryAfterSeconds = parseRetryAfter(headers.get('retry-after'), request.now ?? (() => new Date()));
    const wait = retryAfterSeconds === undefined ? 'retry later' : `retry in ${retryAfterSeconds} s (Retry-After)`;
    const reason =
      status === 429
        ? 'rate-limited'
        : status === 408
          ? 'timeout'
          : status >= 500
            ? 'server-error'
            : (oauthError ?? 'unavailable');
    return new IssuerUnavailableError(`${where}; the issuer is unavailable, ${wait}.${upstream}`, {
      ...base,
      reason,
      retryAfterSeconds,
    });
  }
  if (status === 401 || status === 403 || (oauthError !== undefined && CREDENTIAL_ERROR_CODES.has(oauthError))) {
    return new InvalidCredentialsError(
      `${where}; the issuer rejected the client credentials, check ${request.credentialFields ?? 'clientId/clientSecret'}.${upstream}`,
      { ...base, reason: oauthError ?? `http-${status}` },
    );
  }
  if (status === 400 || oauthError !== undefined) {
    return new InvalidConfigurationError(
      `${where}; the issuer refused the request, check the issuer configuration (fields, scope, audience).${upstream}`,
      { ...base, reason: oauthError ?? 'bad-request' },
    );
  }
  if (status >= 400 && status < 500) {
    return new InvalidConfigurationError(
      `${where}; check the issuer URL and method (is this the token endpoint?).${upstream}`,
      { ...base, reason: `http-${status}`, field: 'issuer.url' },
    );
  }
  return new MalformedResponseError(`${where}, an unexpected status; retry later.${upstream}`, {
    ...base,
    reason: 'unexpected-status',
  });
}

/**
 * Parses a 2xx body as a JSON object, or throws {@link MalformedResponseError} quoting at most a
 * redacted excerpt of it.
 */
export function parseJsonObject(
  response: IssuerResponse,
  request: Pick<IssuerRequest, 'credential' | 'kind' | 'url' | 'secrets'>,
): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(response.text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedResponseError(
      `${describeRequest(request, response.status)} but the body is not a JSON object; retry later, and check the URL if it persists.${quoteUpstream(response.text, request.secrets)}`,
      { credential: request.credential, status: response.status, reason: 'not-json' },
    );
  }
  return value as Record<string, unknown>;
}

/** `Credential "x": json issuer at https://host/path answered 401`, the common start of every message. */
export function describeRequest(
  request: Pick<IssuerRequest, 'credential' | 'kind' | 'url'> & { secrets?: readonly string[] | undefined },
  status?: number,
): string {
  const answered = status === undefined ? '' : ` answered ${status}`;
  return `Credential "${request.credential}": ${request.kind} issuer at ${safeUrl(request.url, request.secrets)}${answered}`;
}

function quoteUpstream(text: string, secrets: readonly string[]): string {
  const quoted = excerpt(text, secrets);
  return quoted ? ` Issuer said: "${quoted}"` : '';
}

function oauthErrorCode(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    const code = (parsed as { error?: unknown } | null)?.error;
    return typeof code === 'string' && OAUTH_ERROR_CODES.has(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/** A cause that carries only a name and a code: never the request's headers or body. */
class TransportFailure extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'TransportFailure';
    this.code = code;
  }
}

function transportError(error: unknown, signal: AbortSignal, request: IssuerRequest): TokenRotatorError {
  const where = describeRequest(request);
  const base = { credential: request.credential };
  const timeoutSeconds = request.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (signal.aborted || (error instanceof Error && error.name === 'TimeoutError')) {
    return new IssuerUnavailableError(
      `${where} did not answer within ${timeoutSeconds} s; retry later, or raise timeoutSeconds if the issuer is slow.`,
      { ...base, reason: 'timeout', cause: new TransportFailure('timeout', 'ETIMEDOUT') },
    );
  }
  const code = networkCode(error);
  if (code === 'UND_ERR_HEADERS_OVERFLOW') {
    // The issuer was reached and answered, but its headers (a header-jwt token is one) are larger
    // than the HTTP client accepts: not a network problem, and no URL to check.
    return new MalformedResponseError(
      `${where} answered with response headers larger than the HTTP client accepts (${code}; Node allows 16 KiB unless started with --max-http-header-size); retry later, and report the header size to the issuer if it persists.`,
      { ...base, reason: 'headers-too-large', cause: new TransportFailure('headers too large', code) },
    );
  }
  // undici reports every connection-level failure as `TypeError: fetch failed` with a coded cause.
  if (code !== undefined || (error instanceof TypeError && error.message === 'fetch failed')) {
    return new IssuerUnavailableError(
      `${where} could not be reached (${code ?? 'network error'}); retry later, and check the URL and network if it persists.`,
      { ...base, reason: 'network', cause: new TransportFailure('network error', code) },
    );
  }
  // Anything else (an invalid header value, an unusable URL) may quote what we sent: drop it.
  return new InvalidConfigurationError(
    `${where}: the request could not be sent (${error instanceof Error ? error.name : 'error'}); check the URL and that header values contain no line breaks.`,
    { ...base, reason: 'request-not-sent' },
  );
}

/** Socket-level codes: `ECONNREFUSED`, `EAI_AGAIN`, `UND_ERR_SOCKET`…, not Node's `ERR_*` argument errors. */
const NETWORK_CODE = /^(E[A-Z]+(_[A-Z]+)?|UND_ERR_[A-Z_]+)$/;

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Object; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODE.test(code) && !code.startsWith('ERR_')) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
