/**
 * Property: for arbitrary token endpoint answers (status, headers, body, answers that echo the
 * request), the kinds that sign assertions (`oauth2` with `private_key_jwt`, `jwt-bearer`, the
 * `google-service-account` preset) either return a storable token or throw one of our classified
 * errors; they never put the assertion, the private key or the client secret in an error; they
 * send at most two requests (one retry with a fresh assertion); and an answer that names a replay
 * (`jti_known`) never blocks the credential.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blocksUntilClientChanges, isTokenRotatorError } from '../../../core/errors';
import { assertStorableToken } from '../../../core/issuers';
import { obtainFrom } from '../../helpers/issuers';

const NUM_RUNS = 150;
const NOW = new Date('2026-03-01T12:00:00.000Z');
const SECRET = 'PLANTED-jb-secret+/=:4c3b2a';
const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
/** A line from inside the PEM body: enough to recognise the key in any text. */
const PEM_LINE = PEM.split('\n')[3] ?? '';

const KINDS: Record<string, Record<string, unknown>> = {
  private_key_jwt: {
    kind: 'oauth2',
    tokenUrl: 'https://auth.example.com/token',
    clientId: 'c',
    authMethod: 'private_key_jwt',
    privateKeyPem: PEM,
  },
  'jwt-bearer': {
    kind: 'jwt-bearer',
    tokenUrl: 'https://auth.example.com/token',
    issuer: 'https://ci.example.com',
    subject: 'bot',
    clientId: 'c',
    clientSecret: SECRET,
    privateKeyPem: PEM,
  },
  'google-service-account': {
    kind: 'google-service-account',
    clientEmail: 'sa@p.iam.gserviceaccount.com',
    scope: 'https://www.googleapis.com/auth/cloud-platform',
    privateKeyPem: PEM,
  },
};

/** What a request looks like to the answer: its assertion, to echo. */
type Echo = 'none' | 'assertion' | 'body' | 'payload' | 'secret' | 'pem';
const echo = fc.constantFrom<Echo>('none', 'assertion', 'body', 'payload', 'secret', 'pem');
const lifetime = fc.oneof(
  fc.integer({ min: -10, max: 200_000 }),
  fc.constantFrom(1e300, 0.5, '3600', 'soon', null),
  fc.double(),
);
const errorCode = fc.constantFrom(
  undefined,
  'invalid_client',
  'invalid_grant',
  'jti_known',
  'invalid_request',
  'temporarily_unavailable',
  'weird',
);
const status = fc.oneof(
  { weight: 4, arbitrary: fc.constant(200) },
  { weight: 4, arbitrary: fc.constantFrom(400, 401, 403, 429, 500, 503) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) },
);
const token = fc.oneof(
  fc.constant('OpaqueAccessToken0123456789abcdef'),
  fc.constantFrom('with space', 'crlf\r\nx: 1', ''),
  fc.string({ maxLength: 64 }),
);
const answer = fc.record({
  status,
  error: errorCode,
  echo,
  accessToken: fc.option(token, { nil: undefined }),
  expiresIn: fc.option(lifetime, { nil: undefined }),
  raw: fc.option(fc.uint8Array({ maxLength: 512 }), { nil: undefined, freq: 4 }),
});

type Answer = typeof answer extends fc.Arbitrary<infer T> ? T : never;

function respond(a: Answer, body: string): Response {
  const assertion =
    new URLSearchParams(body).get('client_assertion') ?? new URLSearchParams(body).get('assertion') ?? '';
  const echoed = {
    none: '',
    assertion,
    body,
    payload: assertion.split('.')[1] ?? '',
    secret: SECRET,
    pem: PEM,
  }[a.echo];
  const json = {
    ...(a.error === undefined ? {} : { error: a.error, error_description: `refused ${echoed}` }),
    ...(a.accessToken === undefined ? {} : { access_token: a.accessToken }),
    ...(a.expiresIn === undefined ? {} : { expires_in: a.expiresIn }),
    detail: echoed,
  };
  return new Response(a.raw ?? JSON.stringify(json), {
    status: a.status,
    headers: { 'content-type': 'application/json' },
  });
}

describe.each(Object.keys(KINDS))('every token endpoint answer to %s', (kind) => {
  it('gives a storable token or a classified error, never the assertion, key or secret', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(answer, answer, async (first, second) => {
        const sent: string[] = [];
        const fetchImpl = (async (_url: string, init?: RequestInit) => {
          const body = String(init?.body ?? '');
          sent.push(body);
          return respond(sent.length === 1 ? first : second, body);
        }) as typeof fetch;
        try {
          const issued = await obtainFrom(KINDS[kind], { credential: 'prop', fetch: fetchImpl, now: () => NOW });
          expect(() => assertStorableToken(issued, 'prop', kind)).not.toThrow();
          expect(issued.expiresAt.getTime()).toBeGreaterThan(NOW.getTime());
        } catch (error) {
          if (!isTokenRotatorError(error)) throw error;
          const text = [error.message, JSON.stringify(error), String(error.cause)].join(' ');
          for (const body of sent) {
            const params = new URLSearchParams(body);
            const assertion = params.get('client_assertion') ?? params.get('assertion') ?? '';
            for (const part of assertion.split('.')) if (part.length > 8) expect(text).not.toContain(part);
          }
          // Only jwt-bearer holds the client secret; to the others it is just text an issuer sent.
          if (KINDS[kind]?.clientSecret === SECRET) expect(text).not.toContain(SECRET);
          expect(text).not.toContain(PEM_LINE);
          const last = sent.length === 1 ? first : second;
          if (last.error === 'jti_known' && last.raw === undefined && last.status >= 400) {
            expect(blocksUntilClientChanges(error.code)).toBe(false);
          }
        }
        expect(sent.length).toBeGreaterThanOrEqual(1);
        expect(sent.length).toBeLessThanOrEqual(2);
        if (sent.length === 2) {
          const [a, b] = sent.map(
            (s) => new URLSearchParams(s).get('client_assertion') ?? new URLSearchParams(s).get('assertion'),
          );
          expect(a).not.toBe(b);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
