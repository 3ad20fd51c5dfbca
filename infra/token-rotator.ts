/** The TokenRotator component: the scheduled rotator Lambda and everything it needs to run and be watched. */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { InvalidConfigurationError } from '../core/errors';
import { rotatorEnvironment } from '../core/rotator-environment';
import { REQUEST_CONCURRENCY } from '../core/rotator-protocol';
import { tokenReadPolicy } from '../provider/read-policy';
import { type AlarmKey, alarmSpecs, type EventAlarmKey, METRICS_NAMESPACE, SERVICE_NAME } from './alarms';
import {
  assertRotatorPolicyFits,
  lambdaAssumeRolePolicy,
  matchesArnPattern,
  nestedSecretArnPattern,
  requestFunctionNameOf,
  requestInvokePolicy,
  rotatorPolicy,
  type SchedulerPolicyScope,
  schedulerAssumeRolePolicy,
  schedulerPolicy,
} from './policies';
import {
  LAMBDA_MEMORY_MIB,
  LAMBDA_TIMEOUT_SECONDS,
  type RotatorSettings,
  resolveSettings,
  type TokenRotatorArgs,
} from './settings';

/** The event the schedule sends: a full sweep. */
export const SWEEP_EVENT = { action: 'sweep' } as const;

/** ARNs of the component's alarms, by what they watch (`refreshEventsFailed` only with an event bus). */
export type AlarmArns = Record<Exclude<AlarmKey, EventAlarmKey>, string> & Partial<Record<EventAlarmKey, string>>;

/** The component's alarms, by what they watch (`refreshEventsFailed` only with an event bus). */
export type Alarms = Record<Exclude<AlarmKey, EventAlarmKey>, aws.cloudwatch.MetricAlarm> &
  Partial<Record<EventAlarmKey, aws.cloudwatch.MetricAlarm>>;

/**
 * Deploys the token rotator: a Lambda (nodejs24.x by default, arm64) that an EventBridge Scheduler schedule
 * invokes with `{"action":"sweep"}`, its least-privilege role, log group, dead-letter queue, async
 * invoke limits, and CloudWatch alarms on its metrics.
 *
 * Build the bundle first (`npm run build`, which runs `build:lambda`).
 *
 * @example
 * ```ts
 * import * as aws from '@pulumi/aws';
 * import * as pulumi from '@pulumi/pulumi';
 * import { ProviderCredential } from '../provider/resource';
 * import { TokenRotator } from '../infra';
 *
 * const cfg = new pulumi.Config();
 * const rotator = new TokenRotator('rotator', { createAlarmTopic: true, tags: { team: 'platform' } });
 * const sirv = new ProviderCredential('sirv-prod', {
 *   issuer: { kind: 'sirv', clientId: cfg.require('sirvClientId'), clientSecret: cfg.requireSecret('sirvClientSecret') },
 * });
 * // A workload role may read that one token, nothing else.
 * new aws.iam.RolePolicy('app-reads-sirv', { role: appRole.id, policy: rotator.readPolicyFor(sirv) });
 * export const rotatorFunctionName = rotator.functionName;
 * export const alarmTopicArn = rotator.alarmTopicArn;
 * ```
 */
export class TokenRotator extends pulumi.ComponentResource {
  /** The Lambda function's name. */
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  /**
   * The request entry point (`index.requests`): what workloads, the provider's
   * `rotatorFunctionName` and operators invoke to ask for refreshes. It takes only credential names
   * and `force`, at 5 writes a second, with a reserved concurrency of 2.
   */
  readonly requestFunctionName: pulumi.Output<string>;
  readonly requestFunctionArn: pulumi.Output<string>;
  /** The IAM policy (JSON) that lets a role invoke the request entry point and nothing else. */
  readonly requestPolicy: pulumi.Output<string>;
  /** The Lambda execution role's ARN. */
  readonly roleArn: pulumi.Output<string>;
  readonly scheduleArn: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  /** `/aws/lambda/<functionName>`. */
  readonly logGroupName: pulumi.Output<string>;
  readonly alarmArns: pulumi.Output<AlarmArns>;
  /** The SNS topic the alarms notify, when one was given or created. */
  readonly alarmTopicArn: pulumi.Output<string | undefined>;

