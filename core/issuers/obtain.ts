/**
 * Obtaining a token from an issuer configuration: validate, expand the preset, dispatch to the
 * kind's implementation. Imports only what that needs (not the key tools the index re-exports),
 * so the rotator's refresh path loads no more than the issuers it uses.
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
