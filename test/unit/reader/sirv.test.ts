import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  MalformedResponseError,
  TokenExpiredError,
  TokenRotatorError,
} from '../../../core/errors';
import type { TokenRecord } from '../../../core/token';
import { createProtectedUrl, parseSirvProtectedUrlRequest, type SirvProtectedUrlRequest } from '../../../reader/sirv';
import { TokenReader } from '../../../reader/token-reader';
import { caught } from '../../helpers/caught';
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
    const error = caught(() => parseSirvProtectedUrlRequest(request, 'sirv-prod'), InvalidConfigurationError);

    expect(error).toMatchObject({ code: 'InvalidConfiguration', field, credential: 'sirv-prod' });
    expect(error.message).toMatch(message);
    expect(error.message).toContain('Credential "sirv-prod"');
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

    const error = await caught(createProtectedUrl(reader, 'sirv-prod', valid));

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

    const error = await caught(createProtectedUrl(reader, 'sirv-prod', valid));

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

/**
 * A reader whose secret holds `tokens[0]`, then `tokens[1]` from the next read on, and so on;
 * `readDelayMs(n)` holds the n-th read (from 0) back that long.
 */
function readerOf(
  tokens: readonly string[],
  answer: (call: number, init: RequestInit) => Response,
  options: { readDelayMs?: (read: number) => number } = {},
) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  let reads = 0;
  mockClient(client)
    .on(GetSecretValueCommand)
    .callsFake(async () => {
      const read = reads;
      reads += 1;
      const delay = options.readDelayMs?.(read) ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const accessToken = tokens[Math.min(read, tokens.length - 1)] ?? SIRV_TOKEN;
      return { SecretString: JSON.stringify(tokenRecord({ accessToken })) };
    });
  let calls = 0;
  const fetchImpl = async (_input: string | URL | Request, init: RequestInit = {}) => {
    // Like the platform's fetch: a request whose signal is already aborted is never sent.
    init.signal?.throwIfAborted();
    return answer(calls++, init);
  };
  return new TokenReader({ client, now: () => new Date(T0), fetch: fetchImpl as typeof fetch });
}

/** What createProtectedUrl quotes in place of an answer that would show the token. */
const NOT_QUOTED = '(answer not quoted: it would show the token)';

describe('createProtectedUrl never quotes a token it sent', () => {
  it('whatever the token looks like, and whatever the failure status', async () => {
    const status = fc.constantFrom(401, 403, 400, 404, 429, 500, 200);
    // Visible ASCII, as a stored token may hold: short, opaque, JWT-shaped, with quotes or slashes.
    const token = fc.oneof(
      fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1 }),
      fc.stringMatching(/^[A-Za-z0-9-]{1,31}$/),
      fc.constant(SIRV_TOKEN),
    );
    // Sirv may echo the token verbatim, JSON-escaped or as the whole header.
    const echo = fc.constantFrom(
      (t: string) => `{"message":${JSON.stringify(`Bearer ${t} lacks scope files:write`)}}`,
      (t: string) => `token ${t} rejected`,
      (t: string) => `<html>${t}</html>`,
    );
    await fc.assert(
      fc.asyncProperty(token, status, echo, async (stored, answered, bodyOf) => {
        const run = (body: string) =>
          createProtectedUrl(
            readerOf([stored], () => new Response(body, { status: answered })),
            'sirv-prod',
            valid,
          ).catch((e: Error) => e);
        // Never JSON, so that a 200 fails too (a body that is not JSON is quoted).
        const bare = await run('maintenance');
        const error = await run(`maintenance ${bodyOf(stored)}`);
        expect(error).toBeInstanceOf(Error);
        // Only tokens that the fixed text of the message does not itself contain can be looked for.
        fc.pre(![(bare as Error).message, '[redacted]', NOT_QUOTED].some((fixed) => fixed.includes(stored)));
        expect((error as Error).message).not.toContain(stored);
      }),
      { numRuns: 150 },
    );
  });

  it('redacts the token of every request the call sent: the first, and the one re-read after a 401', async () => {
    const first = 'opaque-tok-7f3a9c21';
    const second = 'opaque-tok-9b2e4d10';
    const reader = readerOf([first, second], (call) =>
      call === 0
        ? new Response('expired', { status: 401 })
        : Response.json({ message: `neither ${first} nor ${second} may write files` }, { status: 403 }),
    );

    const error = await caught(createProtectedUrl(reader, 'sirv-prod', valid));

    expect(error).toMatchObject({ code: 'InvalidCredentials', status: 403 });
    expect(error.message).toContain('may write files');
    expect(error.message).not.toContain(first);
    expect(error.message).not.toContain(second);
  });
});

