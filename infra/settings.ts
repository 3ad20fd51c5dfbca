/**
 * The TokenRotator component's arguments, their defaults, and the validation that turns them into
 * settings. Every bad value is reported with the name of its field, before any resource exists.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type * as pulumi from '@pulumi/pulumi';
import { InvalidConfigurationError } from '../core/errors';
import {
  CONCURRENCY,
  EVENT_BUS_MAX_LENGTH,
  type IntegerRange,
  isEventBus,
  SCHEDULE_INTERVAL_SECONDS,
} from '../core/rotator-environment';
import { DEFAULT_WRITES_PER_SECOND, MAX_WRITES_PER_SECOND } from '../core/rotator-protocol';
import { SECRET_ARN_PATTERN, SECRET_ARN_RULE } from '../core/store/client-secret-source';
import { DEFAULT_PREFIX, isPrefix, PREFIX_RULE } from '../core/token';
import { type RotatorPolicyTooLarge, requestFunctionNameOf, rotatorPolicyTooLarge } from './policies';
import { expressionOfInterval } from './schedule';

/**
 * The Lambda runtimes the rotator's bundle runs on, newest first. The bundle is compiled for the
 * oldest (esbuild `target` in scripts/lambda-esbuild-options.mjs), so each runs it as built.
 */
export const LAMBDA_NODE_RUNTIMES = ['nodejs24.x', 'nodejs22.x'] as const;

/** A Lambda runtime the rotator runs on. */
export type LambdaNodeRuntime = (typeof LAMBDA_NODE_RUNTIMES)[number];

/** The runtime of the rotator Lambda unless `runtime` says otherwise: the newest Node line Lambda offers. */
export const DEFAULT_LAMBDA_RUNTIME: LambdaNodeRuntime = 'nodejs24.x';

/**
 * The rotator Lambda's memory, in MiB: a sweep holds one page of listings and `concurrency`
 * refreshes at a time, far below it, and more memory would only buy CPU for work that waits on
 * issuers and Secrets Manager.
 */
export const LAMBDA_MEMORY_MIB = 256;

/**
 * The rotator Lambda's timeout, in seconds. A sweep hands what it cannot finish to fan-out
 * invocations and keeps 15 s back to record outcomes, so a longer one buys nothing but a later
 * alarm when an invocation hangs.
 */
export const LAMBDA_TIMEOUT_SECONDS = 120;

/** Powertools log levels. */
export type RotatorLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';

/** Arguments of {@link TokenRotator}. All optional; see each field for its default. */
export interface TokenRotatorArgs {
  /**
   * Secret name prefix the rotator owns, path segments each ending with `/`. Must match the
   * `prefix` of the ProviderCredentials it rotates. Default `token-rotator/`.
   */
  prefix?: string;
  /**
   * Seconds between two sweeps, a whole number of minutes from 60 to 86400. Default 60. The
   * schedule is `rate(N minutes)`; the Lambda refreshes tokens due before the next tick, so this
   * is also its look-ahead.
   */
  scheduleIntervalSeconds?: number;
  /** Refreshes run in parallel by one invocation, 1 to 64. Default 8. */
  concurrency?: number;
  /**
   * Secrets Manager writes per second the rotator allows itself (puts and tag calls together,
   * shared by a sweep and its fan-out), above 0 and at most 50. Default 40. The account and region
   * share one quota of about 50 writes per second: lower it when something else writes there.
   */
  writesPerSecond?: number;
  /**
   * The rotator Lambda's runtime, `nodejs24.x` or `nodejs22.x`. Default `nodejs24.x`. Set
   * `nodejs22.x` only to hold the function back while something in your account requires it.
   */
  runtime?: LambdaNodeRuntime;
  /** Retention of the function's log group, one of CloudWatch's values (0 = never expire). Default 30. */
  logRetentionInDays?: number;
  /** A customer managed KMS key (key ARN, not alias) encrypting the secrets. Default: the AWS managed key. */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * KMS key ARNs (not aliases) of KMS-signed credentials (`issuer.kms.keyId`: `upload`,
   * `signed-jwt`, `private_key_jwt`, `jwt-bearer` and its presets): the rotator gets `kms:Sign`
   * (RS256 or ES256) on these keys only. Default: none. Every key is listed in
   * the role's inline policy, which IAM caps at 10,240 characters (about 105 keys with the default
   * prefix): more are refused, naming this field and how many fit.
   */
  signingKeyArns?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Complete ARNs of the secrets credentials read their client secret from
   * (`clientSecretSource.secretArn` of each ProviderCredential that has one): the rotator gets
   * `secretsmanager:GetSecretValue` on these secrets only. Default: none.
   */
  clientSecretSources?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * KMS key ARNs of customer managed keys encrypting those sources: the rotator gets `kms:Decrypt`
   * through Secrets Manager, for those secrets only. Default: none (sources under the AWS managed key).
   */
  clientSecretSourceKeyArns?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * An EventBridge bus (name or ARN) to put refresh outcomes on (source `token-rotator`); the
   * rotator gets `events:PutEvents` on this bus only. Default: no events.
   */
  eventBusName?: pulumi.Input<string>;
  /** An SNS topic to notify on alarm and recovery. Exclusive with `createAlarmTopic`. */
  alarmTopicArn?: pulumi.Input<string>;
  /** Create an SNS topic for the alarms (subscribe to it yourself). Exclusive with `alarmTopicArn`. */
  createAlarmTopic?: boolean;
  /**
   * Alarm when the minimum `SecondsToExpiry` over all credentials falls below this. Default:
   * two schedule intervals, the refresh policy's default safety margin: a healthy rotator refreshes
   * every token before it gets that close to expiry.
   */
  secondsToExpiryThreshold?: number;
  /**
   * The directory of the esbuild bundle (`index.mjs` and its chunks; a bundle of your own may be an
   * `index.js`). Default: this package's `dist/lambda-bundle`.
   */
  bundleDir?: string;
  /**
   * Lambda function name (also the log group's and the schedule's). Default: the component name
   * plus a hash of project, stack and name, so stacks sharing an account do not collide.
   */
  functionName?: string;
  /** Tags on every taggable resource. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Powertools log level. Default `INFO`. */
  logLevel?: RotatorLogLevel;
}

