/**
 * Kind `oauth2` (preset `aspose`): the RFC 6749 §4.4 client credentials grant, form-encoded,
 * with `client_secret_post` or `client_secret_basic`. Forty lines of `fetch` and
 * `URLSearchParams`: a client library would add a dependency and its own error model, and we
 * need ours (see `http.ts`).
 */
import { MalformedResponseError } from '../errors';
import { type OAuth2IssuerConfig, secretValuesOf } from './config';
import { resolveExpiry } from './expiry';
import { classifyHttpFailure, describeRequest, type IssuerRequest, parseJsonObject, sendIssuerRequest } from './http';
import { formatScope, parseScope } from './scope';
import type { IssueContext, IssuedToken, Issuer } from './types';

/**
 * Obtains an access token with the client credentials grant.
 *
 * @example
 * ```ts
 * const token = await obtainOAuth2Token(
 *   { kind: 'oauth2', tokenUrl: 'https://auth.example.com/token', clientId, clientSecret,
 *     authMethod: 'client_secret_basic', scope: ['files:read'] },
 *   { credential: 'files-api' },
 * );
 * ```
 */
export async function obtainOAuth2Token(config: OAuth2IssuerConfig, context: IssueContext): Promise<IssuedToken> {
  const now = context.now ?? (() => new Date());
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (config.authMethod === 'client_secret_basic') {
    headers.authorization = basicAuthorization(config.clientId, config.clientSecret);
  } else {
    form.set('client_id', config.clientId);
    form.set('client_secret', config.clientSecret);
  }
  const scope = formatScope(config.scope);
  if (scope !== undefined) form.set('scope', scope);
  if (config.audience !== undefined) form.set('audience', config.audience);

  const request: IssuerRequest = {
    credential: context.credential,
    kind: config.kind,
    url: config.tokenUrl,
    method: 'POST',
    headers,
    body: form.toString(),
    timeoutSeconds: config.timeoutSeconds,
    secrets: secretValuesOf(config),
    fetch: context.fetch,
    now,
  };
  const issuedAt = now();
  const response = await sendIssuerRequest(request);
  const body = parseJsonObject(response, request);
  if (typeof body.error === 'string') {
    // Some servers answer 200 with an RFC 6749 §5.2 error body.
    throw classifyHttpFailure(response.status, response.headers, response.text, request);
  }
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || accessToken.trim() === '') {
    throw new MalformedResponseError(
      `${describeRequest(request, response.status)} but with no access_token; retry later, and check tokenUrl if it persists.`,
      { credential: context.credential, status: response.status, reason: 'missing-token' },
    );
  }
  const expiresAt = resolveExpiry({
    credential: context.credential,
    kind: config.kind,
    accessToken,
    issuedAt,
    receivedAt: now(),
    statedLifetime: body.expires_in,
    statedLifetimeField: 'expires_in',
    defaultLifetimeSeconds: config.defaultLifetimeSeconds,
    maxLifetimeSeconds: config.maxLifetimeSeconds,
  });
  return {
    accessToken,
    tokenType: normaliseTokenType(body.token_type),
    scope: parseScope(body.scope),
    issuedAt,
    expiresAt,
  };
}

/**
 * The `Authorization` value of `client_secret_basic`: RFC 6749 §2.3.1 form-urlencodes the id and
 * the secret *before* base64, so `+`, `/`, `=` and `:` in a secret survive the trip.
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`).toString('base64')}`;
}

/** `application/x-www-form-urlencoded` encoding of one value (space as `+`). */
function formUrlEncode(value: string): string {
  return new URLSearchParams([['v', value]]).toString().slice(2);
}

/** Token types are case-insensitive (RFC 6749 §5.1); `bearer` is written `Bearer`. Default Bearer. */
function normaliseTokenType(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') return 'Bearer';
  return value.trim().toLowerCase() === 'bearer' ? 'Bearer' : value.trim();
}

/** The `oauth2` issuer for the registry. */
export const oauth2Issuer: Issuer<OAuth2IssuerConfig> = { kind: 'oauth2', obtainToken: obtainOAuth2Token };
