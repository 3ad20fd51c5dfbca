/**
 * The bounded reader of issuer answers: size capped while streaming (after decompression), the
 * timeout covering the body, strict UTF-8, and a transient class for everything an oversized or
 * broken answer can cause.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../../core/bounded-http';
import { createProtectedUrl } from '../../../reader/sirv';
import { TokenReader } from '../../../reader/token-reader';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow } from './fake-fetch';
import { jsonConfig, PLANTED_SECRET } from './issuer-cases';

/** A body that streams `chunk` forever, counting how many chunks were pulled. */
function endlessBody(chunk: Uint8Array) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulled += 1;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

const context = (fetchImpl: typeof fetch) => ({ credential: 'hostile', fetch: fetchImpl, now: frozenNow });

describe('the bounded answer reader', () => {
  it('stops an endless 200 answer at the size cap and cancels it: a transient MalformedResponse', async () => {
    const { stream, state } = endlessBody(new TextEncoder().encode('{"token":"'.padEnd(16 * 1024, 'a')));
    const { fetch } = fakeFetch(() => new Response(stream, { status: 200 }));
    const error = await caught(obtainFrom(jsonConfig(), context(fetch)));
    expect(error).toMatchObject({ code: 'MalformedResponse', transient: true, reason: 'answer-too-large' });
    expect(state.cancelled).toBe(true);
    expect(state.pulled * 16 * 1024).toBeLessThanOrEqual(MAX_ANSWER_BYTES + 3 * 16 * 1024);
  });

  it('classifies an endless 503 by its status, quoting only a redacted excerpt', async () => {
    const { stream, state } = endlessBody(new TextEncoder().encode(`${PLANTED_SECRET} `.repeat(512)));
    const { fetch } = fakeFetch(() => new Response(stream, { status: 503 }));
    const error = await caught(obtainFrom(jsonConfig(), context(fetch)));
    expect(error).toMatchObject({ code: 'IssuerUnavailable', transient: true, reason: 'server-error' });
    expect(error.message).not.toContain(PLANTED_SECRET);
    expect(state.cancelled).toBe(true);
  });

  it('refuses a body that is not UTF-8 instead of storing a token with replacement characters', async () => {
    const bytes = Buffer.concat([Buffer.from('{"token":"abc'), Buffer.from([0xff, 0xfe]), Buffer.from('def"}')]);
    const { fetch } = fakeFetch(() => new Response(bytes, { status: 200 }));
    const error = await caught(obtainFrom(jsonConfig({ defaultLifetimeSeconds: 600 }), context(fetch)));
    expect(error).toMatchObject({ code: 'MalformedResponse', reason: 'not-utf8' });
  });

  it('times out a body that trickles, not only a silent server', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"tok'));
      },
      // Never more: the rest of the body never arrives.
    });
    const { fetch } = fakeFetch(() => new Response(stream, { status: 200 }));
    const error = await caught(obtainFrom(jsonConfig({ timeoutSeconds: 0.2 }), context(fetch)));
    expect(error).toMatchObject({ code: 'IssuerUnavailable', reason: 'timeout' });
  });

  it('reports a body that breaks off as transient, never as a configuration error', async () => {
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new RangeError('Invalid string length'));
      },
    });
    const { fetch } = fakeFetch(() => new Response(stream, { status: 200 }));
    const error = await caught(obtainFrom(jsonConfig(), context(fetch)));
    expect(error).toMatchObject({ code: 'IssuerUnavailable', transient: true, reason: 'body-read-failed' });
  });

  describe('over real HTTP on loopback', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      // 64 MiB of zeros, gzipped to about 64 KiB: the cap must apply to the inflated bytes.
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
      server = createServer((req, res) => {
        if (req.url === '/bomb') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          res.end(bomb);
          return;
        }
        // Endless: write until the client goes away.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const write = () => {
          while (!res.destroyed && res.write(chunk)) {}
          if (!res.destroyed) res.once('drain', write);
        };
        res.on('close', () => res.destroy());
        write();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it.each(['/bomb', '/endless'])('stops %s at the cap, whatever its inflated size', async (path) => {
      const config = jsonConfig({ url: `${url}${path}`, allowInsecureHttp: true, timeoutSeconds: 30 });
      const error = await caught(obtainFrom(config, { credential: 'hostile', now: frozenNow }));
      expect(error).toMatchObject({ code: 'MalformedResponse', reason: 'answer-too-large' });
    });
  });
});

describe("the reader's Sirv helper", () => {
  it('stops an endless answer at the same cap', async () => {
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const now = frozenNow();
    mockClient(client)
      .on(GetSecretValueCommand)
      .resolves({
        SecretString: JSON.stringify({
          version: 1,
          credential: 'c',
          issuer: 'sirv',
          accessToken: 'sirv-token-value',
          tokenType: 'Bearer',
          issuedAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + 1200_000).toISOString(),
          refreshAfter: new Date(now.getTime() + 900_000).toISOString(),
          generation: 1,
        }),
      });
    const { stream, state } = endlessBody(new TextEncoder().encode('{"url":"'.padEnd(16 * 1024, 'a')));
    const reader = new TokenReader({
      client,
      now: frozenNow,
      fetch: (async () => new Response(stream)) as typeof fetch,
    });
    const error = await caught(createProtectedUrl(reader, 'c', { filename: '/a.jpg', expiresIn: 60 }));
    expect(error).toMatchObject({ code: 'MalformedResponse', reason: 'answer-too-large' });
    expect(state.cancelled).toBe(true);
  });
});
