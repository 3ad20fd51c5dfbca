import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  MalformedResponseError,
} from '../../../core/errors';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jwt, NOW, NOW_SECONDS } from './fake-fetch';
import { headerJwtConfig, PLANTED_SECRET } from './issuer-cases';

const withHeader = (value: string | undefined, name = 'authorization') =>
  new Response(null, { status: 200, headers: value === undefined ? {} : { [name]: value } });

describe('header-jwt issuer', () => {
  it('sends GET /auth/jwt with client-id and client-secret headers and no body', async () => {
    // Prepare
    const token = await jwt({ sub: 'client-123' });
    const { fetch, calls } = fakeFetch(withHeader(`Bearer ${token}`));
    // Act
    await obtainFrom(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow });
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
    await obtainFrom(
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
    const issued = await obtainFrom(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow });
    expect(issued).toMatchObject({ accessToken: token, tokenType: 'Bearer', issuedAt: NOW });
    expect(issued.expiresAt.getTime() - NOW.getTime()).toBe(3_600_000);
  });

  it('lets the JWT exp win when earlier than the hour', async () => {
    const token = await jwt({ exp: NOW_SECONDS + 900 });
    const { fetch } = fakeFetch(withHeader(`Bearer ${token}`));
    const issued = await obtainFrom(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow });
    expect(issued.expiresAt.getTime()).toBe((NOW_SECONDS + 900) * 1000);
  });

  it('keeps the hour when the JWT exp is later', async () => {
    const token = await jwt({ exp: NOW_SECONDS + 7200 });
    const { fetch } = fakeFetch(withHeader(`Bearer ${token}`));
    const issued = await obtainFrom(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow });
    expect(issued.expiresAt.getTime() - NOW.getTime()).toBe(3_600_000);
  });

  it.each([
    ['no Authorization header', undefined, 'missing-token'],
    ['a Basic header', 'Basic Zm9vOmJhcg==', 'not-bearer'],
    ['a Bearer opaque token', 'Bearer not-a-jwt-at-all', 'not-a-jwt'],
  ])('fails with MalformedResponse on %s', async (_what, header, reason) => {
    const { fetch } = fakeFetch(withHeader(header));
    const error = await caught(obtainFrom(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow }));
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ reason });
  });

  it.each([
    [400, InvalidConfigurationError],
    [403, InvalidCredentialsError],
    [500, IssuerUnavailableError],
  ])('maps the seed status %i to its error class', async (status, errorClass) => {
    const { fetch } = fakeFetch(new Response('{"message":"x"}', { status }));
    const error = await caught(obtainFrom(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow }));
    expect(error).toBeInstanceOf(errorClass);
  });

  describe('the body of a 200 is never used, so it never fails the refresh', () => {
    it('whatever its bytes (ISO-8859-1 text, invalid UTF-8, binary)', async () => {
      const token = await jwt({ exp: NOW_SECONDS + 3600 });
      const body = fc.oneof(
        fc.constant(Buffer.from('Connexion r\xe9ussie', 'latin1')),
        fc.uint8Array({ maxLength: 2048 }),
      );
      await fc.assert(
        fc.asyncProperty(body, async (bytes) => {
          const { fetch } = fakeFetch(
            new Response(bytes, {
              status: 200,
              headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain; charset=iso-8859-1' },
            }),
          );
          const issued = await obtainFrom(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow });
          expect(issued.accessToken).toBe(token);
        }),
        { numRuns: 100 },
      );
    });

    it('nor its size: an endless body is cancelled unread, not downloaded up to the cap', async () => {
      const token = await jwt({ exp: NOW_SECONDS + 3600 });
      const state = { pulled: 0, cancelled: false };
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          state.pulled += 1;
          controller.enqueue(new Uint8Array(64 * 1024));
        },
        cancel() {
          state.cancelled = true;
        },
      });
      // An answer function: a canned Response would be cloned, and a clone's cancel leaves the source running.
      const { fetch } = fakeFetch(
        () => new Response(stream, { status: 200, headers: { authorization: `Bearer ${token}` } }),
      );
      const issued = await obtainFrom(headerJwtConfig(), { credential: 'partner', fetch, now: frozenNow });
      expect(issued.accessToken).toBe(token);
      expect(state.cancelled).toBe(true);
      // The stream's own first pull (to fill its queue) at most, never the 4 of a 256 KiB read.
      expect(state.pulled).toBeLessThanOrEqual(1);
    });
  });

  describe('over real HTTP on loopback', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      // A JWT with 20 KB of claims: over Node's default 16 KiB limit on response headers.
      const big = await jwt({ exp: NOW_SECONDS + 3600, permissions: 'p'.repeat(20_000) });
      server = createServer((_req, res) => {
        res.writeHead(200, { authorization: `Bearer ${big}` });
        res.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/jwt`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('says the answer headers were too large, not that the issuer could not be reached', async () => {
      const error = await caught(
        obtainFrom(headerJwtConfig({ url, allowInsecureHttp: true }), { credential: 'partner', now: frozenNow }),
      );
      expect(error).toMatchObject({ code: 'MalformedResponse', transient: true, reason: 'headers-too-large' });
      expect(error.message).toMatch(/response headers larger than the HTTP client accepts/);
      expect(error.message).not.toMatch(/could not be reached/);
    });
  });
});
