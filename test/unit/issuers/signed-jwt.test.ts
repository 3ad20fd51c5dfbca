import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../core/errors';
import { generateSigningKey, publicKeyPemFromPrivate } from '../../../core/issuers';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { frozenNow, NOW, NOW_SECONDS } from './fake-fetch';

let keys: { privateKeyPem: string; publicKeyPem: string };
beforeAll(async () => {
  keys = await generateSigningKey();
});

const uploadConfig = (overrides: Record<string, unknown> = {}) => ({
  kind: 'upload',
  subject: 'user-xyz',
  privateKeyPem: keys.privateKeyPem,
  ...overrides,
});

describe('signed-jwt issuer (upload preset)', () => {
  it('mints an RS256 JWT with sub, iat and exp one hour later, verifiable with the public key', async () => {
    // Act
    const token = await obtainFrom(uploadConfig(), { credential: 'upload', now: frozenNow });
    // Assess
    const { payload, protectedHeader } = await jwtVerify(
      token.accessToken,
      await importSPKI(keys.publicKeyPem, 'RS256'),
      {
        currentDate: NOW,
      },
    );
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(payload).toEqual({ sub: 'user-xyz', iat: NOW_SECONDS, exp: NOW_SECONDS + 3600 });
    expect(token).toMatchObject({
      tokenType: 'Bearer',
      issuedAt: NOW,
      expiresAt: new Date((NOW_SECONDS + 3600) * 1000),
    });
  });

  it('adds access, iss, aud and kid when configured', async () => {
    const access = { pathPermissions: [{ match: { path: '/users/user-xyz', scope: 'Children' } }] };
    const token = await obtainFrom(
      uploadConfig({ access, issuer: 'token-rotator', audience: 'upload', keyId: 'key-1', ttlSeconds: 600 }),
      { credential: 'upload', now: frozenNow },
    );
    const { payload } = await jwtVerify(token.accessToken, await importSPKI(keys.publicKeyPem, 'RS256'), {
      currentDate: NOW,
      issuer: 'token-rotator',
      audience: 'upload',
    });
    expect(payload.access).toEqual(access);
    expect(payload.exp).toBe(NOW_SECONDS + 600);
    expect(decodeProtectedHeader(token.accessToken).kid).toBe('key-1');
  });

  it('caps the JWT exp itself at maxLifetimeSeconds', async () => {
    const token = await obtainFrom(uploadConfig({ maxLifetimeSeconds: 300 }), {
      credential: 'upload',
      now: frozenNow,
    });
    const { payload } = await jwtVerify(token.accessToken, await importSPKI(keys.publicKeyPem, 'RS256'), {
      currentDate: NOW,
    });
    expect(payload.exp).toBe(NOW_SECONDS + 300);
    expect(token.expiresAt.getTime() - NOW.getTime()).toBe(300_000);
  });

  it('derives the same public key PEM from the private key', () => {
    expect(publicKeyPemFromPrivate(keys.privateKeyPem).trim()).toBe(keys.publicKeyPem.trim());
  });

  it('generates PKCS#8 and SPKI PEM', () => {
    expect(keys.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(keys.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it('accepts a PKCS#1 RSA private key too', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const token = await obtainFrom(uploadConfig({ privateKeyPem: pkcs1 }), { credential: 'upload', now: frozenNow });
    expect(token.accessToken.split('.')).toHaveLength(3);
  });

  it('names issuer.privateKeyPem when the key is missing', async () => {
    const error = await caught(
      obtainFrom(uploadConfig({ privateKeyPem: undefined }), { credential: 'upload', now: frozenNow }),
    );
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect(error).toMatchObject({ field: 'issuer.privateKeyPem' });
    expect(error.message).toContain('issuer.privateKeyPem');
  });

  it('names issuer.privateKeyPem without quoting it when the key is unreadable', async () => {
    const broken = '-----BEGIN PRIVATE KEY-----\nTOTALLYNOTAKEYbutSECRETlooking\n-----END PRIVATE KEY-----';
    const error = await caught(
      obtainFrom(uploadConfig({ privateKeyPem: broken }), { credential: 'upload', now: frozenNow }),
    );
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect(error.message).toContain('issuer.privateKeyPem');
    expect(error.message).not.toContain('TOTALLYNOTAKEY');
    expect(error.cause).toBeUndefined();
    expect(() => publicKeyPemFromPrivate(broken)).toThrow(InvalidConfigurationError);
  });

  it('refuses a non-RSA key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ec = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const error = await caught(
      obtainFrom(uploadConfig({ privateKeyPem: ec }), { credential: 'upload', now: frozenNow }),
    );
    expect(error).toMatchObject({ code: 'InvalidConfiguration', field: 'issuer.privateKeyPem' });
    expect(error.message).toContain('RSA');
  });
});
