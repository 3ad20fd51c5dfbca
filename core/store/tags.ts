/**
 * The tags token-rotator keeps on its secrets: the keys, epoch-second instants, the reserved
 * prefixes user tags may not use, the tags of a new token secret and those a good write removes.
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
  /**
   * On every token secret, from its creation: the version id of the client document it is
   * refreshed with. Written by whoever writes the client document (the provider), so a sweep that
   * lists token secrets only (this key is what the listing filters on) knows when a cached client
   * document is stale, without reading it.
   */
  clientVersion: 'token-rotator:client-version',
  /** The client version a permanent failure was recorded with; a different `client-version` lifts the block. */
  failedClientVersion: 'token-rotator:failed-client-version',
  /**
   * For a credential whose client secret is kept in a `clientSecretSource`: the version of that
   * secret a permanent failure was recorded with. A recheck reads the source and asks the issuer
   * again only when its version differs.
   */
  failedSourceVersion: 'token-rotator:failed-source-version',
  /**
   * The version id of the token that was current when a failure was recorded. Once another
   * version is current, a later write succeeded: the failure tags are stale (the listing ignores
   * them) and the next write or tag repair removes them. A failure recorded by one invocation
   * while another's refresh was in flight therefore never outlives that refresh's good write.
   */
  failedVersion: 'token-rotator:failed-version',
  failures: 'token-rotator:failures',
  /** A short error code (`IssuerUnavailable`), never a message from upstream. */
  lastError: 'token-rotator:last-error',
  nextAttempt: 'token-rotator:next-attempt',
  /** When the last failure was recorded; a permanent failure is lifted by a newer client secret. */
  failedAt: 'token-rotator:failed-at',
  /**
   * `breached` when the issuer's real token lifetime makes the rotator write more often than the
   * budget; `ok` once it no longer does. Written only when that state changes (absent means `ok`),
   * so a clean refresh stays one PutSecretValue.
   */
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

/** The tags a failed refresh sets, which a successful write clears. */
export const FAILURE_TAG_KEYS = [TAG_KEYS.lastError, TAG_KEYS.nextAttempt, TAG_KEYS.failedAt];

/**
 * The tags of a token secret at creation: the credential and the client document version it goes
 * with (the state of the token travels in its version id, core/token-version.ts).
 */
export function initialTokenTags(
  record: Pick<TokenRecord, 'credential'>,
  clientVersion: string,
): Record<string, string> {
  return { [TAG_KEYS.credential]: record.credential, [TAG_KEYS.clientVersion]: clientVersion };
}

/** What a successful token write removes: every failure tag (absent `failures` means 0). */
export const STALE_AFTER_WRITE_TAG_KEYS = [
  TAG_KEYS.failures,
  ...FAILURE_TAG_KEYS,
  TAG_KEYS.failedClientVersion,
  TAG_KEYS.failedSourceVersion,
  TAG_KEYS.failedVersion,
];

/** The `write-budget` tag value of a breach state. */
export function writeBudgetTagValue(breached: boolean): 'breached' | 'ok' {
  return breached ? 'breached' : 'ok';
}