describe('createProtectedUrl reads a 2xx answer strictly', () => {
  it('refuses a body that is not UTF-8 instead of returning a URL with replacement characters', async () => {
    const body = Buffer.concat([
      Buffer.from('{"url":"https://demo.sirv.com/a'),
      Buffer.from([0xff]),
      Buffer.from('.jpg"}'),
    ]);
    const reader = readerOf([SIRV_TOKEN], () => new Response(body, { status: 200 }));

    const error = await caught(createProtectedUrl(reader, 'sirv-prod', valid));

    expect(error).toMatchObject({ code: 'MalformedResponse', reason: 'not-utf8', status: 200 });
  });
});

describe('createProtectedUrl time limit', () => {
  it('gives each request its own window, so a slow re-read of the secret between two is not counted', async () => {
    const sent: number[] = [];
    const reader = readerOf(
      [`${SIRV_TOKEN}1`, `${SIRV_TOKEN}2`],
      (call) => {
        sent.push(call);
        return call === 0 ? new Response('expired', { status: 401 }) : Response.json({ url: 'https://x/a.jpg' });
      },
      // The re-read after the 401 outlasts the 0.2 s window of the first request.
      { readDelayMs: (read) => (read > 0 ? 400 : 0) },
    );

    const result = await createProtectedUrl(reader, 'sirv-prod', valid, { timeoutSeconds: 0.2 });

    expect(result.url).toBe('https://x/a.jpg');
    expect(sent).toHaveLength(2);
  });

  it.each([0, -1, Number.NaN, 121, '5' as unknown as number])(
    'refuses timeoutSeconds %j before sending',
    async (value) => {
      const { reader, sent } = setup();

      await expect(createProtectedUrl(reader, 'sirv-prod', valid, { timeoutSeconds: value })).rejects.toMatchObject({
        code: 'InvalidConfiguration',
        field: 'timeoutSeconds',
      });
      expect(sent).toHaveLength(0);
    },
  );
});

describe('createProtectedUrl over real HTTP on loopback', () => {
  let server: Server;
  let base: string;
  const timers = new Set<NodeJS.Timeout>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const route = (req.url ?? '/').split('/')[1];
      if (route === 'redirect') {
        res.writeHead(301, { location: `https://elsewhere.example.com/v2/files/jwt?key=${SIRV_TOKEN}` });
        res.end();
      } else if (route === 'drip') {
        // Headers at once, then one byte every 50 ms for ever: every read makes progress.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"url":"');
        const timer = setInterval(() => res.write('a'), 50);
        timers.add(timer);
        res.on('close', () => clearInterval(timer));
      } else if (route === 'silent') {
        // Never answers.
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A reader over a mocked secret and the platform's own fetch. */
  function loopbackReader(): TokenReader {
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    mockClient(client)
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify(tokenRecord()) });
    return new TokenReader({ client, now: () => new Date(T0) });
  }

  it('reports a redirect as InvalidConfiguration of baseUrl, naming the target without its query', async () => {
    const error = await caught(
      createProtectedUrl(loopbackReader(), 'sirv-prod', valid, { baseUrl: `${base}/redirect` }),
    );

    expect(error).toMatchObject({ code: 'InvalidConfiguration', reason: 'redirect', field: 'baseUrl', status: 301 });
    expect(error.message).toContain('redirected to https://elsewhere.example.com/v2/files/jwt;');
    expect(error.message).not.toContain(SIRV_TOKEN);
  });

  it.each(['drip', 'silent'])('gives up on a %s answer after timeoutSeconds, headers and body alike', async (route) => {
    const error = await caught(
      createProtectedUrl(loopbackReader(), 'sirv-prod', valid, { baseUrl: `${base}/${route}`, timeoutSeconds: 0.3 }),
    );

    expect(error).toMatchObject({ code: 'IssuerUnavailable', reason: 'timeout' });
    expect(error.message).toContain('did not answer within 0.3 s');
  });

  it("still honours the caller's signal: its abort is passed through, not turned into a timeout", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);

    const error = await caught(
      createProtectedUrl(loopbackReader(), 'sirv-prod', valid, { baseUrl: `${base}/drip`, signal: controller.signal }),
    );

    expect(error.name).toBe('AbortError');
    expect(error).not.toBeInstanceOf(TokenRotatorError);
  });
});