/** Validated settings with every default filled in. */
export interface RotatorSettings {
  prefix: string;
  scheduleExpression: string;
  scheduleIntervalSeconds: number;
  concurrency: number;
  writesPerSecond: number;
  runtime: LambdaNodeRuntime;
  logRetentionInDays: number;
  secondsToExpiryThreshold: number;
  bundleDir: string;
  functionName: string;
  logLevel: RotatorLogLevel;
}

export { DEFAULT_PREFIX };

/** The retention values CloudWatch Logs accepts; 0 means never expire. */
export const LOG_RETENTION_DAYS: readonly number[] = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const LOG_LEVELS: readonly RotatorLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];
const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const KMS_KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const SNS_TOPIC_ARN_PATTERN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/**
 * Files the Node.js runtimes resolve the handler setting `index.handler` to (it tries them in
 * this order, .js as CommonJS): our build writes index.mjs.
 */
const HANDLER_FILES = ['index.js', 'index.mjs', 'index.cjs'];

/** Where the project and stack come from; a seam so tests and callers need no global state. */
export interface SettingsContext {
  project: string;
  stack: string;
}

/**
 * Validates the component's arguments and fills in defaults.
 *
 * @throws InvalidConfigurationError listing every bad field; `field` names the first.
 */
export function resolveSettings(name: string, args: TokenRotatorArgs, context: SettingsContext): RotatorSettings {
  const issues: { field: string; message: string }[] = [];
  const fail = (field: string, message: string) => issues.push({ field, message });

  const prefix = args.prefix ?? DEFAULT_PREFIX;
  if (!isPrefix(prefix)) fail('prefix', `expected ${PREFIX_RULE}; got ${JSON.stringify(prefix)}`);

  const schedule = resolveSchedule(args, fail);

  const concurrency = integerIn(args.concurrency, CONCURRENCY, 'concurrency', fail);
  const writesPerSecond = args.writesPerSecond ?? DEFAULT_WRITES_PER_SECOND;
  if (typeof writesPerSecond !== 'number' || !(writesPerSecond > 0 && writesPerSecond <= MAX_WRITES_PER_SECOND)) {
    fail(
      'writesPerSecond',
      `expected a number above 0 and at most ${MAX_WRITES_PER_SECOND} (Secrets Manager's write quota for the account and region); got ${writesPerSecond}`,
    );
  }
  const runtime = args.runtime ?? DEFAULT_LAMBDA_RUNTIME;
  if (!LAMBDA_NODE_RUNTIMES.includes(runtime)) {
    fail('runtime', `expected one of ${LAMBDA_NODE_RUNTIMES.join(', ')}; got ${JSON.stringify(runtime)}`);
  }

  const logRetentionInDays = args.logRetentionInDays ?? 30;
  if (!LOG_RETENTION_DAYS.includes(logRetentionInDays)) {
    fail(
      'logRetentionInDays',
      `expected one of ${LOG_RETENTION_DAYS.join(', ')} (0 = never expire); got ${logRetentionInDays}`,
    );
  }

  const secondsToExpiryThreshold = integerIn(
    args.secondsToExpiryThreshold,
    {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
      default: 2 * (schedule?.intervalSeconds ?? SCHEDULE_INTERVAL_SECONDS.default),
    },
    'secondsToExpiryThreshold',
    fail,
  );

  const logLevel = args.logLevel ?? 'INFO';
  if (!LOG_LEVELS.includes(logLevel))
    fail('logLevel', `expected one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(logLevel)}`);

  const functionName = args.functionName ?? defaultFunctionName(name, context);
  if (!FUNCTION_NAME_PATTERN.test(functionName)) {
    fail('functionName', `expected 1 to 64 letters, digits, "-" or "_"; got ${JSON.stringify(functionName)}`);
  }

  if (args.createAlarmTopic && args.alarmTopicArn !== undefined) {
    fail('alarmTopicArn', 'give either alarmTopicArn or createAlarmTopic, not both');
  }
  if (typeof args.alarmTopicArn === 'string' && !SNS_TOPIC_ARN_PATTERN.test(args.alarmTopicArn)) {
    fail('alarmTopicArn', `expected an SNS topic ARN; got ${JSON.stringify(args.alarmTopicArn)}`);
  }
  if (Array.isArray(args.signingKeyArns)) {
    for (const [i, arn] of args.signingKeyArns.entries()) {
      if (typeof arn === 'string' && !KMS_KEY_ARN_PATTERN.test(arn)) {
        fail(
          `signingKeyArns[${i}]`,
          `expected a KMS key ARN (arn:…:kms:REGION:ACCOUNT:key/ID, not an alias); got ${JSON.stringify(arn)}`,
        );
      }
    }
  }
  if (Array.isArray(args.clientSecretSources)) {
    for (const [i, arn] of args.clientSecretSources.entries()) {
      if (typeof arn === 'string' && !SECRET_ARN_PATTERN.test(arn)) {
        fail(`clientSecretSources[${i}]`, `expected ${SECRET_ARN_RULE}; got ${JSON.stringify(arn)}`);
      }
    }
  }
  if (Array.isArray(args.clientSecretSourceKeyArns)) {
    for (const [i, arn] of args.clientSecretSourceKeyArns.entries()) {
      if (typeof arn === 'string' && !KMS_KEY_ARN_PATTERN.test(arn)) {
        fail(
          `clientSecretSourceKeyArns[${i}]`,
          `expected a KMS key ARN (arn:…:kms:REGION:ACCOUNT:key/ID, not an alias); got ${JSON.stringify(arn)}`,
        );
      }
    }
  }
  // The Lambda reads it back from TOKEN_ROTATOR_EVENT_BUS with these very rules, and refuses to
  // start on a value outside them: every sweep would fail.
  if (typeof args.eventBusName === 'string' && !isEventBus(args.eventBusName)) {
    fail(
      'eventBusName',
      `expected an event bus name or ARN (letters, digits and ._-/:, at most ${EVENT_BUS_MAX_LENGTH} characters); got ${JSON.stringify(args.eventBusName)}`,
    );
  }
  if (typeof args.kmsKeyArn === 'string' && !KMS_KEY_ARN_PATTERN.test(args.kmsKeyArn)) {
    // IAM matches the key ARN, never an alias, in a statement's Resource.
    fail(
      'kmsKeyArn',
      `expected a KMS key ARN (arn:…:kms:REGION:ACCOUNT:key/ID, not an alias); got ${JSON.stringify(args.kmsKeyArn)}`,
    );
  }

  if (issues.length === 0) {
    const tooLarge = knownRotatorPolicyTooLarge(name, prefix, functionName, args);
    if (tooLarge) fail(tooLarge.field, tooLarge.reason);
  }

  const bundleDir = resolve(args.bundleDir ?? defaultBundleDir());
  if (!HANDLER_FILES.some((file) => existsSync(join(bundleDir, file)))) {
    fail('bundleDir', `no index.mjs (or index.js) in ${bundleDir}; run "npm run build:lambda" first`);
  }

  const first = issues[0];
  if (first || !schedule) {
    const lines = issues.map((i) => `${i.field}: ${i.message}`);
    throw new InvalidConfigurationError(`Invalid TokenRotator "${name}" arguments:\n  - ${lines.join('\n  - ')}`, {
      field: first?.field,
    });
  }
  return {
    prefix,
    scheduleExpression: schedule.expression,
    scheduleIntervalSeconds: schedule.intervalSeconds,
    concurrency,
    writesPerSecond,
    runtime,
    logRetentionInDays,
    secondsToExpiryThreshold,
    bundleDir,
    functionName,
    logLevel,
  };
}

