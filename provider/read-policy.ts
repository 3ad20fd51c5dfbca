/** IAM policy documents that grant workloads read access to token secrets, and nothing else. */

/**
 * An IAM policy (JSON) allowing `secretsmanager:GetSecretValue` and `secretsmanager:DescribeSecret`
 * on the given token secrets only, plus `kms:Decrypt` on the key when one encrypts them.
 *
 * @example
 * ```ts
 * new aws.iam.RolePolicy('reader', { role: role.id, policy: credential.readPolicy });
 * ```
 */
export function tokenReadPolicy(tokenSecretArns: readonly string[], kmsKeyArn?: string): string {
  const statements: Record<string, unknown>[] = [
    {
      Sid: 'ReadTokenSecret',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: tokenSecretArns.length === 1 ? tokenSecretArns[0] : [...tokenSecretArns],
    },
  ];
  if (kmsKeyArn) {
    statements.push({
      Sid: 'DecryptTokenSecret',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: kmsKeyArn,
      Condition: { StringLike: { 'kms:ViaService': 'secretsmanager.*.amazonaws.com' } },
    });
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/**
 * The read policy of one credential: its token secret, and its KMS key when `kmsKeyId` names
 * one by ARN (an alias or bare key id cannot be a policy's resource).
 */
export function credentialReadPolicy(tokenSecretArn: string, kmsKeyId: string | undefined): string {
  return tokenReadPolicy([tokenSecretArn], kmsKeyId?.startsWith('arn:') ? kmsKeyId : undefined);
}
