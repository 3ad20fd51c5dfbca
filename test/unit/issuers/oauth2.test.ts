import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError, InvalidCredentialsError, MalformedResponseError } from '../../../core/errors';
import { basicAuthorization } from '../../../core/issuers';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse, NOW } from './fake-fetch';
import { asposeConfig, oauth2Config, PLANTED_SECRET } from './issuer-cases';

/** Seed 004's example response (the token's nbf is 1563862701, exp 1563949101). */
const SEED_ACCESS_TOKEN =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYmYiOjE1NjM4NjI3MDEsImV4cCI6MTU2Mzk0OTEwMSwiaXNzIjoiaHR0cHM6Ly9hcGkuYXNwb3NlLmNsb3VkIiwiYXVkIjpbImh0dHBzOi8vYXBpLmFzcG9zZS5jbG91ZC9yZXNvdXJjZXMiLCJhcGkucGxhdGZvcm0iLCJhcGkucHJvZHVjdHMiXSwiY2xpZW50X2lkIjoiQjAxQTE1RTUtMUI4My00QjlBLThFQjMtMEYyQkZBNkFDNzY2IiwiY2xpZW50X2lkU3J2SWQiOiIiLCJzY29wZSI6WyJhcGkucGxhdGZvcm0iLCJhcGkucHJvZHVjdHMiXX0.EEEDV53yzJ48DE-NFrBa54HXLR9AHBPh9iRTEU9rH3F6uPQ2JwBrUN-DLmOKFmYCd14rj2JDyM36WE00YNrH6ZCyC8ce4ogc0JXupvUDC0aeFqUr2MFcxNhijPbi2uCC8jbXbT_Lj-cL7SScX9-e9WYbrk4VVlfw6hlP9U12nPH7TzpiG3NvBOPyK4mQNsrCcAe5O_ebkvjoSEx6u2VuEQNAFA5sJBzaeRoVG1IIhZ_rAE5BDzRLD67wQun34T3nBvi-ojW-5Ee3hXpeaqzdpzo_J5PUvBHaTbeQoK5b7_4YpCGXeV1Q6YtCZajGwIqUwiTx02Ubw1Kk2JBuiV1qEg';
const SEED_NOW = new Date(1563862701 * 1000);

