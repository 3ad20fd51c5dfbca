/**
 * IAM documents of the TokenRotator component, built by pure functions so tests can parse and
 * judge every statement without deploying anything.
 */
import { createHash } from 'node:crypto';
import { InvalidConfigurationError } from '../core/errors';

/** One IAM policy statement (the subset this project writes). */
export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  /** Absent in trust policies, where the role itself is the resource. */
  Resource?: string | string[];
  Principal?: { Service: string };
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** Where the rotator runs and what it owns: everything its policy is scoped to. */
export interface RotatorPolicyScope {
  partition: string;
  region: string;
  accountId: string;
  /** Secret name prefix, ending with `/` (e.g. `token-rotator/`). */
  prefix: string;
  functionName: string;
  /** The request entry point's function, which runs with the same role and logs to its own group. */
  requestFunctionName?: string | undefined;
  deadLetterQueueArn: string;
  /** The customer managed key encrypting the secrets, when there is one. */
  kmsKeyArn?: string | undefined;
  /** KMS keys that sign KMS-keyed credentials (`issuer.kms.keyId`): `kms:Sign` on these only. */
  signingKeyArns?: readonly string[] | undefined;
  /** The event bus refresh outcomes go to (name or ARN): `events:PutEvents` on it only. */
  eventBus?: string | undefined;
  /**
   * Secrets of the user's that hold credentials' client secrets (`clientSecretSource.secretArn`,
   * complete ARNs): `secretsmanager:GetSecretValue` on these only.
   */
  clientSecretSources?: readonly string[] | undefined;
  /** Customer managed keys encrypting those sources: `kms:Decrypt` through Secrets Manager, for those secrets only. */
  clientSecretSourceKeyArns?: readonly string[] | undefined;
}

/** The ARN of an event bus given by name or ARN. */
export function eventBusArnOf(
  scope: Pick<RotatorPolicyScope, 'partition' | 'region' | 'accountId'>,
  eventBus: string,
): string {
  return eventBus.startsWith('arn:')
    ? eventBus
    : `arn:${scope.partition}:events:${scope.region}:${scope.accountId}:event-bus/${eventBus}`;
}

/** Where the scheduler's role may deliver: this function, from this schedule, in this account. */
export interface SchedulerPolicyScope {
  partition: string;
  region: string;
  accountId: string;
  functionName: string;
  /** The schedule's name, in the `default` group. */
  scheduleName: string;
}

/**
 * Secrets Manager appends `-` and exactly six random characters to a secret's name in its ARN.
 * Matching them with `??????` (not `*`) pins the pattern to names that END with `/client` or
 * `/token`: `PREFIX*\/token-*` would also match `PREFIX a/token-b/NAME/client-AbCdEf`.
 */
const SECRET_SUFFIX = '-??????';

/** The ARN of a Lambda function from its name. */
export function functionArnOf(scope: Pick<RotatorPolicyScope, 'partition' | 'region' | 'accountId' | 'functionName'>) {
  return `arn:${scope.partition}:lambda:${scope.region}:${scope.accountId}:function:${scope.functionName}`;
}

/** The ARN pattern of every `<prefix><name>/<kind>` secret under the prefix. */
export function secretArnPattern(
  scope: Pick<RotatorPolicyScope, 'partition' | 'region' | 'accountId' | 'prefix'>,
  kind: 'client' | 'token',
): string {
  return `arn:${scope.partition}:secretsmanager:${scope.region}:${scope.accountId}:secret:${scope.prefix}*/${kind}${SECRET_SUFFIX}`;
}

/**
 * The ARN pattern of every secret at least one path segment BELOW `PREFIX NAME/`: the secrets of
 * a deployment with a nested prefix (`PREFIX team/`). IAM's `*` matches `/`, so the Allow patterns
 * above cover them too; credential names hold no `/` (CREDENTIAL_NAME_PATTERN), so none of this
 * rotator's own secrets (`PREFIX NAME/client`, `PREFIX NAME/token`) matches.
 */
