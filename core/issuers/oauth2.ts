/**
 * Kind `oauth2` (preset `aspose`): the RFC 6749 §4.4 client credentials grant, form-encoded,
 * with `client_secret_post`, `client_secret_basic` or `private_key_jwt` (RFC 7523 §2.2, a client
 * assertion signed by the credential's key; see `assertion.ts`). Forty lines of `fetch` and
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
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = {};
  const scope = formatScope(config.scope);
  if (scope !== undefined) form.set('scope', scope);
  if (config.audience !== undefined) form.set('audience', config.audience);
  if (config.authMethod !== 'private_key_jwt') {
    const clientSecret = config.clientSecret ?? '';
    if (config.authMethod === 'client_secret_basic') {
      headers.authorization = basicAuthorization(config.clientId, clientSecret);
    } else {
      form.set('client_id', config.clientId);
      form.set('client_secret', clientSecret);
    }
    return exchangeAtTokenEndpoint(config, { form, headers, secrets: secretValuesOf(config) }, context);
  }
  // Loaded with the first private_key_jwt token: jose's signing is not needed by secret-based clients.
  const { CLIENT_ASSERTION_TYPE, signAssertion, withFreshAssertionRetry } = await import('./assertion.js');
  form.set('client_id', config.clientId);
  form.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
  return withFreshAssertionRetry(async () => {
    // RFC 7523 §3: iss and sub are the client id; aud identifies the authorization server.
    const assertion = await signAssertion(
      config,
      { iss: config.clientId, sub: config.clientId, aud: config.assertionAudience ?? config.tokenUrl },
      context,
    );
    form.set('client_assertion', assertion);
    return exchangeAtTokenEndpoint(
      config,
      {
        form,
        headers,
        secrets: [...secretValuesOf(config), assertion],
        credentialFields: 'clientId and the signing key (is its public key registered with the client?)',
      },
      context,
    );
  });
}

/** What a token endpoint request needs of the kind's configuration. */
export interface TokenEndpointConfig {
  kind: string;
  tokenUrl: string;
  timeoutSeconds?: number | undefined;
  defaultLifetimeSeconds?: number | undefined;
  maxLifetimeSeconds?: number | undefined;
}

/**
 * One form-encoded request to an RFC 6749 token endpoint and its answer (§5.1), read into an
 * {@link IssuedToken}: every failure classified (see `http.ts`), the expiry resolved from
 * `expires_in` and the token's own `exp`. `secrets` are redacted from anything quoted.
 */
export async function exchangeAtTokenEndpoint(
  config: TokenEndpointConfig,
  exchange: {
    form: URLSearchParams;
    headers: Record<string, string>;
    secrets: readonly string[];
    /** What to check when the server rejects the credentials (see `IssuerRequest`). */
    credentialFields?: string | undefined;
  },
  context: IssueContext,
): Promise<IssuedToken> {
  const now = context.now ?? (() => new Date());
  const request: IssuerRequest = {
    credential: context.credential,
    kind: config.kind,
    url: config.tokenUrl,
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...exchange.headers,
    },
    body: exchange.form.toString(),
    timeoutSeconds: config.timeoutSeconds,
    secrets: exchange.secrets,
    credentialFields: exchange.credentialFields,
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
    issuerDate: response.headers.get('date'),
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
