/**
 * Kind `jwt-bearer` (presets `google-service-account`, `salesforce`): the RFC 7523 §2.1
 * authorization grant. An assertion `{iss, sub?, aud, iat, exp, jti, ...claims}` signed with the
 * credential's key (a PEM, or a KMS key that never lets it out) is exchanged at the token
 * endpoint for an access token; no client secret is needed unless the server also authenticates
 * the client.
 */
import { JWT_BEARER_GRANT_TYPE, signAssertion, withFreshAssertionRetry } from './assertion';
import { type JwtBearerIssuerConfig, secretValuesOf } from './config';
import { exchangeAtTokenEndpoint } from './oauth2';
import { formatScope } from './scope';
import type { IssueContext, IssuedToken, Issuer } from './types';

/**
 * Obtains an access token with the JWT bearer grant.
 *
 * @example
 * ```ts
 * const token = await obtainJwtBearerToken(
 *   { kind: 'jwt-bearer', tokenUrl: 'https://auth.example.com/oauth2/token', issuer: 'https://ci.example.com',
 *     subject: 'deploy-bot', scope: ['files:read'], kms: { keyId: 'alias/ci-assertions' } },
 *   { credential: 'files-api' },
 * );
 * ```
 */
export async function obtainJwtBearerToken(config: JwtBearerIssuerConfig, context: IssueContext): Promise<IssuedToken> {
  const form = new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE });
  const scope = formatScope(config.scope);
  if (scope !== undefined) form.set('scope', scope);
  // RFC 7523 §2.1 leaves client authentication optional: sent only when configured.
  if (config.clientId !== undefined) form.set('client_id', config.clientId);
  if (config.clientSecret !== undefined) form.set('client_secret', config.clientSecret);
  return withFreshAssertionRetry(async () => {
    const assertion = await signAssertion(
      config,
      { iss: config.issuer, sub: config.subject, aud: config.audience ?? config.tokenUrl, extra: config.claims },
      context,
    );
    form.set('assertion', assertion);
    return exchangeAtTokenEndpoint(
      config,
      {
        form,
        headers: {},
        secrets: [...secretValuesOf(config), assertion],
        credentialFields:
          'issuer, subject and the signing key (is its public key registered with the authorization server for this issuer?)',
      },
      context,
    );
  });
}

/** The `jwt-bearer` issuer for the registry. */
export const jwtBearerIssuer: Issuer<JwtBearerIssuerConfig> = { kind: 'jwt-bearer', obtainToken: obtainJwtBearerToken };
