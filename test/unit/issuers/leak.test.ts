import { describe, expect, it } from 'vitest';
import { TokenRotatorError } from '../../../core/errors';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse, jwt, NOW_SECONDS } from './fake-fetch';
import { asposeConfig, HTTP_KIND_CASES, headerJwtConfig, PLANTED_SECRET, sirvConfig } from './issuer-cases';

const PLANTED_TOKEN = 'PLANTEDTOKEN-0a1b2c3d4e5f';
const PLANTED_KEY_BODY = 'PLANTEDPRIVATEKEYMATERIAL';
const PLANTED = [PLANTED_SECRET, encodeURIComponent(PLANTED_SECRET), PLANTED_TOKEN, PLANTED_KEY_BODY];

/** Everything of an error a log line or an invoke result could carry. */
function everyTextOf(error: Error): string {
  const parts = [error.message, String(error), error.stack ?? ''];
  if (error instanceof TokenRotatorError) parts.push(JSON.stringify(error.toJSON()));
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    parts.push(String(cause), JSON.stringify(cause) ?? '');
    cause = (cause as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

function expectNoPlantedValue(error: Error): void {
  expect(error).toBeInstanceOf(TokenRotatorError);
  const text = everyTextOf(error);
  for (const planted of PLANTED) expect(text).not.toContain(planted);
}

const echoes = [
  ['verbatim', `{"error":"invalid_client","received":"${PLANTED_SECRET}"}`],
  ['JSON-escaped', JSON.stringify({ message: 'bad', secret: PLANTED_SECRET })],
  [
    'form-encoded',
    `grant_type=client_credentials&client_secret=${new URLSearchParams({ s: PLANTED_SECRET }).toString().slice(2)}`,
  ],
  ['percent-encoded', `secret=${encodeURIComponent(PLANTED_SECRET)}`],
  ['with a token', `{"token":"${PLANTED_TOKEN}","note":"${PLANTED_SECRET}"}`],
] as const;

describe.each(HTTP_KIND_CASES)('$name issuer errors never leak a secret or token', (kind) => {
  const run = (fetch: typeof globalThis.fetch, overrides: Partial<Record<string, unknown>> = {}) =>
    obtainFrom(kind.config(overrides), { credential: 'leaky', fetch, now: frozenNow });

  it.each(
    echoes.flatMap(([what, body]) => [400, 401, 403, 429, 500, 503].map((status) => [what, status, body] as const)),
  )('when a %s echo comes back with status %i', async (_what, status, body) => {
    const { fetch } = fakeFetch(new Response(body, { status }));
    expectNoPlantedValue(await caught(run(fetch)));
  });

  it('when a 200 body is not JSON and echoes the secret', async () => {
    const { fetch } = fakeFetch(
      new Response(`<html>${PLANTED_SECRET} ${'x'.repeat(8)}${PLANTED_TOKEN}xxxxxxxxxxxxxxxxxxx</html>`, {
        status: 200,
      }),
    );
    expectNoPlantedValue(await caught(run(fetch)));
  });

  it('when the network error itself carries the secret in its message and cause', async () => {
    const cause = Object.assign(new Error(`socket hang up sending ${PLANTED_SECRET}`), { code: 'ECONNRESET' });
    const { fetch } = fakeFetch(new TypeError('fetch failed', { cause }));
    expectNoPlantedValue(await caught(run(fetch)));
  });

  it('when the request cannot be built and the error quotes a header value', async () => {
    const { fetch } = fakeFetch(new TypeError(`Headers.append: "${PLANTED_SECRET}" is an invalid header value.`));
    const error = await caught(run(fetch));
    expect(error).toMatchObject({ code: 'InvalidConfiguration', reason: 'request-not-sent' });
    expectNoPlantedValue(error);
  });

  it('when the token arrives already expired', async () => {
    const token = await jwt({ exp: NOW_SECONDS - 10, note: PLANTED_TOKEN });
    const { fetch } = fakeFetch(kind.success(token));
    const error = await caught(run(fetch));
    expect(error.message).not.toContain(token);
    expectNoPlantedValue(error);
  });
});

describe('configuration and key errors never leak', () => {
  it('does not quote a secret that fails validation', async () => {
    const error = await caught(obtainFrom(sirvConfig({ clientSecret: 'PLANT' }), { credential: 'c' }));
    expect(error.message).toContain('issuer.clientSecret');
    expect(error.message).not.toContain('PLANT');
  });

  it('does not quote an unreadable private key', async () => {
    const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${PLANTED_KEY_BODY}\n-----END PRIVATE KEY-----`;
    const error = await caught(obtainFrom({ kind: 'upload', subject: 's', privateKeyPem }, { credential: 'c' }));
    expectNoPlantedValue(error);
  });

  it('does not quote a malformed private key that fails validation', async () => {
    const error = await caught(
      obtainFrom({ kind: 'upload', subject: 's', privateKeyPem: PLANTED_KEY_BODY }, { credential: 'c' }),
    );
    expect(error.message).toContain('issuer.privateKeyPem');
    expectNoPlantedValue(error);
  });

  it('does not quote a bearer token from a malformed header', async () => {
    const { fetch } = fakeFetch(
      new Response(null, { status: 200, headers: { authorization: `Token ${PLANTED_TOKEN}` } }),
    );
    const error = await caught(obtainFrom(headerJwtConfig(), { credential: 'c', fetch, now: frozenNow }));
    expectNoPlantedValue(error);
  });

  it('does not quote the secret from an OAuth2 error_description', async () => {
    const { fetch } = fakeFetch(
      jsonResponse({ error: 'invalid_client', error_description: `bad secret ${PLANTED_SECRET}` }, 400),
    );
    const error = await caught(obtainFrom(asposeConfig(), { credential: 'c', fetch, now: frozenNow }));
    expect(error.message).toContain('bad secret [redacted]');
    expectNoPlantedValue(error);
  });
});
