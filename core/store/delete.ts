/**
 * Deleting both secrets of a credential, with a recovery window or at once.
 */
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError } from '../errors';
import { isAwsError, storeError } from './aws-errors';
import { describeSecret } from './describe';
import { prefixOf, type SecretStore, secretNames } from './names';

/** The shortest recovery window Secrets Manager accepts, used when a rollback re-deletes a restored secret. */
export const MIN_RECOVERY_WINDOW_DAYS = 7;
const MAX_RECOVERY_WINDOW_DAYS = 30;

/** How to delete: with a recovery window (7–30 days, default 7), or at once without recovery. */
export type DeleteOptions =
  | { recoveryWindowInDays?: number; forceDeleteWithoutRecovery?: false }
  | { forceDeleteWithoutRecovery: true; recoveryWindowInDays?: undefined };

/**
 * Deletes both secrets of a credential. A secret that is already gone, or already scheduled for
 * deletion, counts as deleted. Both deletions are attempted even when the first fails.
 */
export async function deleteCredentialSecrets(
  store: SecretStore,
  name: string,
  options: DeleteOptions = {},
): Promise<void> {
  const names = secretNames(name, prefixOf(store));
  const force = options.forceDeleteWithoutRecovery === true;
  const days = options.recoveryWindowInDays ?? MIN_RECOVERY_WINDOW_DAYS;
  if (!force && (!Number.isInteger(days) || days < MIN_RECOVERY_WINDOW_DAYS || days > MAX_RECOVERY_WINDOW_DAYS)) {
    throw new InvalidConfigurationError(
      `Credential "${name}": recoveryWindowInDays must be a whole number from ${MIN_RECOVERY_WINDOW_DAYS} to ${MAX_RECOVERY_WINDOW_DAYS}.`,
      { credential: name, field: 'recoveryWindowInDays' },
    );
  }
  const errors: ReturnType<typeof storeError>[] = [];
  for (const secretName of [names.token, names.client]) {
    try {
      await store.client.send(
        new DeleteSecretCommand(
          force
            ? { SecretId: secretName, ForceDeleteWithoutRecovery: true }
            : { SecretId: secretName, RecoveryWindowInDays: days },
        ),
      );
    } catch (e) {
      if (isAwsError(e, 'ResourceNotFoundException')) continue;
      // AWS refuses to schedule a deletion twice: already pending counts as done.
      if (isAwsError(e, 'InvalidRequestException') && !force) {
        const state = await describeSecret(store.client, secretName, name).catch(() => undefined);
        if (state && (!state.exists || state.deletedDate)) continue;
      }
      errors.push(storeError(e, name, 'DeleteSecret'));
    }
  }
  if (errors[0]) throw errors[0];
}
