/**
 * Sirv "Get JWT protected URL" (`POST /v2/files/jwt`, seed 000) on top of the {@link TokenReader}:
 * the request is checked against the endpoint's JSON schema before anything is sent, and the call
 * goes through `reader.fetch`, so a rotated token is picked up on a 401.
 */

import {
  type BoundedBody,
  decodeLenient,
  decodeStrictUtf8,
  MAX_ANSWER_BYTES,
  readBoundedBody,
  redirectTarget,
  untilAborted,
} from '../core/bounded-http';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  MalformedResponseError,
  TokenRotatorError,
} from '../core/errors';
import { DEFAULT_TIMEOUT_SECONDS } from '../core/issuers/config';
import { excerpt } from '../core/redact';
import { parseRetryAfter } from '../core/untrusted-time';
import * as z from '../core/zod';
import type { SendPreparer } from './authorized-fetch';
import type { TokenReader } from './token-reader';

/** Sirv's REST API. */
export const SIRV_API_BASE_URL = 'https://api.sirv.com';
/** The JSON schema's `maxLength` of `filename`. */
export const SIRV_FILENAME_MAX_LENGTH = 1024;

const typed = (type: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : `must be ${type}`),
});

/**
 * Seed 000's body schema, exactly: `filename` (string, `^\/`, `maxLength` 1024) and `expiresIn`
 * (number) required; `alias` (string), `secureParams` and `insecureParams` (objects with any
 * properties) optional; `additionalProperties: false`.
 */
export const sirvProtectedUrlRequestSchema = z.strictObject({
  filename: z.string(typed('a string')).check(
    z.refine((value) => value.startsWith('/'), 'must start with "/"'),
    // JSON Schema counts characters (code points), not UTF-16 units.
    z.refine(
      (value) => [...value].length <= SIRV_FILENAME_MAX_LENGTH,
      `must be at most ${SIRV_FILENAME_MAX_LENGTH} characters`,
    ),
  ),
  expiresIn: z.number(typed('a number (seconds)')),
  alias: z.optional(z.string(typed('a string'))),
  secureParams: z.optional(z.record(z.string(), z.unknown(), typed('an object'))),
  insecureParams: z.optional(z.record(z.string(), z.unknown(), typed('an object'))),
});

/** Body of `POST /v2/files/jwt`. */
export type SirvProtectedUrlRequest = z.infer<typeof sirvProtectedUrlRequestSchema>;

/** Options of {@link createProtectedUrl}. */
export interface SirvProtectedUrlOptions {
  /** `https://api.sirv.com` by default; plain `http://` is accepted for loopback hosts only. */
  baseUrl?: string;
  /** HTTP implementation for this call; the reader's own otherwise. */
  fetch?: typeof fetch;
  /** Aborts the request. */
  signal?: AbortSignal;
  /**
   * Seconds each request may take, from sending it to the last byte of the answer; default 10,
   * at most 120 (as an issuer's `timeoutSeconds`).
   */
  timeoutSeconds?: number;
}

/** The most {@link SirvProtectedUrlOptions.timeoutSeconds} may be, as for an issuer request. */
const MAX_TIMEOUT_SECONDS = 120;

/** What Sirv answered: the parsed JSON body, and its `url` when there is one. */
export interface SirvProtectedUrl {
  /** The JWT-protected URL, when the answer has a string `url` field. */
  url: string | undefined;
  /** The parsed JSON body; `undefined` for an empty body (the document's example answer is empty). */
  body: unknown;
  status: number;
}

const ALLOWED_FIELDS = Object.keys(sirvProtectedUrlRequestSchema.shape).join(', ');
const ENDPOINT = '/v2/files/jwt';

/**
 * Validates `request` against the endpoint's schema; throws {@link InvalidConfigurationError}
 * naming the first field at fault (and listing every problem), never quoting a value.
 */
export function parseSirvProtectedUrlRequest(request: unknown, credential?: string): SirvProtectedUrlRequest {
  const parsed = sirvProtectedUrlRequestSchema.safeParse(request);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue): { field: string; problem: string }[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: key,
        problem: `${key}: is not a property of this request (allowed: ${ALLOWED_FIELDS})`,
      }));
    }
    const field = issue.path.map(String).join('.') || 'request';
    const message = field === 'request' ? 'must be a JSON object' : issue.message;
    return [{ field, problem: `${field}: ${message}` }];
  });
  const who = credential === undefined ? '' : `Credential "${credential}": `;
  throw new InvalidConfigurationError(
    `${who}invalid Sirv protected URL request: ${problems.map((p) => p.problem).join('; ')}.`,
    { credential, field: problems[0]?.field ?? 'request', reason: 'invalid-request' },
  );
}

