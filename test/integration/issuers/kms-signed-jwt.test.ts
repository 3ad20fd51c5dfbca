/**
 * KMS-signed Upload credentials against moto's KMS and Secrets Manager: the token verifies with
 * jose against the public key KMS hands out, the claims are seed 003's, an unknown key is a
 * permanent failure, and a PEM credential switches to KMS in place (same token secret, next
 * generation, no PEM left in the client secret).
 */
import { randomUUID } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { importSPKI, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../../core/issuers';
import { kmsKeySigner } from '../../../core/kms-signer';
import { readToken, secretNames } from '../../../core/store';
import { create, update } from '../../../provider/runtime';
import { motoEndpoint, secretsManagerClient } from '../../helpers/aws';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';

const PREFIX = `it-kms-${randomUUID().slice(0, 8)}/`;
let kms: KMSClient;

async function signingKey(keySpec: 'RSA_2048' | 'RSA_3072' = 'RSA_2048', usage = 'SIGN_VERIFY'): Promise<string> {
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({ KeySpec: keySpec, KeyUsage: usage as 'SIGN_VERIFY', Description: 'token-rotator test' }),
  );
  if (!KeyMetadata?.Arn) throw new Error('moto created no key');
  return KeyMetadata.Arn;
}

beforeAll(() => {
  motoEndpoint();
  kms = new KMSClient({});
});

describe('upload issuer signing with a KMS key (moto)', () => {
  it.each(['RSA_2048', 'RSA_3072'] as const)(
    'mints tokens with a %s key that verify with the public key from GetPublicKey, with seed 003 claims',
    async (keySpec) => {
      // Prepare
      const keyId = await signingKey(keySpec);
      const signer = kmsKeySigner(kms);
      const access = {
        pathPermissions: [
          {
            match: { path: '/users/user-xyz', scope: 'Children' },
            permissions: { read: { file: { downloadFile: ['*'], getFileDetails: true } } },
          },
        ],
        tagPermissions: { write: ['*'] },
      };
      // Act
      const publicKeyPem = await signer.publicKeyPem(keyId, 'upload-kms');
      const token = await obtainFrom(
        { kind: 'upload', subject: 'user-xyz', access, ttlSeconds: 900, kms: { keyId } },
        { credential: 'upload-kms', keySigner: signer },
      );
      // Assess
      const { payload, protectedHeader } = await jwtVerify(token.accessToken, await importSPKI(publicKeyPem, 'RS256'));
      expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT' });
      expect(Object.keys(payload).sort()).toEqual(['access', 'exp', 'iat', 'sub']);
      expect(payload.sub).toBe('user-xyz');
      expect(payload.access).toEqual(access);
      expect(Number.isInteger(payload.iat) && Number.isInteger(payload.exp)).toBe(true);
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
      expect(token.expiresAt.getTime()).toBe((payload.exp ?? 0) * 1000);
    },
  );

  it('mints through the default signer, configured from the environment only', async () => {
    const keyId = await signingKey();
    const token = await obtainFrom({ kind: 'upload', subject: 's', kms: { keyId } }, { credential: 'upload-kms' });
    const pem = await kmsKeySigner().publicKeyPem(keyId, 'upload-kms');
    await expect(jwtVerify(token.accessToken, await importSPKI(pem, 'RS256'))).resolves.toBeTruthy();
  });

  it('fails permanently, naming the credential and the key, for a key that does not exist', async () => {
    const keyId = `arn:aws:kms:us-east-1:123456789012:key/${randomUUID()}`;
    const error = await caught(
      obtainFrom(
        { kind: 'upload', subject: 's', kms: { keyId } },
        { credential: 'upload-kms', keySigner: kmsKeySigner(kms) },
      ),
    );
    expect(error).toMatchObject({ code: 'InvalidConfiguration', transient: false, reason: 'kms-key-not-found' });
    expect((error as Error).message).toContain('Credential "upload-kms"');
    expect((error as Error).message).toContain(keyId);
  });

  it('refuses an encryption key, naming issuer.kms.keyId', async () => {
    const keyId = await signingKey('RSA_2048', 'ENCRYPT_DECRYPT');
    await expect(kmsKeySigner(kms).publicKeyPem(keyId, 'upload-kms')).rejects.toMatchObject({
      code: 'InvalidConfiguration',
      field: 'issuer.kms.keyId',
    });
  });
  // moto 5.2.5 signs with a disabled key (its Sign does not look at the key state), so the
  // DisabledException / KMSInvalidStateException classes are pinned by test/unit/issuers/kms-signer.test.ts.
});

describe('ProviderCredential with a KMS key (moto)', () => {
  it('switches a PEM credential to KMS in place: same token secret, next generation, no PEM stored', async () => {
    // Prepare: a PEM-signed credential.
    const sm = secretsManagerClient();
    const name = `upload-${randomUUID().slice(0, 8)}`;
    const { privateKeyPem } = await generateSigningKey();
    const props = (issuer: Record<string, unknown>) => ({ name, prefix: PREFIX, issuer, codeVersion: '0.1.0' });
    const pemIssuer = { kind: 'upload', subject: 'user-xyz', privateKeyPem };
    const created = await create(props(pemIssuer), { secretsManager: sm, kms });
    const before = await readToken({ client: sm, prefix: PREFIX }, name);
    const keyId = await signingKey();
    // Act
    const kmsIssuer = { kind: 'upload', subject: 'user-xyz', kms: { keyId } };
    const { outs } = await update(created.outs as unknown as Record<string, unknown>, props(kmsIssuer), {
      secretsManager: sm,
      kms,
    });
    // Assess
    expect(outs.tokenSecretArn).toBe(created.outs.tokenSecretArn);
    const after = await readToken({ client: sm, prefix: PREFIX }, name);
    expect(after?.generation).toBe((before?.generation ?? 0) + 1);
    expect(outs.publicKeyPem).toBe(await kmsKeySigner(kms).publicKeyPem(keyId, name));
    expect(outs.publicKeyPem).not.toBe(created.outs.publicKeyPem);
    await expect(
      jwtVerify(after?.accessToken ?? '', await importSPKI(outs.publicKeyPem ?? '', 'RS256')),
    ).resolves.toBeTruthy();
    const client = await sm.send(new GetSecretValueCommand({ SecretId: secretNames(name, PREFIX).client }));
    expect(client.SecretString).not.toContain('PRIVATE KEY');
    expect(JSON.parse(client.SecretString ?? '{}').issuer).toEqual({ ...kmsIssuer, ttlSeconds: 3600 });
    expect(JSON.stringify(outs)).not.toContain('PRIVATE KEY');
  });

  it('creates a KMS-signed credential whose stored client secret holds no key at all', async () => {
    const sm = secretsManagerClient();
    const name = `upload-${randomUUID().slice(0, 8)}`;
    const keyId = await signingKey();
    const { outs } = await create(
      { name, prefix: PREFIX, issuer: { kind: 'upload', subject: 'u', kms: { keyId } }, codeVersion: '0.1.0' },
      { secretsManager: sm, kms },
    );
    const token = await readToken({ client: sm, prefix: PREFIX }, name);
    expect(token?.generation).toBe(1);
    await expect(
      jwtVerify(token?.accessToken ?? '', await importSPKI(outs.publicKeyPem ?? '', 'RS256')),
    ).resolves.toBeTruthy();
    const client = await sm.send(new GetSecretValueCommand({ SecretId: secretNames(name, PREFIX).client }));
    expect(client.SecretString).not.toContain('privateKeyPem');
  });
});
