/**
 * Property: for arbitrary issuer answers (status, headers, body bytes, sizes, numbers), every
 * issuer kind either returns a token that makes a valid, storable record, or throws one of our
 * classified errors; never another exception, never the planted client secret, header API key or
 * token in a message, cause or JSON, always within bounded time (the reader caps memory).
 *
 * NUM_RUNS per kind: 250. Checked by reverting each fix locally: without the token check a CR/LF
 * token failed after 57 runs (sirv) and 12 (json); without the lifetime bounds (parse and
 * plausibility) an exp past year 9999 failed after 14 and 25; without redacting URLs an echoed
 * Location secret failed after 19 and 11. The quadratic redaction is pinned by the linear
 * redaction tests (its 300 KiB fillers here would have taken minutes a case).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTokenRotatorError } from '../../../core/errors';
import { toTokenRecord } from '../../../core/issue';
import { parseIssuerConfig } from '../../../core/issuers/config';
import { resolvePolicy } from '../../../core/policy';
import { MAX_SECRET_BYTES, parseTokenRecord, serializeTokenRecord } from '../../../core/token';
import { obtainFrom } from '../../helpers/issuers';

const NUM_RUNS = 250;
const NOW = new Date('2026-03-01T12:00:00.000Z');
const SECRET = 'PLANTED-prop-secret+/=:9f8e7d';
const API_KEY = 'PLANTED-prop-api-key-77aa';
/** A token long enough that redaction recognises it anywhere (a long opaque run). */
const TOKEN = 'PlantedPropToken0123456789abcdefghijklmnop';

const KINDS: Record<string, Record<string, unknown>> = {
  sirv: { kind: 'sirv', clientId: 'prop-client', clientSecret: SECRET },
  json: {
    kind: 'json',
    url: 'https://json.example.com/token?tenant=t',
    clientId: 'prop-client',
    clientSecret: SECRET,
    headers: { 'x-api-key': API_KEY },
  },
  oauth2: { kind: 'oauth2', tokenUrl: 'https://oauth.example.com/token', clientId: 'c', clientSecret: SECRET },
  aspose: { kind: 'aspose', clientId: 'c', clientSecret: SECRET },
  'header-jwt': { kind: 'header-jwt', url: 'https://hj.example.com/auth/jwt', clientId: 'c', clientSecret: SECRET },
};

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwtWith = (payload: Record<string, unknown>) => `${b64url({ alg: 'HS256' })}.${b64url(payload)}.c2lnbmF0dXJl`;

/** Numbers an issuer may state: sane, huge, negative, fractional, milliseconds, strings, junk. */
const lifetime = fc.oneof(
  fc.integer({ min: -10, max: 200_000 }),
  fc.constantFrom(1e300, 8.64e15, 1_200_000, 1e21, Number.MAX_SAFE_INTEGER, 0.5, -1),
  fc.double(),
  fc.constantFrom('3600', '9'.repeat(25), '1e400', 'soon', '', ' 60 '),
  fc.constant(null),
  fc.constant(undefined),
);
const expClaim = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 31 }),
  fc.constantFrom(NOW.getTime(), 1e300, 253402300800, -1, NOW.getTime() / 1000 + 3600),
  fc.double(),
);
/** Token values: the planted one, with control characters, huge, non-ASCII, JWTs. */
const tokenValue = fc.oneof(
  fc.constant(TOKEN),
  fc.constantFrom(`${TOKEN}\r\nx-injected: 1`, `${TOKEN}\u0000`, `${TOKEN} tail`, `${TOKEN}\u00e9`, `\n${TOKEN}`),
  fc.constant(TOKEN.repeat(2000)),
  expClaim.map((exp) => jwtWith({ exp, sub: TOKEN })),
  fc.string({ maxLength: 40 }).map((s) => `${TOKEN}${s}`),
);
const tokenType = fc.oneof(
  fc.constantFrom('Bearer', 'bearer', 'MAC', 'Bearer\r\nX: y', '', 'B e a r e r'),
  fc.string(),
);
/** Filler with the shapes that made the old redaction quadratic, up to 300 KiB. */
const filler = fc.oneof(
  fc.constant(''),
  fc
    .constantFrom('a', 'a-', 'eyJ', 'x:', `token${' '.repeat(50)}`)
    .chain((unit) => fc.integer({ min: 1, max: 300 * 1024 }).map((n) => unit.repeat(Math.ceil(n / unit.length)))),
);
const echo = fc.constantFrom(SECRET, encodeURIComponent(SECRET), API_KEY, TOKEN, JSON.stringify(SECRET).slice(1, -1));
const jsonBody = fc
  .record(
    {
      token: tokenValue,
      expiresIn: lifetime,
      access_token: tokenValue,
      expires_in: lifetime,
      token_type: tokenType,
      scope: fc.oneof(fc.string(), fc.array(fc.string({ maxLength: 300 }), { maxLength: 300 })),
      error: fc.constantFrom('invalid_client', 'temporarily_unavailable', 'slow_down', 'invalid_scope', 'weird'),
      detail: echo,
      filler,
    },
    { requiredKeys: [] },
  )
  .map((o) => new TextEncoder().encode(JSON.stringify(o)));
