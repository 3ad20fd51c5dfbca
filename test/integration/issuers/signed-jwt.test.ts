import { importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, publicKeyPemFromPrivate } from '../../../core/issuers';
import { obtainFrom } from '../../helpers/issuers';

describe('signed-jwt issuer end to end', () => {
  it('mints tokens that verify with the public key PEM it outputs', async () => {
    // Prepare
    const { privateKeyPem } = await generateSigningKey();
    const publicKeyPem = publicKeyPemFromPrivate(privateKeyPem);
    const access = { tagPermissions: { write: ['*'] } };
    // Act
    const token = await obtainFrom(
      { kind: 'upload', subject: 'user-xyz', privateKeyPem, access, ttlSeconds: 900 },
      { credential: 'upload-it' },
    );
    // Assess
    const { payload, protectedHeader } = await jwtVerify(token.accessToken, await importSPKI(publicKeyPem, 'RS256'));
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.sub).toBe('user-xyz');
    expect(payload.access).toEqual(access);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
    expect(Math.abs((payload.iat ?? 0) * 1000 - token.issuedAt.getTime())).toBeLessThan(1000);
    expect(token.expiresAt.getTime()).toBe((payload.exp ?? 0) * 1000);
  });

  it('mints tokens that do not verify with another key', async () => {
    const { privateKeyPem } = await generateSigningKey();
    const other = await generateSigningKey();
    const token = await obtainFrom({ kind: 'upload', subject: 's', privateKeyPem }, { credential: 'upload-it' });
    await expect(jwtVerify(token.accessToken, await importSPKI(other.publicKeyPem, 'RS256'))).rejects.toThrow();
  });
});
