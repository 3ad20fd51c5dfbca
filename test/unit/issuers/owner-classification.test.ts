/**
 * Only the credential's owner can block a credential: the issuer saying the credentials are
 * wrong is InvalidCredentials wherever it says it; "not now" codes are transient.
 */
import { describe, expect, it } from 'vitest';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse } from './fake-fetch';
import { jsonConfig, oauth2Config, sirvConfig } from './issuer-cases';

const context = (fetchImpl: typeof fetch) => ({ credential: 'c', fetch: fetchImpl, now: frozenNow });

describe('classification by the issuer’s own words', () => {
  it.each([
    ['sirv', sirvConfig],
    ['json', jsonConfig],
  ])('treats a %s 200 carrying {"error":"invalid_client"} as InvalidCredentials', async (_kind, config) => {
    const { fetch } = fakeFetch(jsonResponse({ error: 'invalid_client' }));
    const error = await caught(obtainFrom(config(), context(fetch)));
    expect(error).toMatchObject({ code: 'InvalidCredentials', reason: 'invalid_client' });
  });

  it('treats a json 200 with an unknown error string as MalformedResponse, never a blocking class', async () => {
    const { fetch } = fakeFetch(jsonResponse({ error: 'whatever_vendor_says' }));
    const error = await caught(obtainFrom(jsonConfig(), context(fetch)));
    expect(error).toMatchObject({ code: 'MalformedResponse', transient: true });
  });

  it.each(['temporarily_unavailable', 'slow_down', 'server_error'])(
    'treats an OAuth2 400 %s as transient, honouring Retry-After',
    async (code) => {
      const { fetch } = fakeFetch(jsonResponse({ error: code }, 400, { 'retry-after': '30' }));
      const error = await caught(obtainFrom(oauth2Config(), context(fetch)));
      expect(error).toMatchObject({ code: 'IssuerUnavailable', transient: true, reason: code, retryAfterSeconds: 30 });
    },
  );
});
