/** The registry of base issuer kinds: `kind` → implementation. Presets expand before lookup. */
import type { BaseIssuerConfig, BaseIssuerKind } from './config';
import { headerJwtIssuer } from './header-jwt';
import { jsonIssuer } from './json';
import { oauth2Issuer } from './oauth2';
import { signedJwtIssuer } from './signed-jwt';
import type { IssueContext, IssuedToken, Issuer } from './types';

type IssuerRegistry = { readonly [K in BaseIssuerKind]: Issuer<Extract<BaseIssuerConfig, { kind: K }>> };

/** Every base kind's implementation. */
export const issuerRegistry: IssuerRegistry = {
  json: jsonIssuer,
  oauth2: oauth2Issuer,
  'header-jwt': headerJwtIssuer,
  'signed-jwt': signedJwtIssuer,
};

/**
 * Runs the implementation of an already validated, preset-expanded configuration.
 *
 * @example
 * ```ts
 * const token = await dispatchIssuer(expandPreset(parseIssuerConfig(input)), { credential: 'sirv-prod' });
 * ```
 */
export function dispatchIssuer(config: BaseIssuerConfig, context: IssueContext): Promise<IssuedToken> {
  switch (config.kind) {
    case 'json':
      return issuerRegistry.json.obtainToken(config, context);
    case 'oauth2':
      return issuerRegistry.oauth2.obtainToken(config, context);
    case 'header-jwt':
      return issuerRegistry['header-jwt'].obtainToken(config, context);
    case 'signed-jwt':
      return issuerRegistry['signed-jwt'].obtainToken(config, context);
  }
}
