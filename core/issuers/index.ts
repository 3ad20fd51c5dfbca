/**
 * The issuer layer: turn an issuer configuration into a fresh token, or a classified error.
 * Knows nothing of AWS.
 */
import { expandPreset, parseIssuerConfig } from './config';
import { dispatchIssuer } from './registry';
import { assertStorableToken } from './token-value';
import type { IssueContext, IssuedToken } from './types';

/**
 * Validates an issuer configuration (as stored under `issuer` in the client secret), expands its
 * preset and obtains a fresh token.
 *
 * @throws `InvalidConfigurationError` for a bad configuration or a refused request,
 * `InvalidCredentialsError`, `IssuerUnavailableError` or `MalformedResponseError` (see `errors.ts`).
 *
 * @example
 * ```ts
 * const token = await obtainToken(
 *   { kind: 'sirv', clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R', clientSecret },
 *   { credential: 'sirv-prod' },
 * );
 * console.log(token.expiresAt.toISOString());
 * ```
 */
export async function obtainToken(input: unknown, context: IssueContext): Promise<IssuedToken> {
  const config = expandPreset(parseIssuerConfig(input, { credential: context.credential }));
  // Checked once here, for every kind: nothing an issuer hands over is stored or sent unchecked.
  return assertStorableToken(await dispatchIssuer(config, context), context.credential, config.kind);
}

export {
  type BaseIssuerConfig,
  type BaseIssuerKind,
  DEFAULT_LIFETIME_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
  describeIssues,
  expandPreset,
  type HeaderJwtIssuerConfig,
  ISSUER_KINDS,
  type IssuerConfig,
  type IssuerConfigInput,
  type IssuerKindName,
  issuerConfigSchema,
  type JsonIssuerConfig,
  type OAuth2IssuerConfig,
  PRESET_URLS,
  parseIssuerConfig,
  type SignedJwtIssuerConfig,
  secretValuesOf,
} from './config';
export { type ExpiryInput, isJwt, jwtExpiresAt, MIN_USABLE_SECONDS, resolveExpiry } from './expiry';
export { headerJwtIssuer, obtainHeaderJwtToken } from './header-jwt';
export { type IssuerRequest, type IssuerResponse, parseRetryAfter, sendIssuerRequest } from './http';
export { jsonIssuer, obtainJsonToken } from './json';
export { basicAuthorization, oauth2Issuer, obtainOAuth2Token } from './oauth2';
export { dispatchIssuer, issuerRegistry } from './registry';
export { generateSigningKey, obtainSignedJwtToken, publicKeyPemFromPrivate, signedJwtIssuer } from './signed-jwt';
export { assertStorableToken } from './token-value';
export type { IssueContext, IssuedToken, Issuer, KeySigner } from './types';
