/**
 * Kind `json` (preset `sirv`): POST a JSON body with the client id/secret, read the token, its
 * lifetime and scope from named fields of the JSON answer.
 */
import { MalformedResponseError } from '../errors';
import { type JsonIssuerConfig, secretValuesOf } from './config';
import { resolveExpiry } from './expiry';
import { classifyHttpFailure, describeRequest, type IssuerRequest, parseJsonObject, sendIssuerRequest } from './http';
import { parseScope } from './scope';
import type { IssueContext, IssuedToken, Issuer } from './types';

/**
 * Obtains a token from a JSON token endpoint such as Sirv's `POST /v2/token`.
 *
 * @example
 * ```ts
 * const token = await obtainJsonToken(expandPreset(parseIssuerConfig({ kind: 'sirv', clientId, clientSecret })),
 *   { credential: 'sirv-prod' });
 * ```
 */
export async function obtainJsonToken(config: JsonIssuerConfig, context: IssueContext): Promise<IssuedToken> {
  const now = context.now ?? (() => new Date());
  const request: IssuerRequest = {
    credential: context.credential,
    kind: config.kind,
    url: config.url,
    method: 'POST',
    // No Authorization header: the `Bearer BEARER_TOKEN_HERE` in Sirv's token example is a
    // placeholder of its docs generator; the token endpoint is what hands out bearer tokens.
    headers: { 'content-type': 'application/json', accept: 'application/json', ...config.headers },
    body: JSON.stringify({ [config.clientIdField]: config.clientId, [config.clientSecretField]: config.clientSecret }),
    timeoutSeconds: config.timeoutSeconds,
    secrets: secretValuesOf(config),
    fetch: context.fetch,
    now,
  };
  const issuedAt = now();
  const response = await sendIssuerRequest(request);
  const body = parseJsonObject(response, request);
  const accessToken = body[config.tokenField];
  if ((typeof accessToken !== 'string' || accessToken.trim() === '') && typeof body.error === 'string') {
    // A 200 that carries an OAuth2-style error instead of a token: `invalid_client` is the issuer
    // rejecting the credentials, whatever the status says.
    throw classifyHttpFailure(response.status, response.headers, response.text, request);
  }
  if (typeof accessToken !== 'string' || accessToken.trim() === '') {
    throw new MalformedResponseError(
      `${describeRequest(request, response.status)} but with no token in "${config.tokenField}"; check tokenField, then retry.`,
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
    statedLifetime: body[config.expiresInField],
    statedLifetimeField: config.expiresInField,
    defaultLifetimeSeconds: config.defaultLifetimeSeconds,
    maxLifetimeSeconds: config.maxLifetimeSeconds,
  });
  return { accessToken, tokenType: config.tokenType, scope: parseScope(body[config.scopeField]), issuedAt, expiresAt };
}

/** The `json` issuer for the registry. */
export const jsonIssuer: Issuer<JsonIssuerConfig> = { kind: 'json', obtainToken: obtainJsonToken };
