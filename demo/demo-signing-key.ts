/**
 * The demo's KMS signing key for `upload-demo`: an RSA_2048 SIGN_VERIFY key in the local stack's
 * KMS (moto), found by its alias so a second run of the program reuses it instead of minting
 * a new key (which would change the credential on every `up`).
 */
import type { KMSClient } from '@aws-sdk/client-kms';

/** The alias of the demo's signing key under `prefix` (alias names allow `A-Za-z0-9/_-` only). */
export function demoSigningKeyAlias(prefix: string): string {
  return `alias/${prefix.replace(/[^A-Za-z0-9/_-]/g, '-')}upload-demo`;
}

/**
 * The ARN of the key behind `alias`, created with the alias when there is none.
 *
 * @example
 * ```ts
 * const keyArn = await ensureDemoSigningKey(demoSigningKeyAlias('token-rotator-demo/'));
 * ```
 */
export async function ensureDemoSigningKey(alias: string, client?: KMSClient): Promise<string> {
  const kms = require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms');
  const send = client ?? new kms.KMSClient({});
  try {
    const { KeyMetadata } = await send.send(new kms.DescribeKeyCommand({ KeyId: alias }));
    if (KeyMetadata?.Arn) return KeyMetadata.Arn;
  } catch (e) {
    if (!(e instanceof kms.NotFoundException)) throw e;
  }
  const { KeyMetadata } = await send.send(
    new kms.CreateKeyCommand({
      KeySpec: 'RSA_2048',
      KeyUsage: 'SIGN_VERIFY',
      Description: 'token-rotator demo: signs upload-demo tokens',
    }),
  );
  if (!KeyMetadata?.Arn || !KeyMetadata.KeyId) throw new Error('KMS CreateKey answered without a key ARN');
  await send.send(new kms.CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata.KeyId }));
  return KeyMetadata.Arn;
}
