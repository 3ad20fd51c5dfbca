import { describe, expect, it } from 'vitest';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  MalformedResponseError,
} from '../../../core/errors';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, hangingFetch, jsonResponse, jwt, NOW, NOW_SECONDS, refusedFetch } from './fake-fetch';
import { HTTP_KIND_CASES } from './issuer-cases';

describe.each(HTTP_KIND_CASES)('$name issuer failures', (kind) => {
  const run = (fetch: typeof globalThis.fetch, overrides: Partial<Record<string, unknown>> = {}) =>
    obtainFrom(kind.config(overrides), { credential: 'cred-a', fetch, now: frozenNow });

  it('classifies 400 as InvalidConfiguration', async () => {
    // Prepare
    const { fetch } = fakeFetch(jsonResponse({ message: 'Bad Request' }, 400));
    // Act
    const error = await caught(run(fetch));
    // Assess
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect(error).toMatchObject({ status: 400, credential: 'cred-a', transient: false });
  });

  it.each([401, 403])('classifies %i as InvalidCredentials telling what to check', async (status) => {
    const { fetch } = fakeFetch(jsonResponse({ message: 'nope' }, status));
    const error = await caught(run(fetch));
    expect(error).toBeInstanceOf(InvalidCredentialsError);
    expect(error.message).toContain(`check ${kind.credentialFields ?? 'clientId/clientSecret'}`);
    expect(error.message).toContain(`answered ${status}`);
  });

  it.each([404, 405, 410])('classifies %i as InvalidConfiguration about the URL', async (status) => {
    const { fetch } = fakeFetch(new Response('not here', { status }));
    const error = await caught(run(fetch));
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect(error.message).toContain('check the issuer URL');
  });

  it('classifies a redirect as InvalidConfiguration asking for the final URL', async () => {
    const { fetch, calls } = fakeFetch(
      new Response(null, { status: 301, headers: { location: 'https://elsewhere.example.com/t?k=v' } }),
    );
    const error = await caught(run(fetch));
    expect(calls[0]?.redirect).toBe('manual');
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect(error.message).toContain('https://elsewhere.example.com/t');
    expect(error.message).not.toContain('k=v');
    expect(error.message).toContain('configure the final token URL');
  });

  it('classifies 429 as IssuerUnavailable with Retry-After in seconds', async () => {
    const { fetch } = fakeFetch(jsonResponse({}, 429, { 'retry-after': '30' }));
    const error = await caught(run(fetch));
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 30, reason: 'rate-limited', transient: true });
  });

  it('classifies 429 with an HTTP-date Retry-After against the frozen clock', async () => {
    const at = new Date(NOW.getTime() + 90_000).toUTCString();
    const { fetch } = fakeFetch(jsonResponse({}, 429, { 'retry-after': at }));
    const error = await caught(run(fetch));
    expect(error).toMatchObject({ retryAfterSeconds: 90 });
  });

  it('classifies 500 as IssuerUnavailable telling to retry later', async () => {
    const { fetch } = fakeFetch(new Response('oops', { status: 500 }));
    const error = await caught(run(fetch));
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect(error).toMatchObject({ status: 500, reason: 'server-error', retryAfterSeconds: undefined });
    expect(error.message).toContain('retry later');
  });

  it('honours Retry-After on 503', async () => {
    const { fetch } = fakeFetch(new Response('maintenance', { status: 503, headers: { 'retry-after': '120' } }));
    const error = await caught(run(fetch));
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect(error).toMatchObject({ status: 503, retryAfterSeconds: 120 });
  });

  it('times out a request that never answers', async () => {
    const error = await caught(run(hangingFetch(), { timeoutSeconds: 0.05 }));
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect(error).toMatchObject({ reason: 'timeout' });
    expect(error.message).toContain('did not answer within 0.05 s');
  });

  it('passes an abort signal so a fetch that respects it is cancelled', async () => {
    const { fetch, calls } = fakeFetch(
      (call) =>
        new Promise<Response>((_resolve, reject) => {
          call.signal?.addEventListener('abort', () => reject(call.signal?.reason));
        }),
    );
    const error = await caught(run(fetch, { timeoutSeconds: 0.05 }));
    expect(calls[0]?.signal?.aborted).toBe(true);
    expect(error).toMatchObject({ code: 'IssuerUnavailable', reason: 'timeout' });
  });

  it('classifies connection refused as IssuerUnavailable network, with a cause that is only a code', async () => {
    const error = await caught(run(refusedFetch()));
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect(error).toMatchObject({ reason: 'network' });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.cause).toMatchObject({ name: 'TransportFailure', code: 'ECONNREFUSED' });
  });

  it('names the credential, the kind and the URL without its query in every message', async () => {
    const { fetch } = fakeFetch(new Response('oops', { status: 500 }));
    const error = await caught(run(fetch));
    expect(error.message).toContain('Credential "cred-a"');
    expect(error.message).toContain(kind.shownUrl);
    expect(error.message).not.toContain('?');
  });

  it('refuses a token that had already expired on arrival', async () => {
    const token = await jwt({ iat: NOW_SECONDS - 4000, exp: NOW_SECONDS - 400 });
    const { fetch } = fakeFetch(kind.success(token));
    const error = await caught(run(fetch));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ reason: 'token-expired-on-arrival' });
  });

  it('lets a JWT exp earlier than the stated lifetime win', async () => {
    const token = await jwt({ iat: NOW_SECONDS, exp: NOW_SECONDS + 300 });
    const { fetch } = fakeFetch(kind.success(token));
    const issued = await run(fetch);
    expect(issued.expiresAt.toISOString()).toBe(new Date((NOW_SECONDS + 300) * 1000).toISOString());
    expect(issued.issuedAt).toEqual(NOW);
  });

  it('caps the expiry at maxLifetimeSeconds', async () => {
    const token = await jwt({ iat: NOW_SECONDS, exp: NOW_SECONDS + 86400 });
    const { fetch } = fakeFetch(kind.success(token));
    const issued = await run(fetch, { maxLifetimeSeconds: 120 });
    expect(issued.expiresAt.getTime() - NOW.getTime()).toBe(120_000);
  });
});
