/**
 * RFC 7523 JWT assertions signed with the credential's own key: the client assertion of
 * `private_key_jwt` (§2.2) and the authorization grant of `jwt-bearer` (§2.1). The key is a PEM
 * kept in the client secret (RSA for RS256, P-256 for ES256) or a KMS key that never leaves KMS
 * (RSA for RS256, ECC_NIST_P256 for ES256). Each assertion is short-lived, carries a fresh random `jti`, and is used for
 * one request only: it is never logged, stored or quoted.
 */
import { createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
// jose's subpaths, not its index (see signed-jwt.ts): a refresh loads only the modules it uses.
import * as base64url from 'jose/base64url';
import { calculateJwkThumbprint } from 'jose/jwk/thumbprint';
import { SignJWT } from 'jose/jwt/sign';
import { UnsecuredJWT } from 'jose/jwt/unsecured';
import { exportJWK } from 'jose/key/export';
import { InvalidCredentialsError, type TokenRotatorError } from '../errors';
import { kmsKeySigner } from '../kms-signer';
import { type AssertionAlgorithm, readAssertionKey } from './private-key';
import type { IssueContext, KeySigner } from './types';

/**
 * Seconds an assertion stays valid. Short, as RFC 7523 §3 asks, and inside the strictest window a
 * documented vendor gives (Salesforce: `exp` within three minutes); long enough for a slow
 * request and a few seconds of clock skew.
 */
export const ASSERTION_LIFETIME_SECONDS = 120;

/** The `client_assertion_type` of RFC 7523 §2.2. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The `grant_type` of RFC 7523 §2.1. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * Where the signing key is: a PEM in the client secret, or a KMS key with the algorithm it signs
 * (RS256 when not given: the rotator may not read the key to find out). `keyId` is the JWT `kid`.
 */
export interface AssertionKey {
  privateKeyPem?: string | undefined;
  kms?: { keyId: string; alg?: AssertionAlgorithm | undefined } | undefined;
  keyId?: string | undefined;
}

/** What to assert. */
export interface AssertionClaims {
  iss: string;
  sub?: string | undefined;
  aud: string;
  /** Further claims (scope, vendor claims); the reserved ones are refused at validation. */
  extra?: Record<string, unknown> | undefined;
}

/**
 * Signs one assertion: `{iss, sub?, aud, iat, exp = iat + 120 s, jti, ...extra}` with header
 * `{alg, typ: 'JWT', kid}`. The `kid` is `keyId` when configured, else the RFC 7638 thumbprint of
 * a PEM key, else the configured KMS key id (reading the KMS public key on every refresh would
 * cost a call and an IAM permission).
 *
 * @example
 * ```ts
 * const assertion = await signAssertion(
 *   { privateKeyPem },
 *   { iss: 'my-client', sub: 'my-client', aud: 'https://auth.example.com/token' },
 *   { credential: 'files-api' },
 * );
 * ```
 */
export async function signAssertion(
  key: AssertionKey,
  claims: AssertionClaims,
  context: IssueContext,
): Promise<string> {
  const iat = Math.floor((context.now ?? (() => new Date()))().getTime() / 1000);
  const build = <T extends SignJWT | UnsecuredJWT>(jwt: T): T => {
    jwt
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFETIME_SECONDS)
      .setJti(randomUUID());
    if (claims.sub !== undefined) jwt.setSubject(claims.sub);
    return jwt;
  };
  const payload = { ...(claims.extra ?? {}) };
  if (key.kms) {
    const alg = key.kms.alg ?? 'RS256';
    const header = { alg, typ: 'JWT', kid: key.keyId ?? key.kms.keyId };
    return signWithKeySigner(build(new UnsecuredJWT(payload)), header, key.kms.keyId, context);
  }
  const signing = readAssertionKey(key.privateKeyPem, context.credential);
  const kid = key.keyId ?? (await thumbprintOf(signing.key));
  return build(new SignJWT(payload)).setProtectedHeader({ alg: signing.alg, typ: 'JWT', kid }).sign(signing.key);
}

/**
 * The public half of an assertion key, to register with the authorization server: SPKI PEM and a
 * JWKS of one key whose `kid` is the one {@link signAssertion} puts in the header.
 *
 * @example
 * ```ts
 * const { publicKeyPem, jwks } = await assertionPublicKey({ kms: { keyId: 'alias/oauth-client' } }, 'files-api');
 * ```
 */
export async function assertionPublicKey(
  key: AssertionKey,
  credential: string,
  signer?: KeySigner,
): Promise<{ publicKeyPem: string; jwks: { keys: JWK[] } }> {
  let publicKey: KeyObject;
  let alg: AssertionAlgorithm;
  let kid: string;
  if (key.kms) {
    alg = key.kms.alg ?? 'RS256';
    publicKey = createPublicKey(await (signer ?? kmsKeySigner()).publicKeyPem(key.kms.keyId, credential, alg));
    kid = key.keyId ?? key.kms.keyId;
  } else {
    const signing = readAssertionKey(key.privateKeyPem, credential);
    publicKey = createPublicKey(signing.key);
    alg = signing.alg;
    kid = key.keyId ?? (await thumbprintOf(signing.key));
  }
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), jwks: { keys: [jwk] } };
}

/**
 * Runs a token request once more, with a fresh assertion, when the server refused the first as a
 * replay or as a bad credential. Servers that say so name a replay `jti_known` (a transient
 * error); others (oidc-provider) answer a reused `jti` with the same `invalid_client` as a wrong
 * key. A refused replay is never a reason to block the credential, and a wrong key is refused
 * twice: the second answer is the one that counts.
 */
export async function withFreshAssertionRetry<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (!mayBeReplayRefusal(error)) throw error;
    return send();
  }
}

function mayBeReplayRefusal(error: unknown): boolean {
  if (error instanceof InvalidCredentialsError) return true;
  return (error as TokenRotatorError | undefined)?.reason === 'jti_known';
}

/** The `kid` of a PEM key when none is configured: its RFC 7638 thumbprint (stable, derivable from the public key). */
async function thumbprintOf(privateKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(createPublicKey(privateKey)));
}

/**
 * Signs a JWT by a KMS key with the algorithm its header names (RS256, or ES256 for an
 * assertion): jose builds the claims (as an unsecured JWT, whose payload segment we keep) and the
 * signer signs the JOSE signing input.
 */
export async function signWithKeySigner(
  unsigned: UnsecuredJWT,
  header: { alg: AssertionAlgorithm } & Record<string, string>,
  keyId: string,
  context: IssueContext,
): Promise<string> {
  const { alg } = header;
  const [, payloadSegment = ''] = unsigned.encode().split('.');
  const signingInput = `${base64url.encode(JSON.stringify(header))}.${payloadSegment}`;
  const signer = context.keySigner ?? kmsKeySigner();
  const message = new TextEncoder().encode(signingInput);
  const signature =
    alg === 'ES256'
      ? await signer.signEs256(keyId, message, context.credential)
      : await signer.signRs256(keyId, message, context.credential);
  return `${signingInput}.${base64url.encode(signature)}`;
}
