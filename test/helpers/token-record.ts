/**
 * The one token-record factory of the tests: a valid Sirv-kind record whose times are given in
 * seconds from a reference instant, so each test says only what it cares about.
 */
import type { TokenRecord } from '../../core/token';
import { at, TEST_EPOCH } from './clock';

/** When a record was issued, is due and expires, in seconds from `at`. */
export interface RecordTimes {
  /** The reference instant (a Date or epoch milliseconds); {@link TEST_EPOCH} by default. */
  at?: Date | number;
  /** `issuedAt` − `at`; −60 by default (issued a minute ago). */
  issued?: number;
  /** `refreshAfter` − `at`; 840 by default (75 % of a 20-minute lifetime after issue). */
  refresh?: number;
  /** `expiresAt` − `at`; 1140 by default (20 minutes after issue). */
  expires?: number;
}

/**
 * A valid token record of `credential`: Sirv, Bearer, generation 1, times from `times`, then
 * `overrides` field by field.
 *
 * @example
 * ```ts
 * const due = tokenRecord('sirv-prod', { refresh: -5 }, { generation: 7 });
 * ```
 */
export function tokenRecord(
  credential = 'sirv-prod',
  times: RecordTimes = {},
  overrides: Partial<TokenRecord> = {},
): TokenRecord {
  const { at: from = TEST_EPOCH, issued = -60, refresh = 840, expires = 1140 } = times;
  const iso = (offsetSeconds: number) => at(offsetSeconds, from).toISOString();
  return {
    version: 1,
    credential,
    issuer: 'sirv',
    accessToken: `token-of-${credential}`,
    tokenType: 'Bearer',
    issuedAt: iso(issued),
    expiresAt: iso(expires),
    refreshAfter: iso(refresh),
    generation: 1,
    ...overrides,
  };
}
