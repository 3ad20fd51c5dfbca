/**
 * Contract fake of the header-authenticated JWT service (seed 002): `GET /auth/jwt` (and `POST`,
 * which the seed's own curl example uses) with `client-id` / `client-secret` request headers.
 * 200 → the JWT in the `Authorization: Bearer <jwt>` response header (HS256, `sub` = client id,
 * valid 1 h by default); a missing header → 400; unknown or revoked credentials → 403.
 * Shaping faults: `missingToken` (no Authorization header), `nonJson` (a `Basic` header instead of
 * a Bearer JWT), `missingExpiry`, `expiredToken`, `shortExp` (on the JWT).
 */
import { randomBytes } from 'node:crypto';
import { mintFakeJwt } from './fake-jwt';
import { type FakeServerOptions, headerValue, type RunningFake, startFakeServer } from './faults';

export interface HeaderJwtFakeOptions extends FakeServerOptions {
  /** Known clients, id → secret. */
  clients?: Record<string, string>;
  /** JWT lifetime in seconds; the seed says 1 hour. */
  lifetimeSeconds?: number;
  shortExpSeconds?: number;
  now?: () => Date;
}

export interface HeaderJwtFake extends RunningFake {
  /** `http://127.0.0.1:PORT/auth/jwt`. */
  tokenUrl: string;
  setLifetime(seconds: number): void;
}

/** The default client of this fake. */
export const HEADER_JWT_CLIENT = { clientId: 'client-123', clientSecret: 'header-secret-456' };

/** Starts the header-JWT fake on 127.0.0.1. */
export async function startHeaderJwtFake(options: HeaderJwtFakeOptions = {}): Promise<HeaderJwtFake> {
  const clients = options.clients ?? { [HEADER_JWT_CLIENT.clientId]: HEADER_JWT_CLIENT.clientSecret };
  const now = options.now ?? (() => new Date());
  const key = new Uint8Array(randomBytes(32));
  let lifetimeSeconds = options.lifetimeSeconds ?? 3600;
  let fake: RunningFake | undefined;

  fake = await startFakeServer(async (request, fault) => {
    if (request.path !== '/auth/jwt') return { status: 404, body: { message: 'Not Found' } };
    if (request.method !== 'GET' && request.method !== 'POST')
      return { status: 405, body: { message: 'Method Not Allowed' } };
    const clientId = headerValue(request, 'client-id');
    const clientSecret = headerValue(request, 'client-secret');
    if (!clientId || !clientSecret)
      return { status: 400, body: { message: 'Bad Request: missing client-id or client-secret' } };
    if (clients[clientId] !== clientSecret || fake?.isRevoked(clientId)) {
      return { status: 403, body: { message: 'Unauthorized: invalid client-id or client-secret' } };
    }
    if (fault === 'missingToken') return { status: 200, body: { message: 'ok' } };
    if (fault === 'nonJson') return { status: 200, headers: { authorization: 'Basic bm90LWEtand0' } };
    const minted = await mintFakeJwt({
      key,
      alg: 'HS256',
      claims: { sub: clientId },
      lifetimeSeconds,
      shortExpSeconds: options.shortExpSeconds,
      fault,
      now,
    });
    fake?.countIssued();
    return { status: 200, headers: { authorization: `Bearer ${minted.jwt}` } };
  }, options);
  return Object.assign(fake, {
    tokenUrl: `${fake.url}/auth/jwt`,
    setLifetime: (seconds: number) => {
      lifetimeSeconds = seconds;
    },
  });
}
