/**
 * Token values are checked before they are stored or sent: no CR, LF, NUL or other characters a
 * header cannot carry, bounded sizes, Secrets Manager's secret limit checked locally; and the
 * reader never puts a token in a message or a cause.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toTokenRecord } from '../../../core/issue';
import { parseIssuerConfig } from '../../../core/issuers/config';
import { resolvePolicy } from '../../../core/policy';
import { MAX_SCOPE_ENTRIES, SCOPE_ENTRY_PATTERN } from '../../../core/token';
import { createProtectedUrl } from '../../../reader/sirv';
import { TokenReader } from '../../../reader/token-reader';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse, NOW } from './fake-fetch';
import { oauth2Config, sirvConfig } from './issuer-cases';

const TOKEN = 'PLANTED-token-value-0c1d2e3f4a5b';
const context = (fetchImpl: typeof fetch) => ({ credential: 'c', fetch: fetchImpl, now: frozenNow });

describe('issued token values', () => {
  it.each([
    ['CR/LF', `${TOKEN}\r\nx-injected: 1`],
    ['NUL', `${TOKEN}\u0000`],
    ['a space', `${TOKEN} more`],
    ['non-ASCII', `${TOKEN}é`],
  ])('refuses a token with %s as a transient MalformedResponse that does not quote it', async (_what, token) => {
    const { fetch } = fakeFetch(jsonResponse({ token, expiresIn: 1200 }));
    const error = await caught(obtainFrom(sirvConfig(), context(fetch)));
    expect(error).toMatchObject({ code: 'MalformedResponse', transient: true, reason: 'invalid-token' });
    expect(JSON.stringify(error)).not.toContain(TOKEN);
  });

  it('refuses a token_type with CR/LF', async () => {
    const { fetch } = fakeFetch(jsonResponse({ access_token: TOKEN, token_type: 'Bearer\r\nX: y', expires_in: 3600 }));
    const error = await caught(obtainFrom(oauth2Config(), context(fetch)));
    expect(error).toMatchObject({ code: 'MalformedResponse', reason: 'invalid-token-type' });
  });

  it('refuses an answer that would not fit a secret before any write, without blocking the credential', async () => {
    const scope = Array.from({ length: 256 }, (_, i) => `scope-${i}-${'s'.repeat(245)}`);
    const { fetch } = fakeFetch(jsonResponse({ access_token: TOKEN, expires_in: 3600, scope: scope.join(' ') }));
    const token = await obtainFrom(oauth2Config(), context(fetch));
    const input = {
      credential: 'c',
      issuer: parseIssuerConfig(oauth2Config()),
      policy: resolvePolicy(),
      previousGeneration: 0,
    };
    expect(() => toTokenRecord(token, input)).toThrow(
      expect.objectContaining({ code: 'MalformedResponse', transient: true, reason: 'secret-too-large' }),
    );
  });
});

describe('scope is informative: it never fails a refresh', () => {
  it.each([
    ['more than 256 entries', Array.from({ length: 300 }, (_, i) => `api:s${i}`).join(' ')],
    ['an entry over 256 characters', `files:read ${'x'.repeat(257)}`],
    ['a non-ASCII entry', 'files:läsa files:read'],
  ])('stores the token without any scope when the scope has %s', async (_what, scope) => {
    const { fetch } = fakeFetch(jsonResponse({ access_token: TOKEN, expires_in: 3600, scope }));
    const token = await obtainFrom(oauth2Config(), context(fetch));
    expect(token.accessToken).toBe(TOKEN);
    expect(token).not.toHaveProperty('scope');
  });

  it('whatever the scope entries, stores the token, with the scope exactly when every entry can be stored', async () => {
    const entry = fc.oneof(
      fc.stringMatching(/^[!-~]{1,12}$/),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
      fc.string({ unit: fc.constantFrom('a', ':'), minLength: 250, maxLength: 270 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 300 }), async (entries) => {
        const { fetch } = fakeFetch(jsonResponse({ access_token: TOKEN, expires_in: 3600, scope: entries }));
        const token = await obtainFrom(oauth2Config(), context(fetch));
        expect(token.accessToken).toBe(TOKEN);
        // What the issuer meant, as parseScope reads a list: trimmed, without empty entries.
        const meant = entries.map((e) => e.trim()).filter((e) => e.length > 0);
        const storable = meant.length <= MAX_SCOPE_ENTRIES && meant.every((e) => SCOPE_ENTRY_PATTERN.test(e));
        expect(token.scope).toEqual(storable && meant.length > 0 ? meant : undefined);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the reader never quotes a token', () => {
  function readerOver(accessToken: string) {
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const secrets = mockClient(client);
    const record = {
      version: 1,
      credential: 'c',
      issuer: 'sirv',
      accessToken,
      tokenType: 'Bearer',
      issuedAt: NOW.toISOString(),
      expiresAt: new Date(NOW.getTime() + 1200_000).toISOString(),
      refreshAfter: new Date(NOW.getTime() + 900_000).toISOString(),
      generation: 1,
    };
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(record) });
    const sent = fakeFetch(jsonResponse({ url: 'https://x.example.com/a.jpg' }));
    return { reader: new TokenReader({ client, now: frozenNow, fetch: sent.fetch }), sent };
  }

  it('refuses a stored token with CR/LF (written by an older version) without sending or quoting it', async () => {
    const { reader, sent } = readerOver(`${TOKEN}\r\nx: 1`);
    const error = await caught(reader.fetch('c', 'https://api.example.com/'));
    expect(error.name).toBe('InvalidTokenRecordError');
    expect(sent.calls).toHaveLength(0);
    expect(`${error.message} ${String(error.cause)} ${JSON.stringify(error)}`).not.toContain(TOKEN);
    const sirv = await caught(createProtectedUrl(reader, 'c', { filename: '/a.jpg', expiresIn: 60 }));
    expect(`${sirv.message} ${String(sirv.cause)} ${JSON.stringify(sirv)}`).not.toContain(TOKEN);
  });

  it('keeps only a name in the cause of a failed Sirv request', async () => {
    const { reader } = readerOver(TOKEN);
    const leaky = (async () => {
      throw new TypeError(`request with authorization Bearer ${TOKEN} failed`);
    }) as typeof fetch;
    const error = await caught(
      createProtectedUrl(reader, 'c', { filename: '/a.jpg', expiresIn: 60 }, { fetch: leaky }),
    );
    expect(error).toMatchObject({ code: 'IssuerUnavailable' });
    const cause = error.cause as Error;
    expect(`${error.message} ${cause.message} ${cause.stack ?? ''}`).not.toContain(TOKEN);
  });
});
