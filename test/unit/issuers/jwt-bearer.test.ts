/**
 * Kind `jwt-bearer` (RFC 7523 §2.1) and its presets: the grant request, the assertion's claims
 * (configured, defaulted, and as Google's and Salesforce's documents give them), the lifetime of
 * the answer, and the public key a credential registers (PEM and JWKS).
 */
import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { assertionPublicKey, expandPreset, JWT_BEARER_GRANT_TYPE, parseIssuerConfig } from '../../../core/issuers';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse, NOW, NOW_SECONDS, type RecordedCall } from './fake-fetch';

const RSA_PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const ok = (extra: Record<string, unknown> = {}) =>
  jsonResponse({ access_token: 'opaque-access-token', token_type: 'Bearer', ...extra });
const form = (call: RecordedCall | undefined) => Object.fromEntries(new URLSearchParams(call?.body));
const claimsOf = async (call: RecordedCall | undefined, kid?: string) => {
  const { jwks } = await assertionPublicKey({ privateKeyPem: RSA_PEM, keyId: kid }, 'jb');
  return jwtVerify(form(call).assertion ?? '', createLocalJWKSet(jwks), { currentDate: frozenNow() });
};

describe('jwt-bearer issuer', () => {
  it('posts the grant with the assertion and scope, and no client authentication unless configured', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch(ok({ expires_in: 900 }));
    // Act
    const token = await obtainFrom(
      {
        kind: 'jwt-bearer',
        tokenUrl: 'https://auth.example.com/oauth2/token',
        issuer: 'https://ci.example.com',
        subject: 'deploy-bot',
        scope: ['files:read', 'files:write'],
        claims: { tenant: 'acme', roles: ['deployer'] },
        privateKeyPem: RSA_PEM,
      },
      { credential: 'jb', fetch, now: frozenNow },
    );
    // Assess
    expect(Object.keys(form(calls[0])).sort()).toEqual(['assertion', 'grant_type', 'scope']);
    expect(form(calls[0])).toMatchObject({ grant_type: JWT_BEARER_GRANT_TYPE, scope: 'files:read files:write' });
    const { payload } = await claimsOf(calls[0]);
    expect(payload).toEqual({
      iss: 'https://ci.example.com',
      sub: 'deploy-bot',
      aud: 'https://auth.example.com/oauth2/token',
      iat: NOW_SECONDS,
      exp: NOW_SECONDS + 120,
      jti: expect.any(String),
      tenant: 'acme',
      roles: ['deployer'],
    });
    expect(token.expiresAt.getTime() - NOW.getTime()).toBe(900_000);
  });

  it('sends client_id and client_secret in the form when the server also authenticates the client', async () => {
    const { fetch, calls } = fakeFetch(ok({ expires_in: 900 }));
    await obtainFrom(
      {
        kind: 'jwt-bearer',
        tokenUrl: 'https://auth.example.com/token',
        issuer: 'iss',
        audience: 'https://auth.example.com/',
        clientId: 'box-client',
        clientSecret: 'box-client-secret-value',
        privateKeyPem: RSA_PEM,
      },
      { credential: 'jb', fetch, now: frozenNow },
    );
    expect(form(calls[0])).toMatchObject({ client_id: 'box-client', client_secret: 'box-client-secret-value' });
    expect((await claimsOf(calls[0])).payload.aud).toBe('https://auth.example.com/');
  });

  it.each(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti'])(
    'refuses the reserved claim %s in claims',
    async (claim) => {
      const error = await caught(
        obtainFrom(
          {
            kind: 'jwt-bearer',
            tokenUrl: 'https://a.example.com/t',
            issuer: 'i',
            claims: { [claim]: 'x' },
            privateKeyPem: RSA_PEM,
          },
          { credential: 'jb' },
        ),
      );
      expect(error.message).toContain('issuer.claims: expected claims without iss, sub, aud');
    },
  );

  it('refuses a configuration with no signing key, naming the field', async () => {
    const error = await caught(
      obtainFrom({ kind: 'jwt-bearer', tokenUrl: 'https://a.example.com/t', issuer: 'i' }, { credential: 'jb' }),
    );
    expect(error.message).toContain('issuer.privateKeyPem: expected a signing key');
  });
});