export function nestedSecretArnPattern(
  scope: Pick<RotatorPolicyScope, 'partition' | 'region' | 'accountId' | 'prefix'>,
): string {
  return `arn:${scope.partition}:secretsmanager:${scope.region}:${scope.accountId}:secret:${scope.prefix}*/*/*`;
}

/**
 * Whether `value` matches an IAM ARN pattern the way IAM matches a statement's Resource: `*` any
 * run of characters (`/` included), `?` any one character, everything else literally.
 */
export function matchesArnPattern(pattern: string, value: string): boolean {
  const source = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** Trust policy letting Lambda assume the rotator's execution role. */
export function lambdaAssumeRolePolicy(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'LambdaAssumesRole',
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
      },
    ],
  };
}

/**
 * The rotator's inline policy: read `PREFIX NAME/client`, read and write `PREFIX NAME/token`,
 * list secrets, read them in batches, invoke itself (fan-out), write its own logs, dead-letter to its own queue, and
 * decrypt/encrypt through Secrets Manager with the customer key when one is given.
 *
 * An explicit Deny makes `/client` secrets read-only for this role whatever else gets attached;
 * another explicit Deny keeps it out of nested prefixes (another deployment's secrets).
 * Statements are independent entries of one list: a new permission is one more `push`.
 *
 * @example
 * ```ts
 * const doc = rotatorPolicy({ partition: 'aws', region: 'eu-west-1', accountId: '123456789012',
 *   prefix: 'token-rotator/', functionName: 'rotator', deadLetterQueueArn: dlqArn });
 * ```
 */
