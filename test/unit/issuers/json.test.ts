import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../core/errors';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse, jwt, NOW, NOW_SECONDS } from './fake-fetch';
import { jsonConfig, PLANTED_SECRET, sirvConfig } from './issuer-cases';

/** Seed 001's example response, verbatim. */
const SEED_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjbGllbnRJZCI6IlpjblpOZnp3UmhRRXhvSEZvR3B4V0o0cDJSIiwiY2xpZW50TmFtZSI6Ik15IHdlYnNpdGUiLCJzY29wZSI6WyJhY2NvdW50OnJlYWQiLCJhY2NvdW50OndyaXRlIiwidXNlcjpyZWFkIiwidXNlcjp3cml0ZSIsImJpbGxpbmc6cmVhZCIsImJpbGxpbmc6d3JpdGUiLCJmaWxlczpyZWFkIiwiZmlsZXM6d3JpdGUiLCJ2aWRlb3MiLCJpbWFnZXMiXSwiaWF0IjoxNjY5OTIxOTA4LCJleHAiOjE2Njk5MjMxMDgsImF1ZCI6Ijk1cnR2cGxuY3p1Y25sZ2llNm1qdXUyaWI3Z29ncXoyIn0.uY_NWGcfDg5j80MU2L2RIPQobu-9kyBzhd6eg8E367I';
const SEED_SCOPE = [
  'account:read',
  'account:write',
  'user:read',
  'user:write',
  'billing:read',
  'billing:write',
  'files:read',
  'files:write',
  'videos',
  'images',
];
const SEED_SECRET = 'TM3d0CfXxusKMpH3x7kHJYD40qJIR3omTIGXP6wPPkXpIUKLEz/dOJ9v6LbXra3y67XsaGK7iQPmnAuD+fzj+Q==';
/** The seed response's `date` header, which is also the token's `iat`. */
const SEED_NOW = new Date('2022-12-01T19:11:48Z');

describe('json issuer (sirv preset)', () => {
  it('posts the seed request shape: JSON body with clientId/clientSecret and no Authorization header', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch(jsonResponse({ token: SEED_TOKEN, expiresIn: 1200, scope: SEED_SCOPE }));
    // Act
    await obtainFrom(sirvConfig({ clientSecret: SEED_SECRET }), { credential: 'sirv', fetch, now: () => SEED_NOW });
    // Assess
    const call = calls[0];
    expect(call?.url).toBe('https://api.sirv.com/v2/token');
    expect(call?.method).toBe('POST');
    expect(call?.headers.get('content-type')).toBe('application/json');
    expect(call?.headers.get('accept')).toBe('application/json');
    expect(call?.headers.has('authorization')).toBe(false);
    expect(JSON.parse(call?.body ?? '')).toEqual({ clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R', clientSecret: SEED_SECRET });
  });

  it("parses the seed's example response: token, 1200 s lifetime, scope list", async () => {
    const { fetch } = fakeFetch(jsonResponse({ token: SEED_TOKEN, expiresIn: 1200, scope: SEED_SCOPE }));
    const token = await obtainFrom(sirvConfig(), { credential: 'sirv', fetch, now: () => SEED_NOW });
    expect(token).toEqual({
      accessToken: SEED_TOKEN,
      tokenType: 'Bearer',
      scope: SEED_SCOPE,
      issuedAt: SEED_NOW,
      expiresAt: new Date('2022-12-01T19:31:48Z'),
    });
  });

  it('uses configured field names, extra headers and a space-separated scope', async () => {
    const { fetch, calls } = fakeFetch(jsonResponse({ jwt: 'opaque-token-value', ttl: '900', perms: 'a b  c' }));
    const token = await obtainFrom(
      jsonConfig({
        clientIdField: 'key',
        clientSecretField: 'secret',
        tokenField: 'jwt',
        expiresInField: 'ttl',
        scopeField: 'perms',
        headers: { 'x-tenant': 't1' },
      }),
      { credential: 'custom', fetch, now: frozenNow },
    );
    expect(JSON.parse(calls[0]?.body ?? '')).toEqual({ key: 'json-client', secret: PLANTED_SECRET });
    expect(calls[0]?.headers.get('x-tenant')).toBe('t1');
    expect(calls[0]?.url).toBe('https://tokens.example.com/v1/token?tenant=t1');
    expect(token.scope).toEqual(['a', 'b', 'c']);
    expect(token.expiresAt.getTime() - NOW.getTime()).toBe(900_000);
  });

  it('reads expiresIn given as a numeric string', async () => {
    const { fetch } = fakeFetch(jsonResponse({ token: 'opaque-token-value', expiresIn: '3600' }));
    const token = await obtainFrom(jsonConfig(), { credential: 'c', fetch, now: frozenNow });
    expect(token.expiresAt.getTime() - NOW.getTime()).toBe(3_600_000);
  });

  it.each([['soon'], [-5], [0], ['']])('refuses an unusable expiresIn %j', async (expiresIn) => {
    const { fetch } = fakeFetch(jsonResponse({ token: 'opaque-token-value', expiresIn }));
    const error = await caught(obtainFrom(jsonConfig(), { credential: 'c', fetch, now: frozenNow }));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ reason: 'bad-expiry' });
  });

  it('falls back to the preset default when neither expiresIn nor exp is given', async () => {
    const { fetch } = fakeFetch(jsonResponse({ token: 'opaque-token-value' }));
    const token = await obtainFrom(sirvConfig(), { credential: 'sirv', fetch, now: frozenNow });
    expect(token.expiresAt.getTime() - NOW.getTime()).toBe(1_200_000);
  });

  it('uses the JWT exp when no lifetime is stated', async () => {
    const token = await jwt({ exp: NOW_SECONDS + 500 });
    const { fetch } = fakeFetch(jsonResponse({ token }));
    const issued = await obtainFrom(sirvConfig(), { credential: 'sirv', fetch, now: frozenNow });
    expect(issued.expiresAt.getTime()).toBe((NOW_SECONDS + 500) * 1000);
  });

  it('fails with missing expiry when nothing states one and the kind has no default', async () => {
    const { fetch } = fakeFetch(jsonResponse({ token: 'opaque-token-value' }));
    const error = await caught(obtainFrom(jsonConfig(), { credential: 'c', fetch, now: frozenNow }));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ reason: 'missing-expiry' });
    expect(error.message).toContain('missing expiry');
  });

  it.each([
    ['a missing token', { expiresIn: 1200 }],
    ['an empty token', { token: '', expiresIn: 1200 }],
    ['a non-string token', { token: 42, expiresIn: 1200 }],
  ])('fails with MalformedResponse on %s', async (_what, body) => {
    const { fetch } = fakeFetch(jsonResponse(body));
    const error = await caught(obtainFrom(sirvConfig(), { credential: 'sirv', fetch, now: frozenNow }));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ reason: 'missing-token', status: 200 });
  });

  it.each([
    ['HTML', '<html>gateway</html>'],
    ['a JSON array', '[1,2]'],
    ['an empty body', ''],
  ])('fails with MalformedResponse on a 200 with %s', async (_what, text) => {
    const { fetch } = fakeFetch(new Response(text, { status: 200, headers: { 'content-type': 'text/html' } }));
    const error = await caught(obtainFrom(sirvConfig(), { credential: 'sirv', fetch, now: frozenNow }));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ reason: 'not-json' });
  });
});
