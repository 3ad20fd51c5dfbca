/** The registry of base issuer kinds: `kind` → implementation. Presets expand before lookup. */
import type { BaseIssuerConfig, BaseIssuerKind, JwtBearerIssuerConfig, SignedJwtIssuerConfig } from './config';
import { headerJwtIssuer } from './header-jwt';
import { jsonIssuer } from './json';
import { oauth2Issuer } from './oauth2';
import type { IssueContext, IssuedToken, Issuer } from './types';

let signedJwt: Promise<typeof import('./signed-jwt.js')> | undefined;

/**
 * The signed-jwt kind, loaded on its first token: its key tools (jose's signing, key generation
 * and export, the KMS signer) are the largest part of the issuer modules, and a rotator whose
 * credentials are of other kinds never needs them. A failed load is tried again next time.
 */
const signedJwtIssuer: Issuer<SignedJwtIssuerConfig> = {
  kind: 'signed-jwt',
  async obtainToken(config, context) {
    signedJwt ??= import('./signed-jwt.js').catch((e: unknown) => {
      signedJwt = undefined;
      throw e;
    });
    return (await signedJwt).signedJwtIssuer.obtainToken(config, context);
  },
};

let jwtBearer: Promise<typeof import('./jwt-bearer.js')> | undefined;

/** The jwt-bearer kind, loaded on its first token for the same reason as signed-jwt: it signs with jose. */
const jwtBearerIssuer: Issuer<JwtBearerIssuerConfig> = {
  kind: 'jwt-bearer',
  async obtainToken(config, context) {
    jwtBearer ??= import('./jwt-bearer.js').catch((e: unknown) => {
      jwtBearer = undefined;
      throw e;
    });
    return (await jwtBearer).jwtBearerIssuer.obtainToken(config, context);
  },
};

type IssuerRegistry = { readonly [K in BaseIssuerKind]: Issuer<Extract<BaseIssuerConfig, { kind: K }>> };

/** Every base kind's implementation. */
export const issuerRegistry: IssuerRegistry = {
  json: jsonIssuer,
  oauth2: oauth2Issuer,
  'header-jwt': headerJwtIssuer,
  'signed-jwt': signedJwtIssuer,
  'jwt-bearer': jwtBearerIssuer,
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
    case 'jwt-bearer':
      return issuerRegistry['jwt-bearer'].obtainToken(config, context);
  }
}
