import { describe, expect, it } from 'vitest';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  MalformedResponseError,
} from '../../../core/errors';
import { obtainToken } from '../../../core/issuers';
import { fakeFetch, frozenNow, jwt, NOW, NOW_SECONDS, rejectionOf } from './fake-fetch';
import { headerJwtConfig, PLANTED_SECRET } from './issuer-cases';

const withHeader = (value: string | undefined, name = 'authorization') =>
  new Response(null, { status: 200, headers: value === undefined ? {} : { [name]: value } });

describe('header-jwt issuer', () => {
  it('sends GET /auth/jwt with client-id and client-secret headers and no body', async () => {
    // Prepare
    const token = await jwt({ sub: 'client-123' });
    const { fetch, calls } = fakeFetch(withHeader(`Bearer ${token}`));
    // Act
    await obtainToken(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow });
    // Assess
    expect(calls[0]?.method).toBe('GET');
    expect(calls[0]?.url).toBe('https://partner.example.com/auth/jwt');
    expect(calls[0]?.headers.get('client-id')).toBe('client-123');
    expect(calls[0]?.headers.get('client-secret')).toBe(PLANTED_SECRET);
    expect(calls[0]?.body).toBeUndefined();
  });

  it('sends POST when configured, as the seed example does, with custom header names', async () => {
    const token = await jwt({ sub: 'x' });
    const { fetch, calls } = fakeFetch(withHeader(`Bearer ${token}`, 'x-token'));
    await obtainToken(
      headerJwtConfig({
        method: 'POST',
        clientIdHeader: 'x-id',
        clientSecretHeader: 'x-secret',
        tokenHeader: 'x-token',
      }),
      { credential: 'partner', fetch, now: frozenNow },
    );
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.headers.get('x-id')).toBe('client-123');
    expect(calls[0]?.headers.get('x-secret')).toBe(PLANTED_SECRET);
  });

  it('reads the JWT from "Authorization: Bearer" with any scheme case, valid one hour by default', async () => {
    const token = await jwt({ sub: 'x' });
    const { fetch } = fakeFetch(withHeader(`bEaReR ${token}`));
    const issued = await obtainToken(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow });
    expect(issued).toMatchObject({ accessToken: token, tokenType: 'Bearer', issuedAt: NOW });
    expect(issued.expiresAt.getTime() - NOW.getTime()).toBe(3_600_000);
  });

  it('lets the JWT exp win when earlier than the hour', async () => {
    const token = await jwt({ exp: NOW_SECONDS + 900 });
    const { fetch } = fakeFetch(withHeader(`Bearer ${token}`));
    const issued = await obtainToken(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow });
    expect(issued.expiresAt.getTime()).toBe((NOW_SECONDS + 900) * 1000);
  });

  it('keeps the hour when the JWT exp is later', async () => {
    const token = await jwt({ exp: NOW_SECONDS + 7200 });
    const { fetch } = fakeFetch(withHeader(`Bearer ${token}`));
    const issued = await obtainToken(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow });
    expect(issued.expiresAt.getTime() - NOW.getTime()).toBe(3_600_000);
  });

  it.each([
    ['no Authorization header', undefined, 'missing-token'],
    ['a Basic header', 'Basic Zm9vOmJhcg==', 'not-bearer'],
    ['a Bearer opaque token', 'Bearer not-a-jwt-at-all', 'not-a-jwt'],
  ])('fails with MalformedResponse on %s', async (_what, header, reason) => {
    const { fetch } = fakeFetch(withHeader(header));
    const error = await rejectionOf(obtainToken(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow }));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ reason });
  });

  it.each([
    [400, InvalidConfigurationError],
    [403, InvalidCredentialsError],
    [500, IssuerUnavailableError],
  ])('maps the seed status %i to its error class', async (status, errorClass) => {
    const { fetch } = fakeFetch(new Response('{"message":"x"}', { status }));
    const error = await rejectionOf(obtainToken(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow }));
    expect(error).toBeInstanceOf(errorClass);
  });
});
