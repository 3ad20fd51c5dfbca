/**
 * The secret-name layout of token-rotator (DESIGN.md "Secrets layout"): for credential NAME under
 * PREFIX, `PREFIX NAME/client` holds the client document and `PREFIX NAME/token` the token record.
 * No AWS call here, so the reader may import it.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError } from '../errors';
import {
  CREDENTIAL_NAME_PATTERN,
  CREDENTIAL_NAME_RULE,
  DEFAULT_PREFIX,
  isCredentialName,
  isPrefix,
  MAX_PREFIX_LENGTH,
  PREFIX_PATTERN,
  PREFIX_RULE,
} from '../token';

/** The prefix every secret name starts with unless the caller picks another. */
export { DEFAULT_PREFIX };

/** Suffixes of the two secrets of a credential. */
export const CLIENT_SUFFIX = '/client';
export const TOKEN_SUFFIX = '/token';

const MAX_SECRET_NAME_LENGTH = 512;

export { CREDENTIAL_NAME_PATTERN, MAX_PREFIX_LENGTH, PREFIX_PATTERN };

/** Where credentials live: a Secrets Manager client and the name prefix. */
export interface SecretStore {
  client: SecretsManagerClient;
  /** Defaults to {@link DEFAULT_PREFIX}. */
  prefix?: string | undefined;
}

/** The two secret names of a credential. */
export interface SecretNames {
  client: string;
  token: string;
}

/**
 * The secret names of credential `name` under `prefix`, validated.
 *
 * @example
 * ```ts
 * secretNames('sirv-prod'); // { client: 'token-rotator/sirv-prod/client', token: 'token-rotator/sirv-prod/token' }
 * ```
 */
export function secretNames(name: string, prefix: string = DEFAULT_PREFIX): SecretNames {
  assertCredentialName(name);
  assertPrefix(prefix);
  const names = layoutSecretNames(name, prefix);
  // Unreachable with today's limits (256 + 64 + 7), kept so a looser prefix rule cannot slip past AWS's limit.
  if (names.client.length > MAX_SECRET_NAME_LENGTH) {
    throw new InvalidConfigurationError(
      `Credential "${name}": the secret name would be ${names.client.length} characters, above Secrets Manager's ${MAX_SECRET_NAME_LENGTH}; use a shorter prefix or name.`,
      { credential: name, field: 'prefix' },
    );
  }
  return names;
}

/**
 * The two secret names of `name` under `prefix` as the layout spells them, without any check:
 * for a caller that has checked the name already (the reader). Everyone else uses {@link secretNames}.
 */
export function layoutSecretNames(name: string, prefix: string): SecretNames {
  return { client: `${prefix}${name}${CLIENT_SUFFIX}`, token: `${prefix}${name}${TOKEN_SUFFIX}` };
}

/**
 * Throws an {@link InvalidConfigurationError} (field `name`) unless `name` is a valid credential
 * name: 1–64 letters, digits and `_+=.@-`, starting with a letter or digit. No `/`, so a
 * credential name can never reach into another prefix.
 */
export function assertCredentialName(name: unknown): asserts name is string {
  if (!isCredentialName(name)) {
    throw new InvalidConfigurationError(`name: expected a credential name of ${CREDENTIAL_NAME_RULE}.`, {
      credential: typeof name === 'string' && name.length <= 64 ? name : undefined,
      field: 'name',
    });
  }
}

/**
 * Throws an {@link InvalidConfigurationError} (field `prefix`) unless `prefix` is a valid prefix:
 * path segments of letters, digits and `_+=.@-`, each ending with `/`, at most 256 characters.
 */
export function assertPrefix(prefix: string): void {
  if (!isPrefix(prefix)) {
    throw new InvalidConfigurationError(`prefix: expected ${PREFIX_RULE}.`, { field: 'prefix' });
  }
}

/** The prefix of `store`: its own, or {@link DEFAULT_PREFIX}. */
export function prefixOf(store: SecretStore): string {
  return store.prefix ?? DEFAULT_PREFIX;
}

/**
 * Which credential and which of its two secrets `secretName` is, when it lies directly under
 * `prefix`; `undefined` for any other name (a deeper path belongs to another prefix).
 */
export function parseSecretName(
  secretName: string | undefined,
  prefix: string,
): { name: string; kind: 'client' | 'token' } | undefined {
  if (!secretName?.startsWith(prefix)) return undefined;
  const rest = secretName.slice(prefix.length);
  for (const [suffix, kind] of [
    [TOKEN_SUFFIX, 'token'],
    [CLIENT_SUFFIX, 'client'],
  ] as const) {
    if (!rest.endsWith(suffix)) continue;
    const name = rest.slice(0, -suffix.length);
    // A deeper path (another prefix nested under this one) is not ours.
    return isCredentialName(name) ? { name, kind } : undefined;
  }
  return undefined;
}
