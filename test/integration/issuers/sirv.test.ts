import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIRV_SCOPE, SIRV_SEED_CLIENT, type SirvFake, startSirvFake } from '../../../local-stack/fakes/sirv';
import { obtainFrom } from '../../helpers/issuers';

describe('sirv fake and the sirv preset', () => {
  let sirv: SirvFake;
  beforeAll(async () => {
    sirv = await startSirvFake({ lifetimeSeconds: 1200 });
  });
  afterAll(async () => {
    await sirv.close();
  });
  const config = (overrides: Record<string, unknown> = {}) => ({
    kind: 'sirv',
    url: sirv.tokenUrl,
    allowInsecureHttp: true,
    ...SIRV_SEED_CLIENT,
    ...overrides,
  });
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${sirv.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  it('answers like the seed: a JWT with clientId, scope, iat, exp and the scope list', async () => {
    // Act
    const token = await obtainFrom(config(), { credential: 'sirv-it' });
    // Assess
    const claims = decodeJwt(token.accessToken);
    expect(claims).toMatchObject({ clientId: SIRV_SEED_CLIENT.clientId, scope: SIRV_SCOPE });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(1200);
    expect(token.scope).toEqual(SIRV_SCOPE);
    const request = sirv.requests.at(-1);
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toEqual({ clientId: SIRV_SEED_CLIENT.clientId, clientSecret: SIRV_SEED_CLIENT.clientSecret });
  });

  it('follows a configured short lifetime, as the demo uses', async () => {
    sirv.setLifetime(120);
    const token = await obtainFrom(config(), { credential: 'sirv-it' });
    sirv.setLifetime(1200);
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBeLessThanOrEqual(120_000);
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBeGreaterThan(118_000);
  });

  it('refuses a body with fields outside the seed schema as invalid configuration', async () => {
    const error = obtainFrom(
      { kind: 'json', url: sirv.tokenUrl, allowInsecureHttp: true, clientIdField: 'client_id', ...SIRV_SEED_CLIENT },
      { credential: 'sirv-it' },
    );
    await expect(error).rejects.toMatchObject({ code: 'InvalidConfiguration', status: 400 });
  });

  it('fails with missing expiry for a json issuer without a default when the fake states none', async () => {
    sirv.injectFault('missingExpiry');
    const error = obtainFrom(
      { kind: 'json', url: sirv.tokenUrl, allowInsecureHttp: true, ...SIRV_SEED_CLIENT },
      { credential: 'sirv-it' },
    );
    await expect(error).rejects.toMatchObject({ code: 'MalformedResponse', reason: 'missing-expiry' });
  });

  it('turns an issued token into a JWT-protected file URL', async () => {
    const { accessToken } = await obtainFrom(config(), { credential: 'sirv-it' });
    const response = await post(
      '/v2/files/jwt',
      { filename: '/img/a.jpg', expiresIn: 300, secureParams: { w: 100 } },
      accessToken,
    );
    expect(response.status).toBe(200);
    const { url } = (await response.json()) as { url: string };
    const parsed = new URL(url);
    expect(parsed.protocol).toBe('https:');
    expect(parsed.pathname).toBe('/img/a.jpg');
    const fileClaims = decodeJwt(parsed.searchParams.get('jwt') ?? '');
    expect(fileClaims).toMatchObject({ filename: '/img/a.jpg', w: 100 });
    expect((fileClaims.exp ?? 0) - (fileClaims.iat ?? 0)).toBe(300);
  });

  it.each([
    ['no bearer token', undefined],
    ['a token it did not issue', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
  ])('refuses file URLs with %s (401)', async (_what, token) => {
    const response = await post('/v2/files/jwt', { filename: '/a.jpg', expiresIn: 60 }, token);
    expect(response.status).toBe(401);
  });

  it('refuses file URLs for an expired token (401)', async () => {
    sirv.injectFault('expiredToken');
    const response = await post('/v2/token', SIRV_SEED_CLIENT);
    const { token } = (await response.json()) as { token: string };
    expect((await post('/v2/files/jwt', { filename: '/a.jpg', expiresIn: 60 }, token)).status).toBe(401);
  });

  it.each([
    ['a filename without a leading slash', { filename: 'a.jpg', expiresIn: 60 }],
    ['a missing expiresIn', { filename: '/a.jpg' }],
    ['a string expiresIn', { filename: '/a.jpg', expiresIn: '60' }],
    ['an extra property', { filename: '/a.jpg', expiresIn: 60, other: 1 }],
    ['a filename over 1024 characters', { filename: `/${'a'.repeat(1024)}`, expiresIn: 60 }],
    ['secureParams that is not an object', { filename: '/a.jpg', expiresIn: 60, secureParams: 'x' }],
  ])('refuses file URL bodies with %s (400)', async (_what, body) => {
    const { accessToken } = await obtainFrom(config(), { credential: 'sirv-it' });
    expect((await post('/v2/files/jwt', body, accessToken)).status).toBe(400);
  });
});
