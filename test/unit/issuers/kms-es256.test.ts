/**
 * ES256 assertions signed by a KMS key (ECC_NIST_P256, ECDSA_SHA_256), with aws-sdk-client-mock
 * signing as KMS does: over the message, answering a DER-encoded ECDSA signature. The JWS carries
 * R || S (RFC 7518 §3.4), checked by jose with the key's public half, including signatures whose
 * R or S is shorter than 32 bytes (DER drops leading zeros); a KMS answer that is not an ECDSA
 * signature is a transient failure, and a key of the wrong spec is refused naming issuer.kms.keyId.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { createLocalJWKSet, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { assertionPublicKey, parseIssuerConfig } from '../../../core/issuers';
import { KMS_ES256, kmsKeySigner } from '../../../core/kms-signer';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse, type RecordedCall } from './fake-fetch';

const KMS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/2222bbbb-22bb-22bb-22bb-222222bbbbbb';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const EC_SPKI = ec.publicKey.export({ type: 'spki', format: 'der' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kms = mockClient(KMSClient);
const signer = () => kmsKeySigner(kms as unknown as KMSClient);

const config = (overrides: Record<string, unknown> = {}) => ({
  kind: 'oauth2',
  tokenUrl: 'https://auth.example.com/oauth2/token',
  clientId: 'svc-client',
  authMethod: 'private_key_jwt',
  kms: { keyId: KMS_KEY, alg: 'ES256' },
  ...overrides,
});
const ok = () => jsonResponse({ access_token: 'opaque-access-token', expires_in: 600, token_type: 'Bearer' });
const assertionOf = (call: RecordedCall | undefined) => new URLSearchParams(call?.body).get('client_assertion') ?? '';

/** Answers Sign as KMS does for an ECC_NIST_P256 key: ECDSA over SHA-256 of the message, DER-encoded. */
function signLikeKms(signatures: Buffer[] = []) {
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array; SigningAlgorithm: string }) => {
    const der = signatures.shift() ?? sign('sha256', Buffer.from(input.Message), ec.privateKey);
    return { KeyId: KMS_KEY, Signature: new Uint8Array(der), SigningAlgorithm: input.SigningAlgorithm };
  });
}
function publicKeyLikeKms(spec = 'ECC_NIST_P256', der: Buffer = EC_SPKI, algorithms = [KMS_ES256]) {
  kms.on(GetPublicKeyCommand).resolves({
    KeyId: KMS_KEY,
    KeySpec: spec as 'ECC_NIST_P256',
    KeyUsage: 'SIGN_VERIFY',
    SigningAlgorithms: algorithms as ['ECDSA_SHA_256'],
    PublicKey: new Uint8Array(der),
  });
}

beforeEach(() => {
  kms.reset();
});