/**
 * The rotator policy's size problem, judged now when the signing keys are known strings: the
 * document the component will build, with the keys' partition and region (the rotator signs with a
 * KMS client of its own region, so its keys are there) and the dead-letter queue's auto-name
 * (`NAME-dlq-` and 7 characters). Keys given as outputs are judged when they resolve (see
 * TokenRotator), since no length is known before.
 */
function knownRotatorPolicyTooLarge(
  name: string,
  prefix: string,
  functionName: string,
  args: TokenRotatorArgs,
): RotatorPolicyTooLarge | undefined {
  const known = (list: unknown): string[] | undefined =>
    Array.isArray(list) && list.every((k): k is string => typeof k === 'string') ? list : undefined;
  const keys = args.signingKeyArns === undefined ? [] : known(args.signingKeyArns);
  const sources = args.clientSecretSources === undefined ? [] : known(args.clientSecretSources);
  const sourceKeys = args.clientSecretSourceKeyArns === undefined ? [] : known(args.clientSecretSourceKeyArns);
  if (keys === undefined || sources === undefined || sourceKeys === undefined) return undefined;
  if (keys.length === 0 && sources.length === 0) return undefined;
  const [, partition = 'aws', region = '', accountId = ''] =
    /^arn:([^:]+):(?:kms|secretsmanager):([^:]+):(\d{12}):/.exec(keys[0] ?? sources[0] ?? '') ?? [];
  return rotatorPolicyTooLarge({
    partition,
    region,
    accountId,
    prefix,
    functionName,
    requestFunctionName: requestFunctionNameOf(functionName),
    deadLetterQueueArn: `arn:${partition}:sqs:${region}:${accountId}:${name}-dlq-xxxxxxx`,
    kmsKeyArn: typeof args.kmsKeyArn === 'string' ? args.kmsKeyArn : undefined,
    signingKeyArns: keys,
    clientSecretSources: sources,
    clientSecretSourceKeyArns: sourceKeys,
    eventBus: typeof args.eventBusName === 'string' ? args.eventBusName : undefined,
  });
}