/**
 * Asks Sirv for a JWT-protected URL of a file (`POST /v2/files/jwt`) with the token the rotator
 * keeps for `credentialName`. The request is validated first: an invalid one throws
 * {@link InvalidConfigurationError} and nothing is sent.
 *
 * @throws {@link InvalidCredentialsError} when Sirv rejects the token (401/403) even after a re-read.
 * @throws {@link InvalidConfigurationError} for a redirect (naming its target), a bad request or another 4xx.
 * @throws {@link IssuerUnavailableError} for 429, 5xx, network failures and an answer that takes longer
 *   than `timeoutSeconds` (headers and body).
 * @throws {@link MalformedResponseError} when a 2xx body is not UTF-8 JSON or is over the size cap.
 *
 * @example
 * ```ts
 * import { TokenReader, createProtectedUrl } from 'token-rotator/reader';
 *
 * const reader = new TokenReader();
 * const { url } = await createProtectedUrl(reader, 'sirv-prod', {
 *   filename: '/products/shoe.jpg',
 *   expiresIn: 300,
 *   secureParams: { w: 600 },
 * });
 * ```
 */
export async function createProtectedUrl(
  reader: Pick<TokenReader, 'fetch'>,
  credentialName: string,
  request: SirvProtectedUrlRequest,
  options: SirvProtectedUrlOptions = {},
): Promise<SirvProtectedUrl> {
  const body = parseSirvProtectedUrlRequest(request, credentialName);
  const url = endpointUrl(options.baseUrl ?? SIRV_API_BASE_URL, credentialName);
  const timeoutMs = timeoutMsOf(options.timeoutSeconds, credentialName);
  const where = `Credential "${credentialName}": Sirv POST ${ENDPOINT}`;
  const caller = options.signal;

  // Each request the reader sends (up to three: re-read, rotator) gets its own time limit from
  // the moment it is sent, so a rotator invocation between two requests is not counted. A reader
  // that is not a TokenReader may ignore prepareSend: its one window then starts here.
  const tokensSent: string[] = [];
  let deadline = AbortSignal.timeout(timeoutMs);
  const withDeadline = (signal: AbortSignal) => (caller === undefined ? signal : AbortSignal.any([signal, caller]));
  const init: RequestInit = {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    // Manual, as for issuers: a 3xx comes back as an answer whose target can be named.
    redirect: 'manual',
    signal: withDeadline(deadline),
  };
  const prepareSend: SendPreparer = (sent, accessToken) => {
    tokensSent.push(accessToken);
    deadline = AbortSignal.timeout(timeoutMs);
    return { ...sent, signal: withDeadline(deadline) };
  };

  let response: Response;
  let answer: BoundedBody;
  try {
    response = await reader.fetch(
      credentialName,
      url,
      init,
      options.fetch === undefined ? { prepareSend } : { fetch: options.fetch, prepareSend },
    );
    // Bounded like every issuer answer, in size and time: an endless, inflating or trickling body
    // costs the cap or the time limit, not the workload.
    const signal = withDeadline(deadline);
    answer = await untilAborted(() => readBoundedBody(response, MAX_ANSWER_BYTES, signal), signal);
  } catch (error) {
    // The reader's own errors (expired token, unreadable secret) already say what to do, and an
    // abort is the caller's own doing.
    if (error instanceof TokenRotatorError) throw error;
    if (caller?.aborted) throw error;
    if (error instanceof Error && error.name === 'AbortError' && !deadline.aborted) throw error;
    if (deadline.aborted || (error instanceof Error && error.name === 'TimeoutError')) {
      throw new IssuerUnavailableError(
        `${where} did not answer within ${timeoutMs / 1000} s; retry later, or raise timeoutSeconds if Sirv is slow.`,
        { credential: credentialName, reason: 'timeout', cause: nameOnly(error) },
      );
    }
    // The cause keeps only the error's name and code: a platform message may quote the request's
    // headers, and so the token.
    throw new IssuerUnavailableError(`${where} failed before an answer arrived (network).`, {
      credential: credentialName,
      reason: 'network',
      cause: nameOnly(error),
    });
  }

  if (!response.ok) {
    throw classifyFailure(where, credentialName, url, response, decodeLenient(answer.bytes), tokensSent);
  }
  if (answer.truncated) {
    throw new MalformedResponseError(
      `${where} answered ${response.status} with a body over ${MAX_ANSWER_BYTES / 1024} KiB; retry later.`,
      { credential: credentialName, status: response.status, reason: 'answer-too-large' },
    );
  }
  const text = decodeStrictUtf8(answer.bytes);
  if (text === undefined) {
    // Decoding leniently would hand the workload a URL with replacement characters in it.
    throw new MalformedResponseError(
      `${where} answered ${response.status} with a body that is not valid UTF-8; retry later, and report it to Sirv if it persists.`,
      { credential: credentialName, status: response.status, reason: 'not-utf8' },
    );
  }
  if (text.trim() === '') return { url: undefined, body: undefined, status: response.status };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MalformedResponseError(
      `${where} answered ${response.status} with a body that is not JSON: ${quote(text, tokensSent)}`,
      {
        credential: credentialName,
        status: response.status,
        reason: 'not-json',
      },
    );
  }
  const urlField = (parsed as { url?: unknown } | null)?.url;
  return { url: typeof urlField === 'string' ? urlField : undefined, body: parsed, status: response.status };
}

