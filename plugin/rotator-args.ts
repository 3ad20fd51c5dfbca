/**
 * The inputs and outputs of the `TokenRotator` component as the plugin serves it: one table per
 * side, keyed by the TypeScript component's own argument and output names, so the compiler refuses
 * a table that misses or invents one. The schema (plugin/schema.ts) and the check of what
 * `construct` receives (plugin/rotator-component.ts) are both read from these tables; the values'
 * rules (ranges, patterns, exclusive fields) stay with the component's own validation
 * (infra/settings.ts), which `construct` runs by building the component itself.
 *
 * Loads no Pulumi or AWS code: the schema is generated without them.
 */

import * as z from '../core/zod';
import type { TokenRotatorArgs } from '../infra/settings';

/** One argument: the shape of a known value, what the schema says of it, and whether it may be an output. */
export interface RotatorInput {
  /** The shape of a value known when the program runs (a literal or a config value). */
  schema: z.ZodMiniType;
  description: string;
  /**
   * True when the component takes `pulumi.Input` here, so another resource's output or a secret
   * may be passed; false when it needs the value before it declares anything (names, numbers
   * that shape the resources).
   */
  acceptsOutput: boolean;
}

const plain = (schema: z.ZodMiniType, description: string): RotatorInput => ({
  schema,
  description,
  acceptsOutput: false,
});
const input = (schema: z.ZodMiniType, description: string): RotatorInput => ({
  schema,
  description,
  acceptsOutput: true,
});

/** Every argument of TokenRotator (infra/settings.ts documents each in full; docs/reference.md lists them). */
export const ROTATOR_INPUTS: { [K in keyof Required<TokenRotatorArgs>]: RotatorInput } = {
  prefix: plain(
    z.string(),
    'Secret name prefix the rotator owns: path segments each ending with `/`. Must match the `prefix` of the credentials it rotates. Default `token-rotator/`.',
  ),
  scheduleIntervalSeconds: plain(
    z.number(),
    'Seconds between two sweeps, a whole number of minutes from 60 to 86400; also the look-ahead. Default 60.',
  ),
  concurrency: plain(z.number(), 'Refreshes run in parallel by one invocation, 1 to 64. Default 8.'),
  writesPerSecond: plain(
    z.number(),
    'Secrets Manager writes per second the rotator allows itself, above 0 and at most 50. Default 40.',
  ),
  runtime: plain(z.string(), 'The Lambda runtime, `nodejs24.x` or `nodejs22.x`. Default `nodejs24.x`.'),
  logRetentionInDays: plain(
    z.number(),
    "Retention of the function's log groups, one of CloudWatch's values (0 = never expire). Default 30.",
  ),
  kmsKeyArn: input(
    z.string(),
    'A customer managed KMS key (key ARN, not alias) encrypting the secrets. Default: the AWS managed key.',
  ),
  signingKeyArns: input(
    z.array(z.string()),
    'KMS key ARNs of KMS-signed credentials (`issuer.kms.keyId`): the rotator gets `kms:Sign` on these keys only.',
  ),
  clientSecretSources: input(
    z.array(z.string()),
    'Complete ARNs of the secrets credentials read their client secret from (`clientSecretSource.secretArn`): the rotator gets `secretsmanager:GetSecretValue` on these only.',
  ),
  clientSecretSourceKeyArns: input(
    z.array(z.string()),
    'KMS key ARNs of customer managed keys encrypting those sources: the rotator gets `kms:Decrypt` through Secrets Manager, for those secrets only.',
  ),
  eventBusName: input(z.string(), 'An EventBridge bus (name or ARN) to put refresh outcomes on. Default: no events.'),
  alarmTopicArn: input(z.string(), 'An SNS topic to notify on alarm and recovery. Exclusive with `createAlarmTopic`.'),
  createAlarmTopic: plain(
    z.boolean(),
    'Create an SNS topic for the alarms (subscribe to it yourself). Exclusive with `alarmTopicArn`.',
  ),
  secondsToExpiryThreshold: plain(
    z.number(),
    'Alarm when the lowest SecondsToExpiry falls below this. Default: two schedule intervals.',
  ),
  bundleDir: plain(
    z.string(),
    "Directory of the rotator's Lambda bundle on the machine running pulumi. Default: the bundle shipped with the plugin.",
  ),
  functionName: plain(
    z.string(),
    'Lambda function name (also the log group and schedule name). Default: the resource name plus a hash of project, stack and name.',
  ),
  tags: input(z.record(z.string(), z.string()), 'Tags on every taggable resource.'),
  logLevel: plain(z.string(), 'Powertools log level: DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT. Default INFO.'),
};

/** One output: its schema type and description. */
export interface RotatorOutput {
  type: Record<string, unknown>;
  description: string;
  /** False for outputs that exist only with some arguments. */
  required: boolean;
}

const text = (description: string): RotatorOutput => ({ type: { type: 'string' }, description, required: true });

/** Every output the TypeScript component registers, under the same names. */
export const ROTATOR_OUTPUTS = {
  functionName: text("The rotator Lambda's name."),
  functionArn: text("The rotator Lambda's ARN."),
  requestFunctionName: text(
    'The request entry point: what workloads, `rotatorFunctionName` and operators invoke to ask for refreshes.',
  ),
  requestFunctionArn: text("The request entry point's ARN."),
  requestPolicy: text('IAM policy JSON that lets a role invoke the request entry point and nothing else.'),
  roleArn: text("The Lambda execution role's ARN."),
  scheduleArn: text("The EventBridge Scheduler schedule's ARN."),
  deadLetterQueueUrl: text("The dead-letter queue's URL."),
  logGroupName: text('`/aws/lambda/<functionName>`.'),
  alarmArns: {
    type: { type: 'object', additionalProperties: { type: 'string' } },
    description: "ARNs of the component's CloudWatch alarms, by what they watch.",
    required: true,
  },
  alarmTopicArn: {
    type: { type: 'string' },
    description: 'The SNS topic the alarms notify, when one was given or created.',
    required: false,
  },
} as const satisfies Record<string, RotatorOutput>;

export type RotatorOutputName = keyof typeof ROTATOR_OUTPUTS;
