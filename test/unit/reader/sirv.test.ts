import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  MalformedResponseError,
  TokenExpiredError,
} from '../../../core/errors';
import type { TokenRecord } from '../../../core/token';
import { createProtectedUrl, parseSirvProtectedUrlRequest, type SirvProtectedUrlRequest } from '../../../reader/sirv';
import { TokenReader } from '../../../reader/token-reader';
import { tokenRecord as record } from '../../helpers/token-record';

const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const iso = (offsetSeconds: number) => new Date(T0 + offsetSeconds * 1000).toISOString();
const SIRV_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJjbGllbnRJZCI6InRlc3QifQ.c2lnbmF0dXJlLW9mLXRoZS1maXJzdC10b2tlbg';

function tokenRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return record('sirv-prod', { at: T0 }, { accessToken: SIRV_TOKEN, ...overrides });
}

interface SentRequest {
  url: string;
  method: string | undefined;
  headers: Headers;
  body: unknown;
}

/** A reader over a mocked secret and a `fetch` that answers with `answer` and records what was sent. */
function setup(
  answer: (call: SentRequest) => Response = () => Response.json({ url: 'https://demo.sirv.com/a.jpg?jwt=x' }),
) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  const secrets = mockClient(client);
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(tokenRecord()) });
  const sent: SentRequest[] = [];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit) => {
    const call: SentRequest = {
      url: String(input),
      method: init?.method,
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : init?.body,
    };
    sent.push(call);
    return answer(call);
  };
  const reader = new TokenReader({ client, now: () => new Date(T0), fetch: fetchImpl as typeof fetch });
  return { reader, sent, reads: () => secrets.commandCalls(GetSecretValueCommand).length };
}

const valid: SirvProtectedUrlRequest = { filename: '/products/shoe.jpg', expiresIn: 300 };