describe('google-service-account preset', () => {
  const google = (overrides: Record<string, unknown> = {}) => ({
    kind: 'google-service-account',
    clientEmail: 'rotator@my-project.iam.gserviceaccount.com',
    keyId: '0123456789abcdef0123456789abcdef01234567',
    privateKeyPem: RSA_PEM,
    scope: ['https://www.googleapis.com/auth/cloud-platform', 'https://www.googleapis.com/auth/devstorage.read_only'],
    ...overrides,
  });

  it("asks Google's token URI with the scopes in the assertion, aud the token URI and kid the key id", async () => {
    // Prepare: Google's answer carries expires_in 3600.
    const { fetch, calls } = fakeFetch(ok({ expires_in: 3599 }));
    // Act
    const token = await obtainFrom(google(), { credential: 'gsa', fetch, now: frozenNow });
    // Assess
    expect(calls[0]?.url).toBe('https://oauth2.googleapis.com/token');
    expect(form(calls[0])).toEqual({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: expect.any(String) });
    const { payload } = await claimsOf(calls[0], google().keyId);
    expect(payload).toMatchObject({
      iss: 'rotator@my-project.iam.gserviceaccount.com',
      aud: 'https://oauth2.googleapis.com/token',
      scope: 'https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/devstorage.read_only',
    });
    expect(payload.sub).toBeUndefined();
    expect(decodeProtectedHeader(form(calls[0]).assertion ?? '')).toMatchObject({ alg: 'RS256', kid: google().keyId });
    expect(token.expiresAt.getTime() - NOW.getTime()).toBe(3_599_000);
  });

  it('puts the delegated user in sub, and refuses a missing scope', async () => {
    const { fetch, calls } = fakeFetch(ok({ expires_in: 3600 }));
    await obtainFrom(google({ subject: 'admin@example.com' }), { credential: 'gsa', fetch, now: frozenNow });
    expect((await claimsOf(calls[0], google().keyId)).payload.sub).toBe('admin@example.com');
    const error = await caught(obtainFrom(google({ scope: undefined }), { credential: 'gsa' }));
    expect(error.message).toContain('issuer.scope:');
  });

  it('expands to jwt-bearer, keeping the signing key', () => {
    expect(expandPreset(parseIssuerConfig(google()))).toMatchObject({
      kind: 'jwt-bearer',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      issuer: 'rotator@my-project.iam.gserviceaccount.com',
      audience: 'https://oauth2.googleapis.com/token',
      privateKeyPem: RSA_PEM,
      defaultLifetimeSeconds: 3600,
    });
  });
});

describe('salesforce preset', () => {
  const salesforce = (overrides: Record<string, unknown> = {}) => ({
    kind: 'salesforce',
    clientId: '3MVG9-consumer-key',
    username: 'integration@acme.example',
    privateKeyPem: RSA_PEM,
    ...overrides,
  });

  it('asserts iss = consumer key, sub = username, aud = login URL, at /services/oauth2/token', async () => {
    // Prepare: Salesforce states no lifetime; the session timeout default (2 h) applies.
    const { fetch, calls } = fakeFetch(ok({ instance_url: 'https://acme.my.salesforce.com', scope: 'api' }));
    // Act
    const token = await obtainFrom(salesforce(), { credential: 'sf', fetch, now: frozenNow });
    // Assess
    expect(calls[0]?.url).toBe('https://login.salesforce.com/services/oauth2/token');
    const { payload } = await claimsOf(calls[0]);
    expect(payload).toMatchObject({
      iss: '3MVG9-consumer-key',
      sub: 'integration@acme.example',
      aud: 'https://login.salesforce.com',
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(180);
    expect(token.expiresAt.getTime() - NOW.getTime()).toBe(7_200_000);
  });

  it('uses a sandbox login URL for aud and its token endpoint, and the configured session lifetime', async () => {
    const { fetch, calls } = fakeFetch(ok());
    const token = await obtainFrom(
      salesforce({ loginUrl: 'https://test.salesforce.com/', defaultLifetimeSeconds: 1800 }),
      { credential: 'sf', fetch, now: frozenNow },
    );
    expect(calls[0]?.url).toBe('https://test.salesforce.com/services/oauth2/token');
    expect((await claimsOf(calls[0])).payload.aud).toBe('https://test.salesforce.com');
    expect(token.expiresAt.getTime() - NOW.getTime()).toBe(1_800_000);
  });

  it('refuses an http:// login URL', async () => {
    const error = await caught(obtainFrom(salesforce({ loginUrl: 'http://login.example.com' }), { credential: 'sf' }));
    expect(error.message).toContain('issuer.loginUrl: expected an https:// URL');
  });
});

describe('assertionPublicKey', () => {
  it('gives the SPKI PEM and a one-key JWKS whose kid is the thumbprint the assertions carry', async () => {
    const { fetch, calls } = fakeFetch(ok({ expires_in: 600 }));
    await obtainFrom(
      { kind: 'jwt-bearer', tokenUrl: 'https://a.example.com/t', issuer: 'i', privateKeyPem: RSA_PEM },
      { credential: 'jb', fetch, now: frozenNow },
    );
    const { publicKeyPem, jwks } = await assertionPublicKey({ privateKeyPem: RSA_PEM }, 'jb');
    expect(publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(decodeProtectedHeader(form(calls[0]).assertion ?? '').kid).toBe(jwks.keys[0]?.kid);
  });
});