/**
 * The schedule of `scheduleIntervalSeconds`: a `rate(...)` of whole minutes, the granularity of
 * EventBridge Scheduler. The Lambda looks ahead exactly one interval, so the interval is the one
 * number both the schedule and the Lambda are built from.
 */
function resolveSchedule(
  args: TokenRotatorArgs,
  fail: (field: string, message: string) => void,
): { expression: string; intervalSeconds: number } | undefined {
  const { min, max, default: fallback } = SCHEDULE_INTERVAL_SECONDS;
  const seconds = args.scheduleIntervalSeconds ?? fallback;
  if (!(Number.isInteger(seconds) && seconds >= min && seconds <= max && seconds % 60 === 0)) {
    fail('scheduleIntervalSeconds', `expected a whole number of minutes from ${min} to ${max} seconds; got ${seconds}`);
    return undefined;
  }
  return { expression: expressionOfInterval(seconds), intervalSeconds: seconds };
}

function integerIn(
  value: number | undefined,
  { min, max, default: fallback }: IntegerRange,
  field: string,
  fail: (field: string, message: string) => void,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    fail(
      field,
      max === Number.MAX_SAFE_INTEGER
        ? `expected a positive integer; got ${v}`
        : `expected an integer from ${min} to ${max}; got ${v}`,
    );
  }
  return v;
}

/** `<name>-<7 hex of sha256(project/stack/name)>`, sanitised and at most 64 characters. */
export function defaultFunctionName(name: string, context: SettingsContext): string {
  const hash = createHash('sha256').update(`${context.project}/${context.stack}/${name}`).digest('hex').slice(0, 7);
  const base = name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 56);
  return `${base}-${hash}`;
}

/**
 * This package's `dist/lambda-bundle`, found from the nearest package.json above this file, so it
 * resolves both from the sources (`infra/`) and from the compiled package in node_modules
 * (`dist/infra/`).
 */
export function defaultBundleDir(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return join(from, '..', 'dist', 'lambda-bundle');
    dir = parent;
  }
  return join(dir, 'dist', 'lambda-bundle');
}
