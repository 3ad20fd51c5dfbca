/**
 * The KMS-signed upload issuer with aws-sdk-client-mock: a Sign handler that signs the way KMS
 * does (RAW: hash then sign; DIGEST: sign the given SHA-256 digest), and KMS's exception names
 * mapped to our error classes.
 */
import { constants, createHash, generateKeyPairSync, privateEncrypt, sign } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, KMSServiceException, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { isTokenRotatorError } from '../../../core/errors';
import { KMS_MAX_RAW_MESSAGE_BYTES, kmsKeySigner } from '../../../core/kms-signer';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { frozenNow, NOW, NOW_SECONDS } from './fake-fetch';

const KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const kms = mockClient(KMSClient);
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
/** DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2): what PKCS#1 v1.5 signs around the hash. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

const kmsError = (name: string, status: number) =>
  new KMSServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });

const config = (overrides: Record<string, unknown> = {}) => ({
  kind: 'upload',
  subject: 'user-xyz',
  kms: { keyId: KEY_ID },
  ...overrides,
});

function signLikeKms() {
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array; MessageType: string; SigningAlgorithm: string }) => {
    const message = Buffer.from(input.Message);
    const signature =
      input.MessageType === 'DIGEST'
        ? privateEncrypt(
            { key: keys.privateKey, padding: constants.RSA_PKCS1_PADDING },
            Buffer.concat([SHA256_DIGEST_INFO, message]),
          )
        : sign('sha256', message, keys.privateKey);
    return { KeyId: KEY_ID, Signature: new Uint8Array(signature), SigningAlgorithm: input.SigningAlgorithm };
  });
}

beforeEach(() => {
  kms.reset();
});

describe('upload issuer with a KMS key', () => {
  it('mints an RS256 JWT by KMS Sign over the JOSE signing input, verifiable with the key', async () => {
    // Prepare
    signLikeKms();
    const access = { tagPermissions: { write: ['*'] } };
    // Act
    const token = await obtainFrom(config({ access, keyId: 'kid-1' }), {
      credential: 'upload-kms',
      now: frozenNow,
      keySigner: kmsKeySigner(kms as unknown as KMSClient),
    });
    // Assess
    const { payload } = await jwtVerify(token.accessToken, await importSPKI(publicKeyPem, 'RS256'), {
      currentDate: NOW,
    });
    expect(decodeProtectedHeader(token.accessToken)).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'kid-1' });
    expect(payload).toEqual({ sub: 'user-xyz', iat: NOW_SECONDS, exp: NOW_SECONDS + 3600, access });
    const call = kms.commandCalls(SignCommand)[0]?.args[0].input;
    expect(call).toMatchObject({ KeyId: KEY_ID, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', MessageType: 'RAW' });
    expect(Buffer.from(call?.Message ?? []).toString()).toBe(token.accessToken.split('.').slice(0, 2).join('.'));
  });

  it('sends the SHA-256 digest when the signing input is over the 4096 bytes KMS signs raw', async () => {
    // Prepare: an access block big enough to push the signing input past the RAW limit.
    signLikeKms();
    const access = { pathPermissions: Array.from({ length: 120 }, (_, i) => ({ match: { path: `/users/u-${i}` } })) };
    // Act
    const token = await obtainFrom(config({ access }), {
      credential: 'upload-kms',
      now: frozenNow,
      keySigner: kmsKeySigner(kms as unknown as KMSClient),
    });
    // Assess
    const signingInput = token.accessToken.split('.').slice(0, 2).join('.');
    expect(signingInput.length).toBeGreaterThan(KMS_MAX_RAW_MESSAGE_BYTES);
    const call = kms.commandCalls(SignCommand)[0]?.args[0].input;
    expect(call?.MessageType).toBe('DIGEST');
    expect(Buffer.from(call?.Message ?? [])).toEqual(createHash('sha256').update(signingInput).digest());
    await expect(
      jwtVerify(token.accessToken, await importSPKI(publicKeyPem, 'RS256'), { currentDate: NOW }),
    ).resolves.toBeTruthy();
  });

  it('refuses a configuration with both a private key and a KMS key, naming the field', async () => {
    const pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(
      obtainFrom(config({ privateKeyPem: pem }), { credential: 'upload-kms', keySigner: kmsKeySigner() }),
    ).rejects.toThrow(/issuer\.privateKeyPem: expected either privateKeyPem or kms, not both/);
  });

  it.each([
    ['ThrottlingException', 400, 'IssuerUnavailable', true, 'kms-unavailable'],
    ['KMSInternalException', 500, 'IssuerUnavailable', true, 'kms-unavailable'],
    ['DisabledException', 400, 'InvalidCredentials', false, 'kms-key-disabled'],
    ['KMSInvalidStateException', 400, 'InvalidCredentials', false, 'kms-key-state'],
    ['AccessDeniedException', 400, 'InvalidCredentials', false, 'kms-access-denied'],
    ['NotFoundException', 400, 'InvalidConfiguration', false, 'kms-key-not-found'],
    ['InvalidKeyUsageException', 400, 'InvalidConfiguration', false, 'kms-key-unusable'],
  ])('classifies KMS %s (HTTP %i) as %s, transient %s', async (name, status, code, transient, reason) => {
    // Prepare
    kms.on(SignCommand).rejects(kmsError(name, status));
    // Act
    const error = await caught(
      obtainFrom(config(), {
        credential: 'upload-kms',
        now: frozenNow,
        keySigner: kmsKeySigner(kms as unknown as KMSClient),
      }),
    );
    // Assess
    expect(isTokenRotatorError(error)).toBe(true);
    expect(error).toMatchObject({ code, transient, reason, credential: 'upload-kms' });
    expect((error as Error).message).toContain('Credential "upload-kms"');
    expect((error as Error).message).toContain(KEY_ID);
  });

  it("never repeats KMS's own message", async () => {
    const planted = 'planted-kms-message-5ec7e7';
    kms.on(SignCommand).rejects(
      new KMSServiceException({
        name: 'DisabledException',
        message: planted,
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await caught(
      obtainFrom(config(), {
        credential: 'upload-kms',
        keySigner: kmsKeySigner(kms as unknown as KMSClient),
      }),
    );
    expect(JSON.stringify(error)).not.toContain(planted);
    expect(String(error)).not.toContain(planted);
  });
});

describe('kmsKeySigner.publicKeyPem', () => {
  it('turns the DER SPKI of GetPublicKey into PEM', async () => {
    kms.on(GetPublicKeyCommand).resolves({
      KeyId: KEY_ID,
      KeySpec: 'RSA_2048',
      KeyUsage: 'SIGN_VERIFY',
      SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256'],
      PublicKey: new Uint8Array(keys.publicKey.export({ type: 'spki', format: 'der' })),
    });
    await expect(kmsKeySigner(kms as unknown as KMSClient).publicKeyPem(KEY_ID, 'upload-kms')).resolves.toBe(
      publicKeyPem,
    );
  });

  it.each([
    [{ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }, /key usage ENCRYPT_DECRYPT/],
    [{ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }, /key spec ECC_NIST_P256/],
  ])('refuses a key that cannot sign RS256 (%o), naming the field', async (answer, message) => {
    kms.on(GetPublicKeyCommand).resolves({ KeyId: KEY_ID, ...answer, PublicKey: new Uint8Array([1]) } as never);
    const error = await caught(kmsKeySigner(kms as unknown as KMSClient).publicKeyPem(KEY_ID, 'upload-kms'));
    expect(error).toMatchObject({ code: 'InvalidConfiguration', field: 'issuer.kms.keyId' });
    expect((error as Error).message).toMatch(message);
  });
});
