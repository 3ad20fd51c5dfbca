/**
 * Fixtures of the rotator's unit tests: a frozen clock, client documents and token records of a
 * fleet of Sirv-kind credentials, and an issuer `fetch` that answers per client id and measures
 * how many requests are in flight at once.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ClientDocument } from '../../../core/store';
import type { TokenRecord } from '../../../core/token';
import { TEST_EPOCH } from '../../helpers/clock';
import { tokenRecord as record } from '../../helpers/token-record';

export { at, frozenClock } from '../../helpers/clock';

export const NOW = TEST_EPOCH;
export const PREFIX = 'unit-rotator/';
export const TOKEN_URL = 'http://sirv.test/v2/token';
/** Planted in every client document; must never appear in a log line or a result. */
export const PLANTED_SECRET = 'PLANTED-client-secret-5f2b9c';
/** Every token the fake issuer hands out starts with this. */
export const PLANTED_TOKEN_PREFIX = 'PLANTED-access-token-';

/** The sweep's dependencies with the handler's defaults, time frozen at NOW and no fan-out. */
export function sweepDefaults(secretsManager: SecretsManagerClient) {
  return {
    secretsManager,
    prefix: PREFIX,
    now: () => new Date(NOW.getTime()),
    random: () => 0,
    lookaheadSeconds: 60,
    concurrency: 8,
    batchSize: 100,
    remainingMs: () => 600_000,
    reserveMs: 15_000,
  };
}

export function clientIdOf(name: string): string {
  return `id-${name}`;
}

/** A Sirv-preset client document pointing at {@link TOKEN_URL}. */
export function sirvDocument(name: string, policy: Record<string, unknown> = {}): ClientDocument {
  return {
    version: 1,
    issuer: {
      kind: 'sirv',
      url: TOKEN_URL,
      allowInsecureHttp: true,
      clientId: clientIdOf(name),
      clientSecret: `${PLANTED_SECRET}-${name}`,
    },
    policy,
  };
}

/** A token record of `name`, issued 20 minutes before it expires, due at `refreshAfter`. */
export function tokenRecord(name: string, refreshAfter: Date, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return record(
    name,
    { at: refreshAfter, issued: -900, refresh: 0, expires: 300 },
    { accessToken: `${PLANTED_TOKEN_PREFIX}old-${name}`, generation: 7, ...overrides },
  );
}

/** What the fake issuer answers for one request: a token (the default), or an error answer. */
export type IssuerAnswer =
  | { kind: 'token'; lifetimeSeconds?: number }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> };

/** One request the fake issuer received. */
export interface IssuerCall {
  clientId: string;
  body: string;
}

/**
 * A Sirv token endpoint as a `fetch`: answers per client id (`answers`, a token by default),
 * counts calls and the peak number in flight. Each request yields to the event loop `holdTurns`
 * times before answering, so concurrent requests overlap without any timer.
 */
export function sirvIssuer(options: { answers?: Record<string, IssuerAnswer>; holdTurns?: number } = {}) {
  const calls: IssuerCall[] = [];
  let inFlight = 0;
  let peak = 0;
  let issued = 0;
  const fetchImpl = async (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    try {
      for (let i = 0; i < (options.holdTurns ?? 0); i++) await new Promise((resolve) => setImmediate(resolve));
      const body = typeof init?.body === 'string' ? init.body : '';
      const clientId = String((JSON.parse(body || '{}') as { clientId?: unknown }).clientId);
      calls.push({ clientId, body });
      const answer = options.answers?.[clientId] ?? { kind: 'token' };
      if (answer.kind === 'status') {
        return new Response(JSON.stringify(answer.body ?? { error: 'failure' }), {
          status: answer.status,
          headers: { 'content-type': 'application/json', ...answer.headers },
        });
      }
      issued += 1;
      return new Response(
        JSON.stringify({
          token: `${PLANTED_TOKEN_PREFIX}${clientId}-${issued}`,
          expiresIn: answer.lifetimeSeconds ?? 1200,
          scope: ['files:read'],
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    } finally {
      inFlight -= 1;
    }
  };
  return {
    fetch: fetchImpl as typeof fetch,
    calls,
    get peakInFlight() {
      return peak;
    },
  };
}
