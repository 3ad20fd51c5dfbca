/**
 * Kind `signed-jwt` (preset `upload`): no request. An RS256 JWT `{sub, iat, exp, access?}` is
 * minted with a private key kept in the client secret, or signed by a KMS key (`kms.keyId`) so
 * that no private key is stored anywhere; the matching public key is registered with the service
 * (Upload's dashboard).
 */
import { createPublicKey } from 'node:crypto';
// jose's subpaths, not its index: a refresh from sources or dist/ then loads the dozen modules it
// uses instead of all of jose's (JWE, JWKS and the rest); a bundle is tree-shaken either way.
import { SignJWT } from 'jose/jwt/sign';
import { UnsecuredJWT } from 'jose/jwt/unsecured';
import { exportPKCS8, exportSPKI } from 'jose/key/export';
import { generateKeyPair } from 'jose/key/generate/keypair';
import { InvalidConfigurationError } from '../errors';
import { signWithKeySigner } from './assertion';
import type { SignedJwtIssuerConfig } from './config';
import { resolveExpiry } from './expiry';
import { readRsaSigningKey } from './private-key';
import type { IssueContext, IssuedToken, Issuer } from './types';

/**
 * Mints a signed JWT valid for `ttlSeconds` (capped by `maxLifetimeSeconds`).
 *
 * @example
 * ```ts
 * const { privateKeyPem, publicKeyPem } = await generateSigningKey();
 * const token = await obtainSignedJwtToken(
 *   { kind: 'signed-jwt', subject: 'user-xyz', privateKeyPem, ttlSeconds: 3600 },
 *   { credential: 'upload-prod' },
 * );
 * ```
 */
export async function obtainSignedJwtToken(config: SignedJwtIssuerConfig, context: IssueContext): Promise<IssuedToken> {
  const key = config.kms ? undefined : readRsaSigningKey(config.privateKeyPem, context.credential);
  const issuedAt = (context.now ?? (() => new Date()))();
  const iat = Math.floor(issuedAt.getTime() / 1000);
  const ttl = Math.min(config.ttlSeconds, config.maxLifetimeSeconds ?? config.ttlSeconds);
  const claims = <T extends SignJWT | UnsecuredJWT>(jwt: T): T => {
    jwt
      .setSubject(config.subject)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl);
    if (config.issuer !== undefined) jwt.setIssuer(config.issuer);
    if (config.audience !== undefined) jwt.setAudience(config.audience);
    return jwt;
  };
  const payload = { ...(config.access === undefined ? {} : { access: config.access }) };
  const header = { alg: 'RS256' as const, typ: 'JWT', ...(config.keyId === undefined ? {} : { kid: config.keyId }) };
  const accessToken = key
    ? await claims(new SignJWT(payload)).setProtectedHeader(header).sign(key)
    : await signWithKeySigner(claims(new UnsecuredJWT(payload)), header, config.kms?.keyId ?? '', context);
  const expiresAt = resolveExpiry({
    credential: context.credential,
    kind: config.kind,
    accessToken,
    issuedAt,
    statedLifetime: ttl,
    statedLifetimeField: 'ttlSeconds',
    maxLifetimeSeconds: config.maxLifetimeSeconds,
  });
  return { accessToken, tokenType: 'Bearer', issuedAt, expiresAt };
}

/**
 * Generates an extractable RSA 2048 key pair for RS256, as PKCS#8 (private) and SPKI (public) PEM.
 *
 * @example
 * ```ts
 * const { privateKeyPem, publicKeyPem } = await generateSigningKey();
 * ```
 */
export async function generateSigningKey(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  return { privateKeyPem: await exportPKCS8(privateKey), publicKeyPem: await exportSPKI(publicKey) };
}

/**
 * The SPKI PEM public key of a PEM private key (PKCS#8 or PKCS#1), to register with the service.
 *
 * @throws {@link InvalidConfigurationError} naming `issuer.privateKeyPem` when the key is unreadable.
 */
export function publicKeyPemFromPrivate(privateKeyPem: string, credential?: string): string {
  const key = readRsaSigningKey(privateKeyPem, credential);
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** The `signed-jwt` issuer for the registry. */
export const signedJwtIssuer: Issuer<SignedJwtIssuerConfig> = { kind: 'signed-jwt', obtainToken: obtainSignedJwtToken };