export function rotatorPolicy(scope: RotatorPolicyScope): PolicyDocument {
  const clientSecrets = secretArnPattern(scope, 'client');
  const tokenSecrets = secretArnPattern(scope, 'token');
  const logGroup = (fn: string) =>
    `arn:${scope.partition}:logs:${scope.region}:${scope.accountId}:log-group:/aws/lambda/${fn}:*`;
  const logGroups = [scope.functionName, ...(scope.requestFunctionName ? [scope.requestFunctionName] : [])].map(
    logGroup,
  );
  const statements: PolicyStatement[] = [
    {
      Sid: 'ReadClientSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: clientSecrets,
    },
    {
      Sid: 'RotateTokenSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:PutSecretValue'],
      Resource: tokenSecrets,
    },
    {
      // Sweep bookkeeping lives in tags; only token-rotator's own keys may be set or removed.
      Sid: 'TagTokenSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
      Resource: tokenSecrets,
      Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': 'token-rotator:*' } },
    },
    {
      // ListSecrets supports no resource-level permissions: IAM only accepts "*" for it. It returns
      // names, ARNs and tags, never a value; the sweep filters by the prefix itself.
      Sid: 'ListSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:ListSecrets',
      Resource: '*',
    },
    {
      // A cold container reads the client documents of a sweep 20 per BatchGetSecretValue. The
      // action supports no resource-level permissions (IAM only accepts "*" for it); Secrets
      // Manager checks GetSecretValue on each secret of the batch, so it reads nothing the
      // statements above do not already let this role read one by one.
      Sid: 'BatchReadSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:BatchGetSecretValue',
      Resource: '*',
    },
    {
      Sid: 'DenyClientSecretWrites',
      Effect: 'Deny',
      NotAction: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: `arn:${scope.partition}:secretsmanager:*:*:secret:*/client${SECRET_SUFFIX}`,
    },
    {
      // Another deployment's secrets under a nested prefix match the Allow patterns above (IAM's
      // `*` crosses `/`); the sweep already treats them as "not ours", and so does IAM now.
      Sid: 'DenyNestedPrefixes',
      Effect: 'Deny',
      Action: 'secretsmanager:*',
      Resource: nestedSecretArnPattern(scope),
    },
    {
      // Fan-out: asynchronous invocations of this very function, nothing else.
      Sid: 'InvokeSelf',
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: functionArnOf(scope),
    },
    {
      // The log group is created by the component, so no logs:CreateLogGroup.
      Sid: 'WriteOwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: logGroups.length === 1 ? logGroups[0] : logGroups,
    },
    {
      Sid: 'DeadLetter',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: scope.deadLetterQueueArn,
    },
  ];
  if (scope.kmsKeyArn) {
    statements.push({
      // Decrypt serves GetSecretValue, GenerateDataKey serves PutSecretValue; both only when the
      // call comes through Secrets Manager in this region, for a secret under the prefix.
      Sid: 'UseSecretsKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: scope.kmsKeyArn,
      Condition: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${scope.region}.amazonaws.com` },
        StringLike: {
          'kms:EncryptionContext:SecretARN': `arn:${scope.partition}:secretsmanager:${scope.region}:${scope.accountId}:secret:${scope.prefix}*`,
        },
        // Not for a nested deployment's secrets either (see DenyNestedPrefixes).
        StringNotLike: { 'kms:EncryptionContext:SecretARN': nestedSecretArnPattern(scope) },
      },
    });
  }
  if (scope.signingKeyArns && scope.signingKeyArns.length > 0) {
    statements.push({
      // Credentials whose key lives in KMS: sign RS256 (an RSA key) or ES256 (an ECC_NIST_P256
      // key, assertions only) with those keys, nothing else (no GetPublicKey, no Decrypt: the
      // provider reads the public key at `pulumi up`).
      Sid: 'SignWithCredentialKeys',
      Effect: 'Allow',
      Action: 'kms:Sign',
      Resource: [...scope.signingKeyArns],
      Condition: { StringEquals: { 'kms:SigningAlgorithm': ['RSASSA_PKCS1_V1_5_SHA_256', 'ECDSA_SHA_256'] } },
    });
  }
  if (scope.clientSecretSources && scope.clientSecretSources.length > 0) {
    statements.push({
      // Client secrets kept in secrets of the user's own: read their value, nothing else.
      Sid: 'ReadClientSecretSources',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: [...scope.clientSecretSources],
    });
    if (scope.clientSecretSourceKeyArns && scope.clientSecretSourceKeyArns.length > 0) {
      statements.push({
        // Decrypt only as Secrets Manager does for GetSecretValue of those very secrets.
        Sid: 'DecryptClientSecretSources',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: [...scope.clientSecretSourceKeyArns],
        Condition: {
          StringEquals: {
            'kms:ViaService': `secretsmanager.${scope.region}.amazonaws.com`,
            'kms:EncryptionContext:SecretARN': [...scope.clientSecretSources],
          },
        },
      });
    }
  }
  if (scope.eventBus) {
    statements.push({
      Sid: 'PutRefreshEvents',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: eventBusArnOf(scope, scope.eventBus),
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * IAM's limit on the total size of a role's inline policies, in characters, whitespace not
 * counted. The rotator's role has one inline policy: the rotator policy.
 */
export const ROLE_INLINE_POLICIES_MAX_CHARS = 10_240;

/** A policy's size as IAM counts it against its quotas: the JSON without whitespace. */
export function policySize(doc: PolicyDocument): number {
  return JSON.stringify(doc).replace(/\s/g, '').length;
}

/**
 * How many of `scope.signingKeyArns`, in their order, the rotator policy can list within
 * {@link ROLE_INLINE_POLICIES_MAX_CHARS}: measured on the document {@link rotatorPolicy} builds.
 */
export function signingKeysThatFit(scope: RotatorPolicyScope): number {
  const keys = scope.signingKeyArns ?? [];
  const fits = (n: number) =>
    policySize(rotatorPolicy({ ...scope, signingKeyArns: keys.slice(0, n) })) <= ROLE_INLINE_POLICIES_MAX_CHARS;
  // The size grows with every key: the largest count that fits, by bisection.
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Why the rotator policy is too large for IAM: the argument to change, and what to do. */
export interface RotatorPolicyTooLarge {
  /** The list that grows without bound: the client secret sources when there are any, else the signing keys. */
  field: 'clientSecretSources' | 'signingKeyArns';
  reason: string;
}

/**
 * Why the rotator policy for `scope` is too large for IAM, naming the list that makes it so and,
 * for signing keys alone, how many of them fit; `undefined` when it fits.
 */
export function rotatorPolicyTooLarge(scope: RotatorPolicyScope): RotatorPolicyTooLarge | undefined {
  const size = policySize(rotatorPolicy(scope));
  if (size <= ROLE_INLINE_POLICIES_MAX_CHARS) return undefined;
  const count = scope.signingKeyArns?.length ?? 0;
  const sources = scope.clientSecretSources?.length ?? 0;
  if (sources > 0) {
    return {
      field: 'clientSecretSources',
      reason: `${count} signing keys and ${sources} clientSecretSources make the rotator's inline policy ${size} characters, over IAM's ${ROLE_INLINE_POLICIES_MAX_CHARS} for a role's inline policies: deploy a second TokenRotator, on a prefix of its own, for some of the credentials`,
    };
  }
  return {
    field: 'signingKeyArns',
    reason: `${count} keys make the rotator's inline policy ${size} characters, over IAM's ${ROLE_INLINE_POLICIES_MAX_CHARS} for a role's inline policies; ${signingKeysThatFit(scope)} of these fit (with this prefix and function name): deploy a second TokenRotator, on a prefix of its own, for the credentials of the other keys`,
  };
}