  /** The child resources, for callers that need more than the outputs above. */
  readonly resources: {
    role: aws.iam.Role;
    rolePolicy: aws.iam.RolePolicy;
    logGroup: aws.cloudwatch.LogGroup;
    deadLetterQueue: aws.sqs.Queue;
    function: aws.lambda.Function;
    eventInvokeConfig: aws.lambda.FunctionEventInvokeConfig;
    requestLogGroup: aws.cloudwatch.LogGroup;
    requestFunction: aws.lambda.Function;
    schedulerRole: aws.iam.Role;
    schedulerRolePolicy: aws.iam.RolePolicy;
    schedule: aws.scheduler.Schedule;
    alarmTopic: aws.sns.Topic | undefined;
    alarms: Alarms;
  };

  /** Validated settings with defaults filled in. */
  readonly settings: RotatorSettings;

  private readonly kmsKeyArn: pulumi.Input<string> | undefined;

  constructor(name: string, args: TokenRotatorArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    // Validated before anything is registered, so bad arguments leave nothing half-made.
    const settings = resolveSettings(name, args, { project: pulumi.getProject(), stack: pulumi.getStack() });
    super('token-rotator:index:TokenRotator', name, {}, opts);
    this.settings = settings;
    this.kmsKeyArn = args.kmsKeyArn;
    const parent = { parent: this };
    const tags = args.tags;
    const fnName = settings.functionName;
    const requestFnName = requestFunctionNameOf(fnName);

    // Invokes go through the component's provider (parent), like its resources.
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;

    const deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      // The longest retention SQS allows: dead letters are read by a human, maybe after a weekend.
      { messageRetentionSeconds: 1_209_600, sqsManagedSseEnabled: true, tags },
      parent,
    );