const body = fc.oneof(
  { weight: 5, arbitrary: jsonBody },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
  { weight: 1, arbitrary: filler.map((f) => new TextEncoder().encode(f)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(jsonBody, fc.constantFrom(0xff, 0xc3, 0x80))
      .map(([b, x]) => Uint8Array.from([...b.subarray(0, -2), x, ...b.subarray(-2)])),
  },
);
const status = fc.oneof(
  { weight: 6, arbitrary: fc.constant(200) },
  { weight: 3, arbitrary: fc.constantFrom(201, 204, 301, 302, 307, 400, 401, 403, 404, 408, 429, 500, 502, 503) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) },
);
const headers = fc.record(
  {
    'retry-after': fc.oneof(
      fc.constantFrom(
        '99999999999999999999',
        'Sat, 13 Sep 275760 00:00:00 GMT',
        'Fri, 31 Dec 9999 23:59:59 GMT',
        '-1',
        '30',
      ),
      fc.string(),
    ),
    location: echo.map((e) => `https://evil.example.com/echo/${encodeURIComponent(e)}/x?k=${encodeURIComponent(e)}`),
    authorization: fc.oneof(
      tokenValue.map((t) => `Bearer ${t}`),
      expClaim.map((exp) => `Bearer ${jwtWith({ exp })}`),
      fc.string(),
    ),
  },
  { requiredKeys: [] },
);

/** Header values the platform refuses are the platform's business: drop them, as a server could not send them. */
function safeHeaders(input: Record<string, string>): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(input)) {
    try {
      out.set(k, v);
    } catch {
      // Not sendable over HTTP.
    }
  }
  return out;
}

function answer(s: number, h: Record<string, string>, b: Uint8Array): Response {
  // Response refuses a body on null-body statuses (204, 304…); a server would send none.
  const nullBody = [101, 103, 204, 205, 304].includes(s);
  return new Response(nullBody ? null : b, { status: Math.max(200, s), headers: safeHeaders(h) });
}

/** What must never appear: the client secret and the token, and the API key where the configuration holds one. */
function plantedFor(kind: string): string[] {
  return [SECRET, encodeURIComponent(SECRET), TOKEN, ...(kind === 'json' ? [API_KEY] : [])];
}

function leakFree(error: unknown, planted: readonly string[]): void {
  const e = error as Error & { cause?: unknown };
  const text = [e.message, JSON.stringify(e), String(e.cause), (e.cause as Error | undefined)?.message ?? ''].join(' ');
  for (const p of planted) expect(text).not.toContain(p);
}

describe.each(Object.keys(KINDS))('every answer to the %s kind', (kind) => {
  it('gives a storable record or a classified error, with nothing secret in it', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(status, headers, body, async (s, h, b) => {
        const fetchImpl = (async () => answer(s, h, b)) as typeof fetch;
        const config = KINDS[kind];
        try {
          const token = await obtainFrom(config, { credential: 'prop', fetch: fetchImpl, now: () => NOW });
          const record = toTokenRecord(token, {
            credential: 'prop',
            issuer: parseIssuerConfig(config),
            policy: resolvePolicy(),
            previousGeneration: 0,
            random: () => 0.5,
            writeBudget: 'adapt',
          });
          const serialized = serializeTokenRecord(record);
          expect(Buffer.byteLength(serialized)).toBeLessThanOrEqual(MAX_SECRET_BYTES);
          expect(parseTokenRecord(serialized, 'prop')).toEqual(record);
          // What is stored is what the issuer sent: sendable as a header, never silently re-decoded.
          expect(record.accessToken).toMatch(/^[!-~]+$/);
          expect(`${record.tokenType} ${record.accessToken}`).not.toMatch(/[\r\n\0]/);
          if (kind !== 'header-jwt') expect(() => new TextDecoder('utf-8', { fatal: true }).decode(b)).not.toThrow();
          expect(Date.parse(record.expiresAt)).toBeGreaterThan(NOW.getTime());
        } catch (error) {
          if (!isTokenRotatorError(error)) throw error;
          leakFree(error, plantedFor(kind));
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
