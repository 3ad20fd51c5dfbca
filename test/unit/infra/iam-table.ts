/**
 * The least-privilege table: requests the rotator role, the scheduler role, a workload's read
 * policy and its request policy make (or could make by mistake), each with the decision AWS must
 * reach. One source for both the simulator test (iam-table.test.ts) and the IAM section of
 * docs/operations.md, which is rendered from it.
 */

import {
  type PolicyDocument,
  type RotatorPolicyScope,
  requestInvokePolicy,
  rotatorPolicy,
  type SchedulerPolicyScope,
  schedulerPolicy,
} from '../../../infra/policies';
import { tokenReadPolicy } from '../../../provider/read-policy';
import type { Decision, SimulatedRequest } from './iam-simulator';

export const ACCOUNT = '123456789012';
export const OTHER_ACCOUNT = '210987654321';
export const REGION = 'eu-west-1';
export const OTHER_REGION = 'us-east-1';
export const PREFIX = 'token-rotator/';
export const FUNCTION = 'token-rotator-abc1234';
export const REQUEST_FUNCTION = 'token-rotator-requests-abc1234';
export const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-12ab-34cd-56ef-1234567890ab`;
const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:token-rotator-dlq`;
const VIA_SM = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` };
/** A secret of the user's holding a client secret (`clientSecretSource`), and the customer key encrypting it. */
const SOURCE_NAME = 'platform/sirv-client';
const SOURCE_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/55555555-12ab-34cd-56ef-1234567890ab`;

const rotatorScope: RotatorPolicyScope = {
  partition: 'aws',
  region: REGION,
  accountId: ACCOUNT,
  prefix: PREFIX,
  functionName: FUNCTION,
  deadLetterQueueArn: DLQ,
  kmsKeyArn: KEY,
};
const schedulerScope: SchedulerPolicyScope = {
  partition: 'aws',
  region: REGION,
  accountId: ACCOUNT,
  functionName: FUNCTION,
  scheduleName: FUNCTION,
};

/** The secret ARN of `name` as Secrets Manager makes it (six random characters appended). */
export const secret = (name: string, region = REGION, account = ACCOUNT) =>
  `arn:aws:secretsmanager:${region}:${account}:secret:${name}-AbCdEf`;
const fn = (name: string, region = REGION) => `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`;
const logStream = (group: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}:log-stream:2026/12/01/x`;

/** The policies under test, as the component and the provider build them. */
export const POLICIES = {
  rotator: rotatorPolicy(rotatorScope),
  'rotator, no kmsKeyArn': rotatorPolicy({ ...rotatorScope, kmsKeyArn: undefined }),
  'rotator with clientSecretSources': rotatorPolicy({
    ...rotatorScope,
    clientSecretSources: [secret(SOURCE_NAME)],
    clientSecretSourceKeyArns: [SOURCE_KEY],
  }),
  scheduler: schedulerPolicy(schedulerScope),
  'workload (readPolicy of alpha)': JSON.parse(
    tokenReadPolicy([secret(`${PREFIX}alpha/token`)], KEY),
  ) as PolicyDocument,
  'workload (requestPolicy)': requestInvokePolicy(fn(REQUEST_FUNCTION)),
} satisfies Record<string, PolicyDocument>;

/** One row: who asks, what, on what, and what AWS must answer. */
export interface IamTableRow {
  policy: keyof typeof POLICIES;
  request: SimulatedRequest;
  /** How the docs name the resource (ARNs are long; the row's `request` has the real one). */
  on: string;
  expected: Decision;
}

// A secret of another account whose resource policy lets our role in: what remains to stop the
// request is our identity policy, which is what this row tests.
const openToUs = (arn: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'OpenToTheRotator',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/under-test` },
      Action: 'secretsmanager:*',
      Resource: arn,
    },
  ],
});

const own = (kind: 'client' | 'token') => secret(`${PREFIX}alpha/${kind}`);
const ownKeys = { 'aws:TagKeys': ['token-rotator:nextAttempt'] };

const row = (
  policy: IamTableRow['policy'],
  action: string,
  resource: string,
  on: string,
  expected: Decision,
  extra: Omit<SimulatedRequest, 'action' | 'resource'> = {},
): IamTableRow => ({ policy, request: { action, resource, ...extra }, on, expected });