/**
 * Refuses, before IAM would with LimitExceeded, a rotator policy for the component `name` that
 * is too large: an {@link InvalidConfigurationError} naming the field {@link rotatorPolicyTooLarge} names.
 */
export function assertRotatorPolicyFits(name: string, scope: RotatorPolicyScope): void {
  const tooLarge = rotatorPolicyTooLarge(scope);
  if (tooLarge) {
    throw new InvalidConfigurationError(
      `Invalid TokenRotator "${name}" arguments:\n  - ${tooLarge.field}: ${tooLarge.reason}`,
      { field: tooLarge.field },
    );
  }
}

/**
 * Trust policy letting EventBridge Scheduler assume the schedule's role, only for schedules of
 * this account's `default` group (confused-deputy guard). Scheduler presents the schedule GROUP's
 * ARN as `aws:SourceArn`, not the schedule's, so that is the narrowest value that still works.
 */
export function schedulerAssumeRolePolicy(scope: SchedulerPolicyScope): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'SchedulerAssumesRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: {
            'aws:SourceAccount': scope.accountId,
            'aws:SourceArn': scheduleGroupArnOf(scope),
          },
        },
      },
    ],
  };
}

/** The schedule role's only permission: invoke this function. */
export function schedulerPolicy(scope: SchedulerPolicyScope): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'InvokeRotator', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: functionArnOf(scope) },
    ],
  };
}

/**
 * The name of the request entry point's function beside the rotator function `functionName`:
 * `<functionName>-requests`, within Lambda's 64 characters (a long name is cut and given a hash of
 * the whole, so two rotators never share one).
 */
export function requestFunctionNameOf(functionName: string): string {
  const name = `${functionName}-requests`;
  if (name.length <= 64) return name;
  const hash = createHash('sha256').update(functionName).digest('hex').slice(0, 7);
  return `${functionName.slice(0, 47)}-${hash}-requests`;
}

/**
 * What a workload (or the provider, or an operator's `refresh --function`) needs to ask for
 * refreshes, and nothing more: invoking the request entry point, which takes only credential names
 * and `force`, at its own write pace and reserved concurrency. Not the rotator's own function.
 *
 * @example
 * ```ts
 * new aws.iam.RolePolicy('ask-for-refreshes', { role: workloadRole.id, policy: rotator.requestPolicy });
 * ```
 */
export function requestInvokePolicy(requestFunctionArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'AskForRefreshes', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: requestFunctionArn },
    ],
  };
}

/** The ARN of a schedule in the `default` group. */
export function scheduleArnOf(scope: SchedulerPolicyScope): string {
  return `arn:${scope.partition}:scheduler:${scope.region}:${scope.accountId}:schedule/default/${scope.scheduleName}`;
}

/** The ARN of the `default` schedule group. */
export function scheduleGroupArnOf(scope: Omit<SchedulerPolicyScope, 'functionName' | 'scheduleName'>): string {
  return `arn:${scope.partition}:scheduler:${scope.region}:${scope.accountId}:schedule-group/default`;
}
