/**
 * Obtaining a token from a validated issuer configuration: expand the preset, dispatch to the
 * kind's implementation. Imports only what that needs (not the key tools the index re-exports),
 * so the rotator's refresh path loads no more than the issuers it uses.
 */
import { expandPreset, type IssuerConfig } from './config';
import { dispatchIssuer } from './registry';
import { assertStorableToken } from './token-value';
import type { IssueContext, IssuedToken } from './types';

/**
 * Expands the preset of a configuration validated where it entered (`parseIssuerConfig`: the
 * provider's inputs, the client document as read) and obtains a fresh token.
 *
 * @throws `InvalidConfigurationError` for a refused request,
 * `InvalidCredentialsError`, `IssuerUnavailableError` or `MalformedResponseError` (see `errors.ts`).
 *
 * @example
 * ```ts
 * const token = await obtainToken(
 *   parseIssuerConfig({ kind: 'sirv', clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R', clientSecret }),
 *   { credential: 'sirv-prod' },
 * );
 * console.log(token.expiresAt.toISOString());
 * ```
 */
export async function obtainToken(issuer: IssuerConfig, context: IssueContext): Promise<IssuedToken> {
  const config = expandPreset(issuer);
  // Checked once here, for every kind: nothing an issuer hands over is stored or sent unchecked.
  return assertStorableToken(await dispatchIssuer(config, context), context.credential, config.kind);
}