function timeoutMsOf(seconds: number | undefined, credential: string): number {
  if (seconds === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  if (typeof seconds !== 'number' || !(seconds > 0) || seconds > MAX_TIMEOUT_SECONDS) {
    throw new InvalidConfigurationError(
      `Credential "${credential}": timeoutSeconds must be a number greater than 0 and at most ${MAX_TIMEOUT_SECONDS}.`,
      { credential, field: 'timeoutSeconds' },
    );
  }
  return seconds * 1000;
}

/**
 * A redacted excerpt of Sirv's answer, without any token the request carried (whatever its
 * shape or length); when one would still show (a token too short to redact, or one that is part
 * of the redaction marker), nothing is quoted at all.
 */
function quote(text: string, tokensSent: readonly string[]): string {
  const quoted = excerpt(text, tokensSent);
  return tokensSent.some((token) => quoted.includes(token)) ? '(answer not quoted: it would show the token)' : quoted;
}

/** Refuses to send a bearer token in clear text anywhere but to this machine. */
function endpointUrl(baseUrl: string, credential: string): string {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new InvalidConfigurationError(`Credential "${credential}": baseUrl is not a valid URL.`, {
      credential,
      field: 'baseUrl',
    });
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname);
  if (base.protocol !== 'https:' && !(base.protocol === 'http:' && loopback)) {
    throw new InvalidConfigurationError(
      `Credential "${credential}": baseUrl must use https:// (http:// only for 127.0.0.1/localhost).`,
      { credential, field: 'baseUrl' },
    );
  }
  // Keep a path prefix (a proxy mount) instead of letting an absolute path replace it.
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}${ENDPOINT}`;
}

function classifyFailure(
  where: string,
  credential: string,
  url: string,
  response: Response,
  text: string,
  tokensSent: readonly string[],
): TokenRotatorError {
  const status = response.status;
  const quoted = quote(text, tokensSent);
  const options = { credential, status };
  if (status >= 300 && status < 400) {
    const target = redirectTarget(response.headers, url, tokensSent);
    return new InvalidConfigurationError(
      `${where} redirected${target ? ` to ${target}` : ''}; set baseUrl to the final API address instead.`,
      { ...options, reason: 'redirect', field: 'baseUrl' },
    );
  }
  if (status === 401 || status === 403) {
    return new InvalidCredentialsError(
      `${where} rejected the stored token (${status}) even after re-reading it: ${quoted}. ` +
        'Check the credential in the TokenRotator alarms, and that its scope includes files access.',
      { ...options, reason: 'token-rejected' },
    );
  }
  if (status === 408 || status === 429 || status >= 500) {
    return new IssuerUnavailableError(`${where} answered ${status}: ${quoted}`, {
      ...options,
      retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after'), () => new Date()),
      reason: status === 429 ? 'rate-limited' : 'unavailable',
    });
  }
  return new InvalidConfigurationError(`${where} refused the request (${status}): ${quoted}`, {
    ...options,
    reason: 'rejected-request',
  });
}

function nameOnly(error: unknown): Error {
  const name = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | null)?.cause?.code;
  const cause = new Error(typeof code === 'string' ? `${name} (${code.slice(0, 32)})` : name);
  cause.name = name;
  return cause;
}
