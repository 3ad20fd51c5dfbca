/** The settings of an existing credential that are not values: user tags and the KMS key of both secrets. */
import { TagResourceCommand, UntagResourceCommand, UpdateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { call } from './aws-errors';
import { DEFAULT_KMS_KEY_ALIAS } from './create';
import { prefixOf, type SecretStore, secretNames } from './names';
import { assertUserTags, RESERVED_TAG_PREFIXES, tagList } from './tags';

/** Input of {@link updateCredentialSettings}. */
export interface CredentialSettings {
  /** The user tags now wanted on both secrets. */
  tags?: Record<string, string> | undefined;
  /** The user tags set before; keys no longer wanted are removed. */
  previousTags?: Record<string, string> | undefined;
  /** The KMS key for new versions of both secrets; Secrets Manager's own key when undefined. */
  kmsKeyId?: string | undefined;
}

/**
 * Applies changed user tags and KMS key to both secrets of a credential, leaving the values and
 * token-rotator's own tags alone. A new key applies to versions written from now on.
 */
export async function updateCredentialSettings(
  store: SecretStore,
  name: string,
  settings: CredentialSettings,
): Promise<void> {
  const names = secretNames(name, prefixOf(store));
  const tags = assertUserTags(name, settings.tags);
  const removed = Object.keys(settings.previousTags ?? {}).filter(
    (k) => !(k in tags) && !RESERVED_TAG_PREFIXES.some((p) => k.startsWith(p)),
  );
  for (const secretName of [names.client, names.token]) {
    if (removed.length > 0) {
      await call(name, 'UntagResource', () =>
        store.client.send(new UntagResourceCommand({ SecretId: secretName, TagKeys: removed })),
      );
    }
    if (Object.keys(tags).length > 0) {
      await call(name, 'TagResource', () =>
        store.client.send(new TagResourceCommand({ SecretId: secretName, Tags: tagList(tags) })),
      );
    }
    if ('kmsKeyId' in settings) {
      await call(name, 'UpdateSecret', () =>
        store.client.send(
          new UpdateSecretCommand({ SecretId: secretName, KmsKeyId: settings.kmsKeyId ?? DEFAULT_KMS_KEY_ALIAS }),
        ),
      );
    }
  }
}
