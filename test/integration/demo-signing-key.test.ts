/** The demo's KMS signing key on moto: created once per alias, reused after, and it signs Upload JWTs. */
import { randomUUID } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { kmsKeySigner } from '../../core/kms-signer';
import { demoSigningKeyAlias, ensureDemoSigningKey } from '../../demo/demo-signing-key';
import { motoEndpoint } from '../helpers/aws';
import { obtainFrom } from '../helpers/issuers';

describe('the demo signing key (moto)', () => {
  it('is created once per alias, reused on the next run, and signs tokens that verify with its public key', async () => {
    motoEndpoint();
    const kms = new KMSClient({});
    const alias = demoSigningKeyAlias(`demo-${randomUUID().slice(0, 8)}+x/`);
    expect(alias).toMatch(/^alias\/[A-Za-z0-9/_-]+$/);
    const first = await ensureDemoSigningKey(alias, kms);
    const second = await ensureDemoSigningKey(alias, kms);
    expect(second).toBe(first);
    const token = await obtainFrom(
      { kind: 'upload', subject: 'demo-workload', kms: { keyId: first } },
      { credential: 'upload-demo', keySigner: kmsKeySigner(kms) },
    );
    const pem = await kmsKeySigner(kms).publicKeyPem(first, 'upload-demo');
    await expect(jwtVerify(token.accessToken, await importSPKI(pem, 'RS256'))).resolves.toBeTruthy();
  });
});
