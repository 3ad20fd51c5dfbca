/**
 * Sirv "Get JWT protected URL" (`POST /v2/files/jwt`, seed 000) on top of the {@link TokenReader}:
 * the request is checked against the endpoint's JSON schema before anything is sent, and the call
 * goes through `reader.fetch`, so a rotated token is picked up on a 401.
 */
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  MalformedResponseError,
  TokenRotatorError,
} from '../core/errors';
import { MAX_ANSWER_BYTES, readBoundedBody } from '../core/issuers/http';
import { excerpt } from '../core/redact';
import { parseRetryAfter } from '../core/untrusted-time';
import * as z from '../core/zod';
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
}

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
 * @throws {@link InvalidConfigurationError} for a bad request or another 4xx.
 * @throws {@link IssuerUnavailableError} for 429, 5xx and network failures.
 * @throws {@link MalformedResponseError} when a 2xx body is not JSON.
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
  const where = `Credential "${credentialName}": Sirv POST ${ENDPOINT}`;

  let response: Response;
  let text: string;
  try {
    response = await reader.fetch(
      credentialName,
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        redirect: 'error',
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
      options.fetch === undefined ? {} : { fetch: options.fetch },
    );
    // Bounded like every issuer answer: an endless or inflating body costs the cap, not the workload.
    const answer = await readBoundedBody(response, MAX_ANSWER_BYTES, options.signal);
    if (answer.truncated && response.ok) {
      throw new MalformedResponseError(
        `${where} answered ${response.status} with a body over ${MAX_ANSWER_BYTES / 1024} KiB; retry later.`,
        { credential: credentialName, status: response.status, reason: 'answer-too-large' },
      );
    }
    text = new TextDecoder('utf-8').decode(answer.bytes);
  } catch (error) {
    // The reader's own errors (expired token, unreadable secret) already say what to do, and an
    // abort is the caller's own doing.
    if (error instanceof TokenRotatorError) throw error;
    if (error instanceof Error && error.name === 'AbortError') throw error;
    // The cause keeps only the error's name and code: a platform message may quote the request's
    // headers, and so the token.
    throw new IssuerUnavailableError(`${where} failed before an answer arrived (network or timeout).`, {
      credential: credentialName,
      reason: 'network',
      cause: nameOnly(error),
    });
  }

  if (!response.ok) throw classifyFailure(where, credentialName, response, text);
  if (text.trim() === '') return { url: undefined, body: undefined, status: response.status };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MalformedResponseError(
      `${where} answered ${response.status} with a body that is not JSON: ${excerpt(text)}`,
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

function classifyFailure(where: string, credential: string, response: Response, text: string): TokenRotatorError {
  const status = response.status;
  const quoted = excerpt(text);
  const options = { credential, status };
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