describe('oauth2 issuer (aspose preset)', () => {
  it('posts the seed request shape: form-encoded client_credentials with client_id/client_secret', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch(
      jsonResponse({ access_token: SEED_ACCESS_TOKEN, expires_in: 86400, token_type: 'Bearer' }),
    );
    // Act
    await obtainFrom(asposeConfig(), { credential: 'aspose', fetch, now: () => SEED_NOW });
    // Assess
    const call = calls[0];
    expect(call?.url).toBe('https://api.aspose.cloud/connect/token');
    expect(call?.method).toBe('POST');
    expect(call?.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(call?.headers.get('accept')).toBe('application/json');
    expect(call?.headers.has('authorization')).toBe(false);
    expect(Object.fromEntries(new URLSearchParams(call?.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'B01A15E5-1B83-4B9A-8EB3-0F2BFA6AC766',
      client_secret: PLANTED_SECRET,
    });
  });

  it("parses the seed's example response with its one-day lifetime", async () => {
    const { fetch } = fakeFetch(
      jsonResponse({ access_token: SEED_ACCESS_TOKEN, expires_in: 86400, token_type: 'Bearer' }),
    );
    const token = await obtainFrom(asposeConfig(), { credential: 'aspose', fetch, now: () => SEED_NOW });
    expect(token).toEqual({
      accessToken: SEED_ACCESS_TOKEN,
      tokenType: 'Bearer',
      scope: undefined,
      issuedAt: SEED_NOW,
      expiresAt: new Date(1563949101 * 1000),
    });
  });

  it('reads expires_in as a string and normalises token_type "bearer"', async () => {
    const { fetch } = fakeFetch(
      jsonResponse({ access_token: 'opaque-access', expires_in: '86400', token_type: 'bearer' }),
    );
    const token = await obtainFrom(asposeConfig(), { credential: 'aspose', fetch, now: frozenNow });
    expect(token.tokenType).toBe('Bearer');
    expect(token.expiresAt.getTime() - NOW.getTime()).toBe(86_400_000);
  });

  it('defaults token_type to Bearer and keeps other types as sent', async () => {
    const { fetch } = fakeFetch(
      jsonResponse({ access_token: 'opaque-access', expires_in: 60 * 10 }),
      jsonResponse({ access_token: 'opaque-access', expires_in: 60 * 10, token_type: 'DPoP' }),
    );
    const context = { credential: 'o', fetch, now: frozenNow };
    expect((await obtainFrom(oauth2Config(), context)).tokenType).toBe('Bearer');
    expect((await obtainFrom(oauth2Config(), context)).tokenType).toBe('DPoP');
  });

  it('falls back to the aspose default of 86400 s when expires_in is missing', async () => {
    const { fetch } = fakeFetch(jsonResponse({ access_token: 'opaque-access', token_type: 'Bearer' }));
    const token = await obtainFrom(asposeConfig(), { credential: 'aspose', fetch, now: frozenNow });
    expect(token.expiresAt.getTime() - NOW.getTime()).toBe(86_400_000);
  });

  it('sends scope space-joined and audience, and parses a space-separated scope', async () => {
    const { fetch, calls } = fakeFetch(
      jsonResponse({ access_token: 'opaque-access', expires_in: 3600, scope: 'files:read files:write' }),
    );
    const token = await obtainFrom(
      oauth2Config({ scope: ['files:read', 'files:write'], audience: 'https://api.example.com' }),
      {
        credential: 'o',
        fetch,
        now: frozenNow,
      },
    );
    const form = new URLSearchParams(calls[0]?.body);
    expect(form.get('scope')).toBe('files:read files:write');
    expect(form.get('audience')).toBe('https://api.example.com');
    expect(token.scope).toEqual(['files:read', 'files:write']);
  });

  it('sends client_secret_basic as HTTP Basic of the form-encoded id and secret, nothing in the body', async () => {
    const clientId = 'id with space:colon';
    const clientSecret = 'se+cr/et=with:colon';
    const { fetch, calls } = fakeFetch(jsonResponse({ access_token: 'opaque-access', expires_in: 3600 }));
    await obtainFrom(oauth2Config({ clientId, clientSecret, authMethod: 'client_secret_basic' }), {
      credential: 'o',
      fetch,
      now: frozenNow,
    });
    const authorization = calls[0]?.headers.get('authorization') ?? '';
    const decoded = Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString();
    expect(decoded).toBe('id+with+space%3Acolon:se%2Bcr%2Fet%3Dwith%3Acolon');
    expect(authorization).toBe(basicAuthorization(clientId, clientSecret));
    const form = new URLSearchParams(calls[0]?.body);
    expect(form.has('client_id')).toBe(false);
    expect(form.has('client_secret')).toBe(false);
  });

  it.each(['invalid_client', 'unauthorized_client', 'invalid_grant'])(
    'classifies a 400 { error: %s } as InvalidCredentials',
    async (code) => {
      const { fetch } = fakeFetch(jsonResponse({ error: code }, 400));
      const error = await caught(obtainFrom(asposeConfig(), { credential: 'aspose', fetch, now: frozenNow }));
      expect(error).toBeInstanceOf(InvalidCredentialsError);
      expect(error).toMatchObject({ status: 400, reason: code });
    },
  );

  it.each(['invalid_scope', 'invalid_request', 'unsupported_grant_type'])(
    'classifies a 400 { error: %s } as InvalidConfiguration',
    async (code) => {
      const { fetch } = fakeFetch(jsonResponse({ error: code, error_description: 'see docs' }, 400));
      const error = await caught(obtainFrom(oauth2Config(), { credential: 'o', fetch, now: frozenNow }));
      expect(error).toBeInstanceOf(InvalidConfigurationError);
      expect(error).toMatchObject({ reason: code });
      expect(error.message).toContain('see docs');
    },
  );

  it('classifies an error body inside a 200 like the same error with a 400', async () => {
    const { fetch } = fakeFetch(jsonResponse({ error: 'invalid_client' }, 200));
    const error = await caught(obtainFrom(oauth2Config(), { credential: 'o', fetch, now: frozenNow }));
    expect(error).toBeInstanceOf(InvalidCredentialsError);
  });

  it('fails with MalformedResponse when access_token is missing', async () => {
    const { fetch } = fakeFetch(jsonResponse({ expires_in: 3600, token_type: 'Bearer' }));
    const error = await caught(obtainFrom(oauth2Config(), { credential: 'o', fetch, now: frozenNow }));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ reason: 'missing-token' });
  });

  it('fails with missing expiry for a plain oauth2 issuer with an opaque token and no expires_in', async () => {
    const { fetch } = fakeFetch(jsonResponse({ access_token: 'opaque-access' }));
    const error = await caught(obtainFrom(oauth2Config(), { credential: 'o', fetch, now: frozenNow }));
    expect(error).toMatchObject({ code: 'MalformedResponse', reason: 'missing-expiry' });
  });
});
