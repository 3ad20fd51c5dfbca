/**
 * Contract fake of Sirv's REST API (seeds 001 and 000):
 * - `POST /v2/token`: JSON body `{clientId, clientSecret}` (both required strings, nothing else,
 *   else 400); unknown credentials → 401; success → `{ token, expiresIn, scope }` as in the
 *   seed's example, `token` an HS256 JWT `{clientId, scope, iat, exp}`.
 * - `POST /v2/files/jwt`: requires `Authorization: Bearer <unexpired token from this fake>`
 *   (401 otherwise) and a body valid against seed 000's schema (400 otherwise). The seed's
 *   example response is empty; this fake answers `{ "url": "https://<alias>.sirv.com<filename>?jwt=<jwt>" }`,
 *   the shape of Sirv's JWT-protected URLs, so callers have something to assert on.
 */
import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { mintFakeJwt } from './fake-jwt';
import {
  type FakeResponse,
  type FakeServerOptions,
  headerValue,
  type RecordedRequest,
  type RunningFake,
  startFakeServer,
} from './faults';

/** The scope list of the seed's example response. */
export const SIRV_SCOPE = [
  'account:read',
  'account:write',
  'user:read',
  'user:write',
  'billing:read',
  'billing:write',
  'files:read',
  'files:write',
  'videos',
  'images',
];

/** The client of the seed's example request. */
export const SIRV_SEED_CLIENT = {
  clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R',
  clientSecret: 'TM3d0CfXxusKMpH3x7kHJYD40qJIR3omTIGXP6wPPkXpIUKLEz/dOJ9v6LbXra3y67XsaGK7iQPmnAuD+fzj+Q==',
};

export interface SirvFakeOptions extends FakeServerOptions {
  /** Known clients, id → secret; the seed's example client by default. */
  clients?: Record<string, string>;
  /** Token lifetime in seconds; Sirv's is 1200. */
  lifetimeSeconds?: number;
  /** `exp` offset under the `shortExp` fault. */
  shortExpSeconds?: number;
  now?: () => Date;
}

export interface SirvFake extends RunningFake {
  /** `http://127.0.0.1:PORT/v2/token`. */
  tokenUrl: string;
  setLifetime(seconds: number): void;
}

/** Starts the Sirv fake on 127.0.0.1. */
export async function startSirvFake(options: SirvFakeOptions = {}): Promise<SirvFake> {
  const clients = options.clients ?? { [SIRV_SEED_CLIENT.clientId]: SIRV_SEED_CLIENT.clientSecret };
  const now = options.now ?? (() => new Date());
  const key = new Uint8Array(randomBytes(32));
  let lifetimeSeconds = options.lifetimeSeconds ?? 1200;
  let fake: RunningFake | undefined;

  async function token(
    request: RecordedRequest,
    fault: Parameters<typeof mintFakeJwt>[0]['fault'],
  ): Promise<FakeResponse> {
    const body = request.body;
    const json = headerValue(request, 'content-type')?.startsWith('application/json') ?? false;
    if (!json || !isTokenRequest(body))
      return { status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'Invalid request body' } };
    const known = clients[body.clientId];
    if (known === undefined || known !== body.clientSecret || fake?.isRevoked(body.clientId)) {
      return {
        status: 401,
        body: { statusCode: 401, error: 'Unauthorized', message: 'Wrong clientId or clientSecret' },
      };
    }
    if (fault === 'nonJson')
      return { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>maintenance</html>' };
    const minted = await mintFakeJwt({
      key,
      alg: 'HS256',
      // A token id, so two tokens issued in one second differ, as a vendor's do.
      claims: {
        clientId: body.clientId,
        clientName: 'My website',
        scope: SIRV_SCOPE,
        jti: randomBytes(8).toString('hex'),
      },
      lifetimeSeconds,
      shortExpSeconds: options.shortExpSeconds,
      fault,
      now,
    });
    fake?.countIssued();
    return {
      status: 200,
      body: {
        ...(fault === 'missingToken' ? {} : { token: minted.jwt }),
        ...(minted.statedLifetime === undefined ? {} : { expiresIn: minted.statedLifetime }),
        scope: SIRV_SCOPE,
      },
    };
  }

  async function fileJwt(request: RecordedRequest): Promise<FakeResponse> {
    const bearer = /^Bearer (\S+)$/i.exec(headerValue(request, 'authorization') ?? '')?.[1];
    const unauthorized = { status: 401, body: { statusCode: 401, error: 'Unauthorized', message: 'Invalid token' } };
    if (bearer === undefined) return unauthorized;
    try {
      await jwtVerify(bearer, key, { algorithms: ['HS256'], currentDate: now() });
    } catch {
      return unauthorized;
    }
    const body = request.body;
    if (!isFileJwtRequest(body))
      return { status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'Invalid request body' } };
    const iat = Math.floor(now().getTime() / 1000);
    const fileJwt = await new SignJWT({ filename: body.filename, ...(body.secureParams ?? {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + body.expiresIn)
      .sign(key);
    const url = new URL(`https://${body.alias ?? 'demo'}.sirv.com${body.filename}`);
    for (const [name, value] of Object.entries(body.insecureParams ?? {})) url.searchParams.set(name, String(value));
    url.searchParams.set('jwt', fileJwt);
    return { status: 200, body: { url: url.href } };
  }

  fake = await startFakeServer(async (request, fault) => {
    if (request.path === '/v2/token' && request.method === 'POST') return token(request, fault);
    if (request.path === '/v2/files/jwt' && request.method === 'POST') return fileJwt(request);
    if (request.path === '/v2/token' || request.path === '/v2/files/jwt')
      return { status: 405, body: { statusCode: 405 } };
    return { status: 404, body: { statusCode: 404, error: 'Not Found' } };
  }, options);
  return Object.assign(fake, {
    tokenUrl: `${fake.url}/v2/token`,
    setLifetime: (seconds: number) => {
      lifetimeSeconds = seconds;
    },
  });
}

/** Seed 001's body schema: exactly `clientId` and `clientSecret`, both strings. */
function isTokenRequest(body: unknown): body is { clientId: string; clientSecret: string } {
  if (!isPlainObject(body)) return false;
  const keys = Object.keys(body);
  return (
    keys.every((k) => k === 'clientId' || k === 'clientSecret') &&
    typeof body.clientId === 'string' &&
    typeof body.clientSecret === 'string'
  );
}

interface FileJwtRequest {
  filename: string;
  expiresIn: number;
  alias?: string;
  secureParams?: Record<string, unknown>;
  insecureParams?: Record<string, unknown>;
}

/** Seed 000's body schema, `additionalProperties: false`. */
function isFileJwtRequest(body: unknown): body is FileJwtRequest {
  if (!isPlainObject(body)) return false;
  const allowed = new Set(['filename', 'alias', 'insecureParams', 'secureParams', 'expiresIn']);
  if (!Object.keys(body).every((k) => allowed.has(k))) return false;
  const { filename, expiresIn, alias, secureParams, insecureParams } = body;
  return (
    typeof filename === 'string' &&
    filename.startsWith('/') &&
    filename.length <= 1024 &&
    typeof expiresIn === 'number' &&
    Number.isFinite(expiresIn) &&
    (alias === undefined || typeof alias === 'string') &&
    (secureParams === undefined || isPlainObject(secureParams)) &&
    (insecureParams === undefined || isPlainObject(insecureParams))
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
