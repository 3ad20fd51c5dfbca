/**
 * The tags token-rotator keeps on its secrets: the keys, epoch-second instants, the reserved
 * prefixes user tags may not use, and the tags of a freshly written token.
 */
import type { Tag } from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError } from '../errors';
import type { TokenRecord } from '../token';

/**
 * Tag keys token-rotator writes. `credential` is on both secrets; the others are on the token
 * secret only. Instants are epoch seconds, so a sweep compares numbers without parsing dates.
 */
export const TAG_KEYS = {
  credential: 'token-rotator:credential',
  refreshAfter: 'token-rotator:refresh-after',
  /** The token's own expiry, so a sweep can report the minimum seconds to expiry from tags alone. */
  expiresAt: 'token-rotator:expires-at',
  failures: 'token-rotator:failures',
  /** A short error code (`IssuerUnavailable`), never a message from upstream. */
  lastError: 'token-rotator:last-error',
  nextAttempt: 'token-rotator:next-attempt',
  /** When the last failure was recorded; a permanent failure is lifted by a newer client secret. */
  failedAt: 'token-rotator:failed-at',
  /** `breached` when the issuer's real token lifetime makes the rotator write more often than the budget. */
  writeBudget: 'token-rotator:write-budget',
} as const;

/** Tag keys starting with these are ours (or AWS's) and cannot be user tags. */
export const RESERVED_TAG_PREFIXES = ['token-rotator:', 'aws:'] as const;

/** A tag value of `date`: whole epoch seconds. */
export function epochSeconds(date: Date | string): string {
  return String(Math.floor(new Date(date).getTime() / 1000));
}

/** The instant of an epoch-seconds tag value; `undefined` when absent or malformed. */
export function fromEpochSeconds(value: string | undefined): Date | undefined {
  if (value === undefined || !/^\d{1,12}$/.test(value)) return undefined;
  return new Date(Number(value) * 1000);
}

/** `{ key: value }` as the SDK's tag list. */
export function tagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** The SDK's tag list as `{ key: value }`. */
export function tagMap(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** The user tags of credential `name`, after checking that none uses a reserved key. */
export function assertUserTags(name: string, tags: Record<string, string> | undefined): Record<string, string> {
  for (const key of Object.keys(tags ?? {})) {
    if (RESERVED_TAG_PREFIXES.some((p) => key.startsWith(p))) {
      throw new InvalidConfigurationError(
        `Credential "${name}": tags.${key}: tag keys starting with ${RESERVED_TAG_PREFIXES.map((p) => `"${p}"`).join(' or ')} are reserved.`,
        { credential: name, field: `tags.${key}` },
      );
    }
  }
  return { ...tags };
}

/** The tags a freshly written token carries: when it is due, when it expires, and no failures. */
export function freshTokenTags(record: TokenRecord, writeBudgetBreached?: boolean): Record<string, string> {
  return {
    [TAG_KEYS.credential]: record.credential,
    [TAG_KEYS.refreshAfter]: epochSeconds(record.refreshAfter),
    [TAG_KEYS.expiresAt]: epochSeconds(record.expiresAt),
    [TAG_KEYS.failures]: '0',
    ...(writeBudgetBreached === undefined ? {} : { [TAG_KEYS.writeBudget]: writeBudgetBreached ? 'breached' : 'ok' }),
  };
}

/** The tags a failed refresh sets, which a successful write clears. */
export const FAILURE_TAG_KEYS = [TAG_KEYS.lastError, TAG_KEYS.nextAttempt, TAG_KEYS.failedAt];
