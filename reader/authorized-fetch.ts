/**
 * An HTTP request with a stored token in its `Authorization` header, and what happens on a 401:
 * the token is re-read once and the request retried once if it changed; when it is still
 * rejected, a rotator (when there is one) is asked for a new token and the request retried once
 * more. At most three requests; a body that cannot be replayed (a stream) is never retried.
 */
import { InvalidTokenRecordError, type TokenRecord } from '../core/token';

/**
 * Called just before each request one {@link TokenReader.fetch} call sends (up to three), with
 * the init about to be sent and the access token it carries; returns the init to send instead.
 */
export type SendPreparer = (init: RequestInit, accessToken: string) => RequestInit;

/** Where the tokens of one authorized request come from. */
export interface TokenSource {
  /** The token to send first (the cached one, read when due). */
  current: () => Promise<TokenRecord>;
  /** The token after a 401: the secret read again, bypassing the cache (rate limited by the caller). */
  afterRejection: () => Promise<TokenRecord>;
  /** A token the rotator made because the re-read one was rejected too; absent without a rotator. */
  fromRotator: (() => Promise<TokenRecord | undefined>) | undefined;
}

/** Sends `init` to `url` with the token of `tokens`, retrying a 401 as the module comment says. */
export async function authorizedFetch(
  tokens: TokenSource,
  fetchImpl: typeof fetch,
  url: string | URL,
  init: RequestInit,
  prepareSend: SendPreparer | undefined,
): Promise<Response> {
  const send = (record: TokenRecord) => {
    const sent = withAuthorization(init, record);
    return fetchImpl(url, prepareSend === undefined ? sent : prepareSend(sent, record.accessToken));
  };
  let used = await tokens.current();
  let response = await send(used);
  if (response.status !== 401 || !isReplayable(init.body)) return response;

  const reread = await tokens.afterRejection();
  if (reread.accessToken !== used.accessToken) {
    await discard(response);
    used = reread;
    response = await send(used);
    if (response.status !== 401) return response;
  }
  if (tokens.fromRotator === undefined) return response;

  const refreshed = await tokens.fromRotator();
  if (refreshed === undefined || refreshed.accessToken === used.accessToken) return response;
  await discard(response);
  return send(refreshed);
}

/** `Bearer` in its canonical case (OAuth2 servers often say `bearer`; some APIs only accept `Bearer`). */
export function authorizationFor(record: Pick<TokenRecord, 'tokenType' | 'accessToken'>): string {
  const scheme = record.tokenType.toLowerCase() === 'bearer' ? 'Bearer' : record.tokenType;
  return `${scheme} ${record.accessToken}`;
}

function withAuthorization(init: RequestInit, record: TokenRecord): RequestInit {
  const headers = new Headers(init.headers);
  try {
    headers.set('authorization', authorizationFor(record));
  } catch {
    // The platform's TypeError quotes the whole header value, token included: never pass it on.
    throw new InvalidTokenRecordError(
      `Credential "${record.credential}": the stored token cannot be sent in an Authorization header (it holds characters a header cannot carry); refresh it with token-rotator refresh.`,
      { credential: record.credential },
    );
  }
  return { ...init, headers };
}

/** Bodies that can be sent twice; a stream is consumed by the first request. */
function isReplayable(body: RequestInit['body']): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData
  );
}

/** Releases the connection of a response we are not going to return. */
async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to release.
  }
}
