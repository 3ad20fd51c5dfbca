/**
 * Kind `header-jwt`: the client id/secret go in request headers (`client-id`, `client-secret`),
 * the JWT comes back in a response header (`Authorization: Bearer <jwt>`).
 */
import { MalformedResponseError } from '../errors';
import { type HeaderJwtIssuerConfig, secretValuesOf } from './config';
import { isJwt, resolveExpiry } from './expiry';
import { describeRequest, type IssuerRequest, sendIssuerRequest } from './http';
import type { IssueContext, IssuedToken, Issuer } from './types';

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Obtains a JWT from a header-authenticated endpoint (`GET /auth/jwt`).
 * The vendor documents a 1-hour validity: that is the stated lifetime (`defaultLifetimeSeconds`),
 * and the JWT's own `exp` wins when earlier.
 *
 * @example
 * ```ts
 * const token = await obtainHeaderJwtToken(
 *   parseIssuerConfig({ kind: 'header-jwt', url: 'https://api.example.com/auth/jwt', clientId, clientSecret }),
 *   { credential: 'partner-api' },
 * );
 * ```
 */
export async function obtainHeaderJwtToken(config: HeaderJwtIssuerConfig, context: IssueContext): Promise<IssuedToken> {
  const now = context.now ?? (() => new Date());
  const request: IssuerRequest = {
    credential: context.credential,
    kind: config.kind,
    url: config.url,
    method: config.method,
    headers: { [config.clientIdHeader]: config.clientId, [config.clientSecretHeader]: config.clientSecret },
    timeoutSeconds: config.timeoutSeconds,
    secrets: secretValuesOf(config),
    fetch: context.fetch,
    now,
    // The token is in a header; the body is never used, so it is not read.
    discardAnswerBody: true,
  };
  const issuedAt = now();
  const response = await sendIssuerRequest(request);
  const header = response.headers.get(config.tokenHeader);
  const where = describeRequest(request, response.status);
  const malformed = (what: string, reason: string) =>
    new MalformedResponseError(`${where} but ${what}; check tokenHeader and the URL, then retry.`, {
      credential: context.credential,
      status: response.status,
      reason,
    });
  if (header === null || header.trim() === '')
    throw malformed(`without a "${config.tokenHeader}" header`, 'missing-token');
  const accessToken = BEARER.exec(header.trim())?.[1];
  if (accessToken === undefined)
    throw malformed(`the "${config.tokenHeader}" header is not "Bearer <JWT>"`, 'not-bearer');
  if (!isJwt(accessToken)) throw malformed(`the "${config.tokenHeader}" header does not carry a JWT`, 'not-a-jwt');
  const expiresAt = resolveExpiry({
    credential: context.credential,
    kind: config.kind,
    accessToken,
    issuedAt,
    receivedAt: now(),
    issuerDate: response.headers.get('date'),
    statedLifetime: config.defaultLifetimeSeconds,
    statedLifetimeField: 'defaultLifetimeSeconds',
    trustedLifetime: true,
    maxLifetimeSeconds: config.maxLifetimeSeconds,
  });
  return { accessToken, tokenType: 'Bearer', issuedAt, expiresAt };
}

/** The `header-jwt` issuer for the registry. */
export const headerJwtIssuer: Issuer<HeaderJwtIssuerConfig> = { kind: 'header-jwt', obtainToken: obtainHeaderJwtToken };