describe('parseSirvProtectedUrlRequest (seed 000 body schema)', () => {
  const accepted: [string, unknown][] = [
    ['the two required fields', { filename: '/a.jpg', expiresIn: 60 }],
    [
      'every optional field',
      { filename: '/a.jpg', expiresIn: 60, alias: 'demo', secureParams: { w: 100 }, insecureParams: { q: 80 } },
    ],
    ['a filename of exactly 1024 characters', { filename: `/${'a'.repeat(1023)}`, expiresIn: 60 }],
    ['1024 characters that take more than 1024 UTF-16 units', { filename: `/${'😀'.repeat(1023)}`, expiresIn: 60 }],
    ['the root "/" as filename', { filename: '/', expiresIn: 60 }],
    ['a fractional expiresIn (JSON Schema "number")', { filename: '/a.jpg', expiresIn: 1.5 }],
    [
      'params with nested values',
      { filename: '/a.jpg', expiresIn: 60, secureParams: { crop: { w: 1, h: 2 }, list: [1] } },
    ],
    ['empty params objects', { filename: '/a.jpg', expiresIn: 60, secureParams: {}, insecureParams: {} }],
  ];

  it.each(accepted)('accepts %s', (_case, request) => {
    expect(parseSirvProtectedUrlRequest(request)).toEqual(request);
  });

  const rejected: [string, unknown, string, RegExp][] = [
    ['a missing filename', { expiresIn: 60 }, 'filename', /filename: is required/],
    [
      'a filename without a leading slash',
      { filename: 'a.jpg', expiresIn: 60 },
      'filename',
      /filename: must start with "\/"/,
    ],
    ['an empty filename', { filename: '', expiresIn: 60 }, 'filename', /must start with "\/"/],
    [
      'a filename of 1025 characters',
      { filename: `/${'a'.repeat(1024)}`, expiresIn: 60 },
      'filename',
      /at most 1024 characters/,
    ],
    ['a filename that is a number', { filename: 42, expiresIn: 60 }, 'filename', /filename: must be a string/],
    ['a missing expiresIn', { filename: '/a.jpg' }, 'expiresIn', /expiresIn: is required/],
    ['expiresIn as a string', { filename: '/a.jpg', expiresIn: '60' }, 'expiresIn', /expiresIn: must be a number/],
    ['expiresIn as null', { filename: '/a.jpg', expiresIn: null }, 'expiresIn', /expiresIn: must be a number/],
    [
      'expiresIn as NaN (not a JSON number)',
      { filename: '/a.jpg', expiresIn: Number.NaN },
      'expiresIn',
      /must be a number/,
    ],
    [
      'an unknown property',
      { filename: '/a.jpg', expiresIn: 60, expires: 60 },
      'expires',
      /expires: is not a property/,
    ],
    ['alias as a number', { filename: '/a.jpg', expiresIn: 60, alias: 7 }, 'alias', /alias: must be a string/],
    [
      'secureParams as a string',
      { filename: '/a.jpg', expiresIn: 60, secureParams: 'w=100' },
      'secureParams',
      /secureParams: must be an object/,
    ],
    [
      'secureParams as an array',
      { filename: '/a.jpg', expiresIn: 60, secureParams: [1] },
      'secureParams',
      /must be an object/,
    ],
    [
      'insecureParams as null',
      { filename: '/a.jpg', expiresIn: 60, insecureParams: null },
      'insecureParams',
      /insecureParams: must be an object/,
    ],
    ['a request that is not an object', 'filename=/a.jpg', 'request', /must be a JSON object/],
    ['a request that is an array', [{ filename: '/a.jpg', expiresIn: 60 }], 'request', /must be a JSON object/],
  ];

  it.each(rejected)('rejects %s, naming the field', (_case, request, field, message) => {
    const error = (() => {
      try {
        parseSirvProtectedUrlRequest(request, 'sirv-prod');
      } catch (e) {
        return e;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect(error).toMatchObject({ code: 'InvalidConfiguration', field, credential: 'sirv-prod' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('Credential "sirv-prod"');
  });

  it('lists every problem but names the first field', () => {
    expect(() => parseSirvProtectedUrlRequest({ filename: 'x', expiresIn: 'y', extra: 1 })).toThrow(
      expect.objectContaining({ field: 'filename', message: expect.stringMatching(/filename.*expiresIn.*extra/) }),
    );
  });

  it('never quotes a rejected value', () => {
    expect(() => parseSirvProtectedUrlRequest({ filename: 'secret-path-value', expiresIn: 60 })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret-path-value') }),
    );
  });
});

describe('createProtectedUrl', () => {
  it.each([
    ['a missing filename', { expiresIn: 60 }, 'filename'],
    ['no leading slash', { filename: 'a.jpg', expiresIn: 60 }, 'filename'],
    ['1025 characters', { filename: `/${'a'.repeat(1024)}`, expiresIn: 60 }, 'filename'],
    ['expiresIn as a string', { filename: '/a.jpg', expiresIn: '60' }, 'expiresIn'],
    ['an unknown property', { filename: '/a.jpg', expiresIn: 60, width: 100 }, 'width'],
    ['secureParams not an object', { filename: '/a.jpg', expiresIn: 60, secureParams: 5 }, 'secureParams'],
  ])('rejects %s before reading the token or sending anything', async (_case, request, field) => {
    const { reader, sent, reads } = setup();

    await expect(
      createProtectedUrl(reader, 'sirv-prod', request as unknown as SirvProtectedUrlRequest),
    ).rejects.toMatchObject({ code: 'InvalidConfiguration', field });
    expect(sent).toHaveLength(0);
    expect(reads()).toBe(0);
  });

  it('sends POST /v2/files/jwt with JSON and the bearer token, and exposes the url', async () => {
    const { reader, sent } = setup();
    const request = { ...valid, alias: 'demo', secureParams: { w: 600 }, insecureParams: { q: 80 } };

    const result = await createProtectedUrl(reader, 'sirv-prod', request);

    expect(result).toEqual({
      url: 'https://demo.sirv.com/a.jpg?jwt=x',
      body: { url: 'https://demo.sirv.com/a.jpg?jwt=x' },
      status: 200,
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe('https://api.sirv.com/v2/files/jwt');
    expect(sent[0]?.method).toBe('POST');
    expect(sent[0]?.headers.get('content-type')).toBe('application/json');
    expect(sent[0]?.headers.get('authorization')).toBe(`Bearer ${SIRV_TOKEN}`);
    expect(sent[0]?.body).toEqual(request);
  });

  it('accepts the empty body of the document example', async () => {
    const { reader } = setup(() => new Response('', { status: 200 }));

    expect(await createProtectedUrl(reader, 'sirv-prod', valid)).toEqual({
      url: undefined,
      body: undefined,
      status: 200,
    });
  });

  it('returns the body without a url when the answer has none', async () => {
    const { reader } = setup(() => Response.json({ token: 'abc' }));

    expect(await createProtectedUrl(reader, 'sirv-prod', valid)).toMatchObject({
      url: undefined,
      body: { token: 'abc' },
    });
  });

  it('keeps a path prefix of baseUrl and accepts http:// on loopback', async () => {
    const { reader, sent } = setup();

    await createProtectedUrl(reader, 'sirv-prod', valid, { baseUrl: 'http://127.0.0.1:8080/sirv/' });

    expect(sent[0]?.url).toBe('http://127.0.0.1:8080/sirv/v2/files/jwt');
  });

  it('refuses to send the token over plain http to another host', async () => {
    const { reader, sent } = setup();

    await expect(
      createProtectedUrl(reader, 'sirv-prod', valid, { baseUrl: 'http://api.sirv.com' }),
    ).rejects.toMatchObject({ code: 'InvalidConfiguration', field: 'baseUrl' });
    expect(sent).toHaveLength(0);
  });

  it('uses the fetch given in the options', async () => {
    const { reader, sent } = setup();
    const own: string[] = [];
    const fetchImpl = (async (input: string | URL | Request) => {
      own.push(String(input));
      return Response.json({ url: 'https://x' });
    }) as typeof fetch;

    await createProtectedUrl(reader, 'sirv-prod', valid, { fetch: fetchImpl });

    expect(own).toEqual(['https://api.sirv.com/v2/files/jwt']);
    expect(sent).toHaveLength(0);
  });

  it('re-reads the token once on a 401 and then reports InvalidCredentials with a redacted excerpt', async () => {
    const { reader, sent, reads } = setup(
      () => new Response(JSON.stringify({ message: `Invalid token ${SIRV_TOKEN}` }), { status: 401 }),
    );

    const error = await createProtectedUrl(reader, 'sirv-prod', valid).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidCredentialsError);
    expect(error).toMatchObject({ status: 401, credential: 'sirv-prod' });
    expect((error as Error).message).toContain('[redacted]');
    expect((error as Error).message).not.toContain(SIRV_TOKEN);
    expect(reads()).toBe(2);
    expect(sent).toHaveLength(1);
  });

  it.each([
    [429, IssuerUnavailableError],
    [500, IssuerUnavailableError],
    [503, IssuerUnavailableError],
    [400, InvalidConfigurationError],
    [404, InvalidConfigurationError],
    [403, InvalidCredentialsError],
  ])('classifies a %i answer', async (status, errorClass) => {
    const { reader } = setup(() => new Response('{"statusCode":0,"error":"upstream says no"}', { status }));

    const error = await createProtectedUrl(reader, 'sirv-prod', valid).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ status });
    expect((error as Error).message).toContain('upstream says no');
  });

  it('carries Retry-After of a 429', async () => {
    const { reader } = setup(() => new Response('slow down', { status: 429, headers: { 'retry-after': '7' } }));

    await expect(createProtectedUrl(reader, 'sirv-prod', valid)).rejects.toMatchObject({ retryAfterSeconds: 7 });
  });

  it('reports a 2xx body that is not JSON as MalformedResponse', async () => {
    const { reader } = setup(() => new Response('<html>maintenance</html>', { status: 200 }));

    await expect(createProtectedUrl(reader, 'sirv-prod', valid)).rejects.toBeInstanceOf(MalformedResponseError);
  });

  it('reports a network failure as IssuerUnavailable', async () => {
    const { reader } = setup(() => {
      throw new TypeError('fetch failed');
    });

    await expect(createProtectedUrl(reader, 'sirv-prod', valid)).rejects.toMatchObject({
      code: 'IssuerUnavailable',
      reason: 'network',
    });
  });

  it("passes the reader's own errors through unchanged", async () => {
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    mockClient(client)
      .on(GetSecretValueCommand)
      .resolves({
        SecretString: JSON.stringify(
          tokenRecord({ issuedAt: iso(-1300), refreshAfter: iso(-400), expiresAt: iso(-1) }),
        ),
      });
    const reader = new TokenReader({ client, now: () => new Date(T0) });

    await expect(createProtectedUrl(reader, 'sirv-prod', valid)).rejects.toBeInstanceOf(TokenExpiredError);
  });
});