describe('ES256 client assertions signed by a KMS key', () => {
  it('asks KMS for ECDSA_SHA_256 and sends an ES256 JWS that verifies with the public key KMS gives', async () => {
    // Prepare
    signLikeKms();
    publicKeyLikeKms();
    const { fetch, calls } = fakeFetch(ok());
    // Act
    await obtainFrom(config(), { credential: 'pkj-es', fetch, now: frozenNow, keySigner: signer() });
    // Assess
    const assertion = assertionOf(calls[0]);
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'ES256', typ: 'JWT', kid: KMS_KEY });
    expect(Buffer.from(assertion.split('.')[2] ?? '', 'base64url')).toHaveLength(64);
    expect(kms.commandCalls(SignCommand)[0]?.args[0].input).toMatchObject({
      KeyId: KMS_KEY,
      SigningAlgorithm: 'ECDSA_SHA_256',
      MessageType: 'RAW',
    });
    const { jwks, publicKeyPem } = await assertionPublicKey(
      { kms: { keyId: KMS_KEY, alg: 'ES256' } },
      'pkj-es',
      signer(),
    );
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: KMS_KEY, use: 'sig' });
    const options = { currentDate: frozenNow(), algorithms: ['ES256'] };
    await expect(jwtVerify(assertion, createLocalJWKSet(jwks), options)).resolves.toBeTruthy();
    await expect(jwtVerify(assertion, await importSPKI(publicKeyPem, 'ES256'), options)).resolves.toBeTruthy();
  });

  it('re-encodes DER signatures whose R or S is shorter than 32 bytes into a JWS that still verifies', async () => {
    // Prepare: DER drops leading zero bytes, so about one signature in 128 has a short R or S.
    const message = Buffer.from('header.payload');
    const short: Buffer[] = [];
    for (let i = 0; i < 20_000 && short.length < 2; i++) {
      const der = sign('sha256', message, ec.privateKey);
      // SEQUENCE(len) INTEGER(rLen) r INTEGER(sLen) s: a short component makes rLen or sLen < 32.
      const rLength = der[3] ?? 0;
      const sLength = der[5 + rLength] ?? 0;
      if (rLength < 32 || sLength < 32) short.push(der);
    }
    expect(short).toHaveLength(2);
    signLikeKms([...short]);
    // Act
    const signatures = await Promise.all(short.map(() => signer().signEs256(KMS_KEY, message, 'pkj-es')));
    // Assess: each is 64 bytes and verifies as IEEE P1363 (what JWS calls R || S).
    for (const signature of signatures) {
      expect(signature).toHaveLength(64);
      const verified = (await import('node:crypto')).verify(
        'sha256',
        message,
        { key: ec.publicKey, dsaEncoding: 'ieee-p1363' },
        signature,
      );
      expect(verified).toBe(true);
    }
  });

  it('treats a KMS answer that is not a DER ECDSA signature as transient, without asking the token endpoint', async () => {
    signLikeKms([Buffer.alloc(64, 7)]);
    const { fetch, calls } = fakeFetch(ok());
    const error = await caught(obtainFrom(config(), { credential: 'pkj-es', fetch, keySigner: signer() }));
    expect(error).toMatchObject({ code: 'IssuerUnavailable', transient: true, reason: 'kms-bad-signature' });
    expect(calls).toHaveLength(0);
  });

  it.each([
    ['an RSA key', 'RSA_2048', rsa.publicKey.export({ type: 'spki', format: 'der' }), ['RSASSA_PKCS1_V1_5_SHA_256']],
    [
      'a P-384 key',
      'ECC_NIST_P384',
      generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'der' }),
      ['ECDSA_SHA_384'],
    ],
    [
      'a key whose metadata claims P-256 but is RSA',
      'ECC_NIST_P256',
      rsa.publicKey.export({ type: 'spki', format: 'der' }),
      [KMS_ES256],
    ],
  ])('refuses %s for ES256, naming issuer.kms.keyId', async (_what, spec, der, algorithms) => {
    publicKeyLikeKms(spec, der, algorithms);
    const error = await caught(assertionPublicKey({ kms: { keyId: KMS_KEY, alg: 'ES256' } }, 'pkj-es', signer()));
    expect(error).toMatchObject({
      code: 'InvalidConfiguration',
      field: 'issuer.kms.keyId',
      reason: 'kms-key-unusable',
    });
    expect(String((error as Error).message)).toMatch(/ECC_NIST_P256/);
  });

  it('refuses an ECC key where RS256 (the default) is asked', async () => {
    publicKeyLikeKms();
    const error = await caught(assertionPublicKey({ kms: { keyId: KMS_KEY } }, 'pkj', signer()));
    expect(error).toMatchObject({ code: 'InvalidConfiguration', reason: 'kms-key-unusable' });
  });

  it('accepts kms.alg RS256 or ES256 only', () => {
    expect(() => parseIssuerConfig(config())).not.toThrow();
    expect(() => parseIssuerConfig(config({ kms: { keyId: KMS_KEY, alg: 'RS256' } }))).not.toThrow();
    expect(() => parseIssuerConfig(config({ kms: { keyId: KMS_KEY, alg: 'ES384' } }))).toThrow(/kms\.alg/);
    // signed-jwt tokens are RS256 only: its kms takes no alg.
    expect(() => parseIssuerConfig({ kind: 'upload', subject: 's', kms: { keyId: KMS_KEY, alg: 'ES256' } })).toThrow(
      /kms/,
    );
  });
});