/** The table, in the order docs/operations.md shows it. */
export const IAM_TABLE: IamTableRow[] = [
  // Own client secrets: read-only, even by mistake.
  row('rotator', 'secretsmanager:GetSecretValue', own('client'), '`token-rotator/alpha/client`', 'Allowed'),
  row('rotator', 'secretsmanager:DescribeSecret', own('client'), '`token-rotator/alpha/client`', 'Allowed'),
  row('rotator', 'secretsmanager:PutSecretValue', own('client'), '`token-rotator/alpha/client`', 'ExplicitlyDenied'),
  row('rotator', 'secretsmanager:UpdateSecret', own('client'), '`token-rotator/alpha/client`', 'ExplicitlyDenied'),
  row('rotator', 'secretsmanager:DeleteSecret', own('client'), '`token-rotator/alpha/client`', 'ExplicitlyDenied'),
  row(
    'rotator',
    'secretsmanager:TagResource',
    own('client'),
    '`token-rotator/alpha/client`, key `token-rotator:nextAttempt`',
    'ExplicitlyDenied',
    { context: ownKeys },
  ),
  // Own token secrets: read, write, tag with token-rotator:* keys.
  row('rotator', 'secretsmanager:GetSecretValue', own('token'), '`token-rotator/alpha/token`', 'Allowed'),
  row('rotator', 'secretsmanager:PutSecretValue', own('token'), '`token-rotator/alpha/token`', 'Allowed'),
  row(
    'rotator',
    'secretsmanager:TagResource',
    own('token'),
    '`token-rotator/alpha/token`, key `token-rotator:nextAttempt`',
    'Allowed',
    { context: ownKeys },
  ),
  row(
    'rotator',
    'secretsmanager:UntagResource',
    own('token'),
    '`token-rotator/alpha/token`, key `token-rotator:nextAttempt`',
    'Allowed',
    { context: ownKeys },
  ),
  row(
    'rotator',
    'secretsmanager:TagResource',
    own('token'),
    '`token-rotator/alpha/token`, key `owner`',
    'ImplicitlyDenied',
    { context: { 'aws:TagKeys': ['owner'] } },
  ),
  row(
    'rotator',
    'secretsmanager:TagResource',
    own('token'),
    '`token-rotator/alpha/token`, keys `token-rotator:x` + `owner`',
    'ImplicitlyDenied',
    { context: { 'aws:TagKeys': ['token-rotator:x', 'owner'] } },
  ),
  row('rotator', 'secretsmanager:UpdateSecret', own('token'), '`token-rotator/alpha/token`', 'ImplicitlyDenied'),
  row('rotator', 'secretsmanager:DeleteSecret', own('token'), '`token-rotator/alpha/token`', 'ImplicitlyDenied'),
  row('rotator', 'secretsmanager:PutResourcePolicy', own('token'), '`token-rotator/alpha/token`', 'ImplicitlyDenied'),
  row(
    'rotator',
    'secretsmanager:CreateSecret',
    secret(`${PREFIX}new/token`),
    '`token-rotator/new/token`',
    'ImplicitlyDenied',
  ),
  row('rotator', 'secretsmanager:ListSecrets', '*', '`*` (the action takes no resource)', 'Allowed'),
  // Batch reads: the action takes no resource; Secrets Manager then checks GetSecretValue on each
  // secret of the batch, which is what the rows of single reads decide (own client and token
  // secrets allowed, another prefix's, a nested prefix's or another region's denied).
  row(
    'rotator',
    'secretsmanager:BatchGetSecretValue',
    '*',
    '`*` (the action takes no resource; each secret of the batch is checked as `GetSecretValue`)',
    'Allowed',
  ),
  row(
    'rotator',
    'secretsmanager:GetSecretValue',
    secret('other/alpha/token'),
    '`other/alpha/token` (other prefix), as one secret of a batch read',
    'ImplicitlyDenied',
  ),
  // Nothing under a nested or sibling prefix, another name, region or account.
  row(
    'rotator',
    'secretsmanager:GetSecretValue',
    secret(`${PREFIX}team/alpha/client`),
    '`token-rotator/team/alpha/client` (nested prefix)',
    'ExplicitlyDenied',
  ),
  row(
    'rotator',
    'secretsmanager:GetSecretValue',
    secret(`${PREFIX}team/alpha/token`),
    '`token-rotator/team/alpha/token` (nested prefix)',
    'ExplicitlyDenied',
  ),
  row(
    'rotator',
    'secretsmanager:PutSecretValue',
    secret(`${PREFIX}team/alpha/token`),
    '`token-rotator/team/alpha/token` (nested prefix)',
    'ExplicitlyDenied',
  ),
  row(
    'rotator',
    'secretsmanager:TagResource',
    secret(`${PREFIX}team/alpha/token`),
    '`token-rotator/team/alpha/token` (nested prefix), key `token-rotator:x`',
    'ExplicitlyDenied',
    { context: { 'aws:TagKeys': ['token-rotator:x'] } },
  ),
  row(
    'rotator',
    'secretsmanager:GetSecretValue',
    secret('token-rotator-evil/alpha/token'),
    '`token-rotator-evil/alpha/token` (sibling prefix)',
    'ImplicitlyDenied',
  ),
  row(
    'rotator',
    'secretsmanager:GetSecretValue',
    secret('other/alpha/client'),
    '`other/alpha/client` (other prefix)',
    'ImplicitlyDenied',
  ),
  row(
    'rotator',
    'secretsmanager:PutSecretValue',
    secret(`${PREFIX}alpha/token-backup`),
    '`token-rotator/alpha/token-backup` (not a `/token` name)',
    'ImplicitlyDenied',
  ),
  row(
    'rotator',
    'secretsmanager:GetSecretValue',
    secret(`${PREFIX}alpha/token`, OTHER_REGION),
    '`token-rotator/alpha/token` in us-east-1',
    'ImplicitlyDenied',
  ),
  row(
    'rotator',
    'secretsmanager:PutSecretValue',
    secret(`${PREFIX}alpha/token`, REGION, OTHER_ACCOUNT),
    '`token-rotator/alpha/token` of account 210987654321 (its resource policy lets us in)',
    'ImplicitlyDenied',
    { resourcePolicy: openToUs(secret(`${PREFIX}alpha/token`, REGION, OTHER_ACCOUNT)) },
  ),
  // Its own function, queue and log group only.
  row('rotator', 'lambda:InvokeFunction', fn(FUNCTION), `function \`${FUNCTION}\` (itself: fan-out)`, 'Allowed'),
  row('rotator', 'lambda:InvokeFunction', fn('other-function'), 'function `other-function`', 'ImplicitlyDenied'),
  row(
    'rotator',
    'lambda:InvokeFunction',
    fn(FUNCTION, OTHER_REGION),
    `function \`${FUNCTION}\` in us-east-1`,
    'ImplicitlyDenied',
  ),
  row('rotator', 'lambda:UpdateFunctionCode', fn(FUNCTION), `function \`${FUNCTION}\``, 'ImplicitlyDenied'),
  row('rotator', 'sqs:SendMessage', DLQ, 'queue `token-rotator-dlq` (its DLQ)', 'Allowed'),
  row(
    'rotator',
    'sqs:SendMessage',
    `arn:aws:sqs:${REGION}:${ACCOUNT}:other-queue`,
    'queue `other-queue`',
    'ImplicitlyDenied',
  ),
  row('rotator', 'sqs:ReceiveMessage', DLQ, 'queue `token-rotator-dlq`', 'ImplicitlyDenied'),
  row(
    'rotator',
    'logs:CreateLogStream',
    logStream(`/aws/lambda/${FUNCTION}`),
    `log group \`/aws/lambda/${FUNCTION}\``,
    'Allowed',
  ),
  row(
    'rotator',
    'logs:PutLogEvents',
    logStream(`/aws/lambda/${FUNCTION}`),
    `log group \`/aws/lambda/${FUNCTION}\``,
    'Allowed',
  ),
  row(
    'rotator',
    'logs:PutLogEvents',
    logStream('/aws/lambda/other-function'),
    'log group `/aws/lambda/other-function`',
    'ImplicitlyDenied',
  ),
  row(
    'rotator',
    'logs:CreateLogGroup',
    `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${FUNCTION}`,
    `log group \`/aws/lambda/${FUNCTION}\``,
    'ImplicitlyDenied',
  ),
  // KMS only through Secrets Manager, for its own secrets, when a key is given.
  row('rotator', 'kms:Decrypt', KEY, 'the key, via Secrets Manager, for `token-rotator/alpha/token`', 'Allowed', {
    context: { ...VIA_SM, 'kms:EncryptionContext:SecretARN': own('token') },
  }),
  row(
    'rotator',
    'kms:GenerateDataKey',
    KEY,
    'the key, via Secrets Manager, for `token-rotator/alpha/token`',
    'Allowed',
    { context: { ...VIA_SM, 'kms:EncryptionContext:SecretARN': own('token') } },
  ),
  row('rotator', 'kms:Decrypt', KEY, 'the key, called directly', 'ImplicitlyDenied'),
  row('rotator', 'kms:Decrypt', KEY, 'the key, via SSM', 'ImplicitlyDenied', {
    context: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com` },
  }),
  row(
    'rotator',
    'kms:Decrypt',
    KEY,
    'the key, via Secrets Manager, for `token-rotator/team/alpha/token` (nested)',
    'ImplicitlyDenied',
    { context: { ...VIA_SM, 'kms:EncryptionContext:SecretARN': secret(`${PREFIX}team/alpha/token`) } },
  ),
  row('rotator', 'kms:Decrypt', KEY, 'the key, via Secrets Manager, for `other/alpha/token`', 'ImplicitlyDenied', {
    context: { ...VIA_SM, 'kms:EncryptionContext:SecretARN': secret('other/alpha/token') },
  }),
  row('rotator', 'kms:Decrypt', OTHER_KEY, 'another key, via Secrets Manager', 'ImplicitlyDenied', {
    context: { ...VIA_SM, 'kms:EncryptionContext:SecretARN': own('token') },
  }),
  row('rotator', 'kms:Encrypt', KEY, 'the key, via Secrets Manager', 'ImplicitlyDenied', {
    context: { ...VIA_SM, 'kms:EncryptionContext:SecretARN': own('token') },
  }),
  row('rotator, no kmsKeyArn', 'kms:Decrypt', KEY, 'a key, via Secrets Manager', 'ImplicitlyDenied', {
    context: { ...VIA_SM, 'kms:EncryptionContext:SecretARN': own('token') },
  }),
  // The scheduler may only invoke the rotator.
  // A client secret kept in a secret of the user's (clientSecretSource): read its value only, and
  // only when the rotator is given its ARN (clientSecretSources).
  row('rotator', 'secretsmanager:GetSecretValue', secret(SOURCE_NAME), `\`${SOURCE_NAME}\``, 'ImplicitlyDenied'),
  row(
    'rotator with clientSecretSources',
    'secretsmanager:GetSecretValue',
    secret(SOURCE_NAME),
    `\`${SOURCE_NAME}\` (listed)`,
    'Allowed',
  ),
  row(
    'rotator with clientSecretSources',
    'secretsmanager:DescribeSecret',
    secret(SOURCE_NAME),
    `\`${SOURCE_NAME}\` (listed)`,
    'ImplicitlyDenied',
  ),
  row(
    'rotator with clientSecretSources',
    'secretsmanager:PutSecretValue',
    secret(SOURCE_NAME),
    `\`${SOURCE_NAME}\` (listed)`,
    'ImplicitlyDenied',
  ),
  row(
    'rotator with clientSecretSources',
    'secretsmanager:GetSecretValue',
    secret('platform/other-client'),
    '`platform/other-client` (not listed)',
    'ImplicitlyDenied',
  ),
  row(
    'rotator with clientSecretSources',
    'kms:Decrypt',
    SOURCE_KEY,
    `its key, via Secrets Manager, for \`${SOURCE_NAME}\``,
    'Allowed',
    { context: { ...VIA_SM, 'kms:EncryptionContext:SecretARN': secret(SOURCE_NAME) } },
  ),
  row(
    'rotator with clientSecretSources',
    'kms:Decrypt',
    SOURCE_KEY,
    'its key, via Secrets Manager, for `platform/other-client`',
    'ImplicitlyDenied',
    { context: { ...VIA_SM, 'kms:EncryptionContext:SecretARN': secret('platform/other-client') } },
  ),
  row('rotator with clientSecretSources', 'kms:Decrypt', SOURCE_KEY, 'its key, called directly', 'ImplicitlyDenied'),
  row('scheduler', 'lambda:InvokeFunction', fn(FUNCTION), `function \`${FUNCTION}\``, 'Allowed'),
  row('scheduler', 'lambda:InvokeFunction', fn('other-function'), 'function `other-function`', 'ImplicitlyDenied'),
  row('scheduler', 'secretsmanager:GetSecretValue', own('token'), '`token-rotator/alpha/token`', 'ImplicitlyDenied'),
  row('scheduler', 'secretsmanager:BatchGetSecretValue', '*', '`*`', 'ImplicitlyDenied'),
  row('scheduler', 'sqs:SendMessage', DLQ, 'queue `token-rotator-dlq`', 'ImplicitlyDenied'),
  // A workload reads its one token secret.
  row(
    'workload (readPolicy of alpha)',
    'secretsmanager:GetSecretValue',
    own('token'),
    '`token-rotator/alpha/token`',
    'Allowed',
  ),
  row(
    'workload (readPolicy of alpha)',
    'secretsmanager:DescribeSecret',
    own('token'),
    '`token-rotator/alpha/token`',
    'Allowed',
  ),
  row(
    'workload (readPolicy of alpha)',
    'secretsmanager:GetSecretValue',
    secret(`${PREFIX}beta/token`),
    '`token-rotator/beta/token`',
    'ImplicitlyDenied',
  ),
  row(
    'workload (readPolicy of alpha)',
    'secretsmanager:GetSecretValue',
    own('client'),
    '`token-rotator/alpha/client`',
    'ImplicitlyDenied',
  ),
  row(
    'workload (readPolicy of alpha)',
    'secretsmanager:PutSecretValue',
    own('token'),
    '`token-rotator/alpha/token`',
    'ImplicitlyDenied',
  ),
  row('workload (readPolicy of alpha)', 'secretsmanager:ListSecrets', '*', '`*`', 'ImplicitlyDenied'),
  row('workload (readPolicy of alpha)', 'secretsmanager:BatchGetSecretValue', '*', '`*`', 'ImplicitlyDenied'),
  row('workload (readPolicy of alpha)', 'kms:Decrypt', KEY, 'the key, via Secrets Manager', 'Allowed', {
    context: VIA_SM,
  }),
  row('workload (readPolicy of alpha)', 'kms:Decrypt', KEY, 'the key, called directly', 'ImplicitlyDenied'),
  // A workload that may ask for refreshes: the request entry point only, never the rotator itself
  // (which takes batches and write rates), and nothing else.
  row(
    'workload (requestPolicy)',
    'lambda:InvokeFunction',
    fn(REQUEST_FUNCTION),
    `function \`${REQUEST_FUNCTION}\` (the request entry point)`,
    'Allowed',
  ),
  row(
    'workload (requestPolicy)',
    'lambda:InvokeFunction',
    fn(FUNCTION),
    `function \`${FUNCTION}\` (the rotator)`,
    'ImplicitlyDenied',
  ),
  row(
    'workload (requestPolicy)',
    'lambda:InvokeAsync',
    fn(REQUEST_FUNCTION),
    `function \`${REQUEST_FUNCTION}\``,
    'ImplicitlyDenied',
  ),
  row(
    'workload (requestPolicy)',
    'lambda:UpdateFunctionCode',
    fn(REQUEST_FUNCTION),
    `function \`${REQUEST_FUNCTION}\``,
    'ImplicitlyDenied',
  ),
  row(
    'workload (requestPolicy)',
    'secretsmanager:GetSecretValue',
    own('token'),
    '`token-rotator/alpha/token`',
    'ImplicitlyDenied',
  ),
];

const DECISION_TEXT: Record<Decision, string> = {
  Allowed: 'allowed',
  ExplicitlyDenied: '**denied** (explicit deny)',
  ImplicitlyDenied: '**denied**',
};

/** The docs' rendering of the table (markdown, one line per row). */
export function renderIamTable(rows: readonly IamTableRow[] = IAM_TABLE): string {
  const lines = ['| policy | action | on | decision |', '|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.policy} | \`${r.request.action}\` | ${r.on} | ${DECISION_TEXT[r.expected]} |`);
  }
  return lines.join('\n');
}

/** Markers around the generated table in docs/operations.md. */
export const README_MARKERS = {
  begin: '<!-- iam-table: generated from test/unit/infra/iam-table.ts; do not edit by hand -->',
  end: '<!-- /iam-table -->',
} as const;
