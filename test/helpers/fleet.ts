/**
 * Fixtures of the rotator's unit tests: a frozen clock, client documents and token records of a
 * fleet of Sirv-kind credentials, and the in-process Sirv issuer that answers them.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ClientDocument } from '../../core/store';
import type { TokenRecord } from '../../core/token';
import { type SirvFetch, type SirvFetchOptions, sirvFetch } from '../../local-stack/fakes/sirv-fetch';
import { TEST_EPOCH } from './clock';
import { tokenRecord as record } from './token-record';

export type { IssuerAnswer, IssuerCall } from '../../local-stack/fakes/sirv-fetch';
export { at, frozenClock } from './clock';

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

/**
 * The in-process Sirv token endpoint (local-stack/fakes/sirv-fetch.ts), handing out tokens that
 * start with {@link PLANTED_TOKEN_PREFIX}.
 */
export function sirvIssuer(options: Omit<SirvFetchOptions, 'tokenPrefix'> = {}): SirvFetch {
  return sirvFetch({ ...options, tokenPrefix: PLANTED_TOKEN_PREFIX });
}