    // Created here rather than by Lambda on first write, so retention applies and the role needs
    // no logs:CreateLogGroup. Not encrypted with kmsKeyArn: that key would need a key policy
    // granting the CloudWatch Logs service, and the logs carry no secret by design.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${fnName}`, retentionInDays: settings.logRetentionInDays, tags },
      parent,
    );

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `token-rotator ${fnName}: reads ${settings.prefix}*/client, writes ${settings.prefix}*/token`,
        assumeRolePolicy: JSON.stringify(lambdaAssumeRolePolicy()),
        tags,
      },
      parent,
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-rotator`,
      {
        role: role.id,
        policy: pulumi
          .all([
            partition,
            region,
            accountId,
            deadLetterQueue.arn,
            pulumi.output(args.kmsKeyArn),
            pulumi.output(args.signingKeyArns ?? []),
            pulumi.output(args.eventBusName),
            pulumi.all([
              pulumi.output(args.clientSecretSources ?? []),
              pulumi.output(args.clientSecretSourceKeyArns ?? []),
            ]),
          ])
          .apply(
            ([p, r, a, dlqArn, kms, signingKeyArns, eventBus, [clientSecretSources, clientSecretSourceKeyArns]]) => {
              const scope = {
                partition: p,
                region: r,
                accountId: a,
                prefix: settings.prefix,
                functionName: fnName,
                requestFunctionName: requestFnName,
                deadLetterQueueArn: dlqArn,
                kmsKeyArn: kms,
                signingKeyArns,
                eventBus,
                clientSecretSources,
                clientSecretSourceKeyArns,
              };
              // Judged again on the real values (keys given as outputs are known only now), before
              // IAM would refuse it with LimitExceeded.
              assertRotatorPolicyFits(name, scope);
              return JSON.stringify(rotatorPolicy(scope));
            },
          ),
      },
      parent,
    );

    const fn = new aws.lambda.Function(
      `${name}-function`,
      {
        name: fnName,
        // Lambda caps descriptions at 256 characters; a prefix may be as long as that.
        description: `token-rotator: refreshes tokens under ${settings.prefix} ahead of expiry`.slice(0, 256),
        role: role.arn,
        runtime: settings.runtime,
        architectures: ['arm64'],
        handler: 'index.handler',
        code: new pulumi.asset.FileArchive(settings.bundleDir),
        memorySize: LAMBDA_MEMORY_MIB,
        timeout: LAMBDA_TIMEOUT_SECONDS,
        // No reservedConcurrentExecutions: fan-out needs several concurrent invocations, an
        // overlapping sweep is harmless (a refresh re-checks refreshAfter), and a reservation
        // would take capacity from the account's shared pool for a function idle most of the time.
        environment: {
          variables: {
            ...rotatorEnvironment<pulumi.Input<string>>({
              prefix: settings.prefix,
              concurrency: settings.concurrency,
              scheduleIntervalSeconds: settings.scheduleIntervalSeconds,
              writesPerSecond: settings.writesPerSecond,
              eventBusName: args.eventBusName,
            }),
            POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
            POWERTOOLS_LOG_LEVEL: settings.logLevel,
            // The bundle ships its external source map: stack traces point at the TypeScript.
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
        deadLetterConfig: { targetArn: deadLetterQueue.arn },
        tags,
      },
      // Lambda checks at creation that the role may SendMessage to the DLQ, and the log group must
      // exist first or Lambda would create it without retention.
      { parent: this, dependsOn: [logGroup, rolePolicy] },
    );

    // Fan-out invocations are asynchronous. No retry: the next sweep (one interval later) picks
    // up whatever a failed batch left, and a retry could spend a secret's write budget twice.
    // Events older than an interval are superseded by the next sweep.
    const eventInvokeConfig = new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: fn.name,
        maximumRetryAttempts: 0,
        maximumEventAgeInSeconds: Math.min(21_600, Math.max(60, settings.scheduleIntervalSeconds)),
      },
      parent,
    );

    // The request entry point: the same code, role and environment, its own log group. Its reserved
    // concurrency and its per-invocation write pace (REQUEST_WRITES_PER_SECOND) bound what all the
    // workloads allowed to ask can make it write together, whatever they send.
    const requestLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-requests-logs`,
      { name: `/aws/lambda/${requestFnName}`, retentionInDays: settings.logRetentionInDays, tags },
      parent,
    );
    const requestFn = new aws.lambda.Function(
      `${name}-requests`,
      {
        name: requestFnName,
        description: `token-rotator: refreshes named tokens under ${settings.prefix} on request`.slice(0, 256),
        role: role.arn,
        runtime: fn.runtime,
        architectures: ['arm64'],
        handler: 'index.requests',
        code: fn.code,
        memorySize: fn.memorySize,
        timeout: fn.timeout,
        reservedConcurrentExecutions: REQUEST_CONCURRENCY,
        environment: fn.environment.apply((e) => ({ variables: e?.variables ?? {} })),
        tags,
      },
      { parent: this, dependsOn: [requestLogGroup, rolePolicy] },
    );

    const schedulerScope: pulumi.Output<SchedulerPolicyScope> = pulumi
      .all([partition, region, accountId])
      .apply(([p, r, a]) => ({ partition: p, region: r, accountId: a, functionName: fnName, scheduleName: fnName }));
    const schedulerRole = new aws.iam.Role(
      `${name}-scheduler-role`,
      {
        description: `token-rotator ${fnName}: lets EventBridge Scheduler invoke the rotator`,
        assumeRolePolicy: schedulerScope.apply((s) => JSON.stringify(schedulerAssumeRolePolicy(s))),
        tags,
      },
      parent,
    );
    const schedulerRolePolicy = new aws.iam.RolePolicy(
      `${name}-scheduler`,
      { role: schedulerRole.id, policy: schedulerScope.apply((s) => JSON.stringify(schedulerPolicy(s))) },
      parent,
    );

    const schedule = new aws.scheduler.Schedule(
      `${name}-schedule`,
      {
        name: fnName,
        // The scheduler role trusts this group only (see schedulerAssumeRolePolicy).
        groupName: 'default',
        description: `token-rotator: sweep ${settings.prefix} every ${settings.scheduleIntervalSeconds} s`,
        scheduleExpression: settings.scheduleExpression,
        // Sweeps must land on time: the Lambda looks ahead exactly one interval.
        flexibleTimeWindow: { mode: 'OFF' },
        state: 'ENABLED',
        target: {
          arn: fn.arn,
          roleArn: schedulerRole.arn,
          input: JSON.stringify(SWEEP_EVENT),
          // A couple of retries for a throttled invoke; a sweep older than one interval is
          // superseded by the next one.
          retryPolicy: {
            maximumRetryAttempts: 2,
            maximumEventAgeInSeconds: Math.max(60, settings.scheduleIntervalSeconds),
          },
        },
      },
      { parent: this, dependsOn: [schedulerRolePolicy] },
    );

    const alarmTopic = args.createAlarmTopic ? new aws.sns.Topic(`${name}-alarms`, { tags }, parent) : undefined;
    const topicArn: pulumi.Input<string> | undefined = alarmTopic?.arn ?? args.alarmTopicArn;
    const actions = topicArn === undefined ? [] : [topicArn];

    const alarms = {} as Alarms;
    // The RefreshEventsFailed metric exists only where the function has a bus to put events on.
    for (const spec of alarmSpecs(settings, { refreshEvents: args.eventBusName !== undefined })) {
      alarms[spec.key] = new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.resourceSuffix}`,
        {
          alarmDescription: spec.description,
          namespace: spec.namespace,
          metricName: spec.metricName,
          dimensions: spec.dimensions ?? { FunctionName: fn.name },
          statistic: spec.statistic,
          period: spec.period,
          evaluationPeriods: spec.evaluationPeriods,
          threshold: spec.threshold,
          comparisonOperator: spec.comparisonOperator,
          treatMissingData: spec.treatMissingData,
          alarmActions: actions,
          okActions: actions,
          tags,
        },
        parent,
      );
    }

    this.resources = {
      role,
      rolePolicy,
      logGroup,
      deadLetterQueue,
      function: fn,
      eventInvokeConfig,
      requestLogGroup,
      requestFunction: requestFn,
      schedulerRole,
      schedulerRolePolicy,
      schedule,
      alarmTopic,
      alarms,
    };
    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.requestFunctionName = requestFn.name;
    this.requestFunctionArn = requestFn.arn;
    this.requestPolicy = requestFn.arn.apply((arn) => JSON.stringify(requestInvokePolicy(arn)));
    this.roleArn = role.arn;
    this.scheduleArn = schedule.arn;
    this.deadLetterQueueUrl = deadLetterQueue.url;
    this.logGroupName = logGroup.name;
    this.alarmArns = pulumi
      .all(Object.fromEntries(Object.entries(alarms).map(([key, alarm]) => [key, alarm.arn])))
      .apply((arns) => arns as AlarmArns);
    this.alarmTopicArn = pulumi.output(topicArn);

    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      requestFunctionName: this.requestFunctionName,
      requestFunctionArn: this.requestFunctionArn,
      requestPolicy: this.requestPolicy,
      roleArn: this.roleArn,
      scheduleArn: this.scheduleArn,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      logGroupName: this.logGroupName,
      alarmArns: this.alarmArns,
      alarmTopicArn: this.alarmTopicArn,
    });
  }

  /**
   * The IAM policy (JSON) a workload needs to read the given token secrets, and nothing else:
   * `GetSecretValue`/`DescribeSecret` on them, plus `kms:Decrypt` through Secrets Manager when
   * the rotator has a `kmsKeyArn`. Each ARN must be a token secret under this rotator's prefix.
   *
   * @throws InvalidConfigurationError (field `tokenSecretArn`) for an empty list or a known ARN
   *   that is not such a token secret; an output ARN is judged when it resolves.
   *
   * @example
   * ```ts
   * new aws.iam.RolePolicy('app-reads-sirv', { role: appRole.id, policy: rotator.readPolicyFor(sirv) });
   * ```
   */
  readPolicyFor(credential: { tokenSecretArn: pulumi.Input<string> } | pulumi.Input<string>[]): pulumi.Output<string> {
    const arns = Array.isArray(credential) ? credential : [credential.tokenSecretArn];
    const prefix = this.settings.prefix;
    if (arns.length === 0) {
      throw new InvalidConfigurationError('readPolicyFor: expected at least one token secret ARN', {
        field: 'tokenSecretArn',
      });
    }
    // Known ARNs are judged now, at the caller's line; outputs when they resolve.
    for (const arn of arns) if (typeof arn === 'string') assertTokenSecretArn(arn, prefix);
    return pulumi.all([pulumi.all(arns), pulumi.output(this.kmsKeyArn)]).apply(([list, kms]) => {
      for (const arn of list) assertTokenSecretArn(arn, prefix);
      return tokenReadPolicy(list, kms);
    });
  }
}

/**
 * A token secret ARN under `prefix`: `arn:…:secretsmanager:R:A:secret:PREFIX…/token-XXXXXX`, and
 * not one of a nested prefix's deployment (`PREFIX team/NAME/token`), which the rotator's own
 * policy denies it (DenyNestedPrefixes) and which it never rotates.
 */
function assertTokenSecretArn(arn: string, prefix: string): void {
  const match = /^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)\/token-[A-Za-z0-9]{6}$/.exec(arn);
  const [, partition = '', region = '', accountId = ''] = match ?? [];
  const nested =
    match !== null && matchesArnPattern(nestedSecretArnPattern({ partition, region, accountId, prefix }), arn);
  if (!match?.[4]?.startsWith(prefix) || nested) {
    throw new InvalidConfigurationError(
      `readPolicyFor: expected the ARN of a token secret under "${prefix}" (…:secret:${prefix}NAME/token-XXXXXX); got "${arn}"${nested ? `, a secret of a nested prefix's deployment, which this rotator neither reads nor rotates: take the read policy from that deployment's rotator` : ''}`,
      { field: 'tokenSecretArn' },
    );
  }
}
