/**
 * TokenRotator's declared resources, taken from a `setMocks` program run (the recorder of the
 * unit tests) and created in moto through the AWS SDK the way the Pulumi AWS provider creates
 * them: one API call per resource (plus the retention call the provider makes for a log group),
 * with the inputs exactly as declared, and every cross-reference (role ARN, queue ARN, function
 * ARN, topic ARN) taken from the declared inputs rather than from what moto answered.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  type Architecture,
  CreateFunctionCommand,
  type CreateFunctionCommandOutput,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  type Runtime,
} from '@aws-sdk/client-lambda';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  type FlexibleTimeWindowMode,
  SchedulerClient,
  type ScheduleState,
} from '@aws-sdk/client-scheduler';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import * as pulumi from '@pulumi/pulumi';
import type { TokenRotatorArgs } from '../../infra';
import { motoEndpoint } from '../helpers/aws';
import { createRecorder, promiseOf, REGION, type RecordedResource } from '../helpers/pulumi-mocks';

const execFileAsync = promisify(execFile);
export const repoRoot = resolve(__dirname, '..', '..');
export const BUNDLE_DIR = join(repoRoot, 'dist', 'lambda-bundle');

/** A rotator declared under the mocks, with every resource registration it made. */
export interface Declared {
  /** Its outputs by name: the TypeScript component's own fields, or the state `construct` returned. */
  outputs: Record<string, unknown>;
  resources: RecordedResource[];
  /** The one declared resource of this type (fails loudly when absent or ambiguous). */
  one(type: string): RecordedResource;
  all(type: string): RecordedResource[];
}

let mocked: ReturnType<typeof createRecorder> | undefined;

async function mockEngine(): Promise<ReturnType<typeof createRecorder>> {
  if (!mocked) {
    mocked = createRecorder();
    await pulumi.runtime.setMocks(mocked.mocks, 'platform', 'acceptance');
  }
  return mocked;
}

/** A declaration from the resources it registered (custom ones are kept) and its outputs. */
export function declaredFrom(resources: RecordedResource[], outputs: Record<string, unknown>): Declared {
  const custom = resources.filter((r) => r.custom);
  const all = (type: string) => custom.filter((r) => r.type === type);
  return {
    outputs,
    resources: custom,
    all,
    one(type) {
      const found = all(type);
      if (found.length !== 1) throw new Error(`expected one ${type}, declared ${found.length}`);
      return found[0] as RecordedResource;
    },
  };
}

/** Every registration the mocks saw of the component named `name` and its children. */
export async function declaredSoFar(name: string): Promise<RecordedResource[]> {
  return (await mockEngine()).of(name);
}

/** Runs `new TokenRotator(name, args)` under the Pulumi mocks and waits for every registration. */
export async function declareRotator(name: string, args: TokenRotatorArgs = {}): Promise<Declared> {
  const recorder = await mockEngine();
  const { TokenRotator: Component } = await import('../../infra/index.js');
  const rotator = new Component(name, { bundleDir: BUNDLE_DIR, ...args });
  const { alarms, alarmTopic, ...rest } = rotator.resources;
  await promiseOf(rotator.urn);
  await promiseOf(rotator.alarmArns);
  await Promise.all(
    [...Object.values(rest), ...Object.values(alarms), ...(alarmTopic ? [alarmTopic] : [])].map((r) =>
      promiseOf(r.urn),
    ),
  );
  return declaredFrom(recorder.of(name), { ...rotator });
}

/**
 * Declares the component through the provider plugin's `construct`, called in this process under
 * the same mocks as the engine's gRPC server calls it (inputs as the server hands them over), and
 * waits, as that server does, for every registration `construct` started.
 */
export async function declareThroughPlugin(
  name: string,
  inputs: Record<string, unknown>,
): Promise<Declared & { urn: string }> {
  const recorder = await mockEngine();
  const { TokenRotatorProvider } = await import('../../plugin/provider.js');
  const { ROTATOR_TOKEN } = await import('../../plugin/schema.js');
  const result = await new TokenRotatorProvider().construct(
    name,
    ROTATOR_TOKEN,
    { bundleDir: BUNDLE_DIR, ...inputs },
    {},
  );
  const urn = await promiseOf(pulumi.output(result.urn));
  const outputs = result.state as Record<string, unknown>;
  await Promise.all(Object.values(outputs).map((o) => promiseOf(pulumi.output(o))));
  // The gRPC server's own wait after construct (internal to @pulumi/pulumi): every registration started.
  const settings = require('@pulumi/pulumi/runtime/settings') as { waitForRPCs: () => Promise<void> };
  await settings.waitForRPCs();
  return { ...declaredFrom(recorder.of(name), outputs), urn };
}

/** Builds the Lambda bundle (`npm run build:lambda`) and zips it as the provider's FileArchive does. */
export async function buildBundleZip(): Promise<{ zip: Buffer; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'rotator-zip-'));
  const path = join(dir, 'bundle.zip');
  // Another test file may rebuild dist/lambda-bundle at the same moment: retry a torn read.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await execFileAsync('npm', ['run', '--silent', 'build:lambda'], { cwd: repoRoot, timeout: 120_000 });
      // Python's zipfile (moto already needs Python): entries at the archive root, as FileArchive.
      await execFileAsync(
        'python3',
        [
          '-c',
          'import os,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\nfor n in sorted(os.listdir(sys.argv[2])): z.write(os.path.join(sys.argv[2],n),n)\nz.close()',
          path,
          BUNDLE_DIR,
        ],
        { timeout: 60_000 },
      );
      return { zip: await readFile(path), path };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

/** A declared schedule's inputs as the Scheduler API takes them: what moto creates and the checks judge. */
export function scheduleRequest(schedule: RecordedResource['inputs']): CreateScheduleCommandInput {
  return {
    Name: schedule.name,
    GroupName: schedule.groupName,
    Description: schedule.description,
    ScheduleExpression: schedule.scheduleExpression,
    FlexibleTimeWindow: { Mode: schedule.flexibleTimeWindow.mode as FlexibleTimeWindowMode },
    State: schedule.state as ScheduleState,
    Target: {
      Arn: schedule.target.arn,
      RoleArn: schedule.target.roleArn,
      Input: schedule.target.input,
      RetryPolicy: {
        MaximumRetryAttempts: schedule.target.retryPolicy.maximumRetryAttempts,
        MaximumEventAgeInSeconds: schedule.target.retryPolicy.maximumEventAgeInSeconds,
      },
    },
  };
}

/** SDK clients for moto, in the region the mocks report (the ARNs must agree). */
export function motoClients() {
  motoEndpoint();
  const config = { region: REGION };
  return {
    iam: new IAMClient(config),
    lambda: new LambdaClient(config),
    scheduler: new SchedulerClient(config),
    sqs: new SQSClient(config),
    logs: new CloudWatchLogsClient(config),
    cloudWatch: new CloudWatchClient(config),
    sns: new SNSClient(config),
  };
}

/** The rotator's own function among the declared ones (the request entry point is the other). */
export function rotatorFunction(declared: Declared): RecordedResource {
  const found = declared.all('aws:lambda/function:Function').filter((f) => f.inputs.handler === 'index.handler');
  if (found.length !== 1) throw new Error(`expected one rotator function (index.handler), declared ${found.length}`);
  return found[0] as RecordedResource;
}

/** What moto answered for each created resource. */
export interface Created {
  roleArns: Record<string, string>;
  queueArn: string;
  queueUrl: string;
  functionArn: string;
  functionName: string;
  /** The request entry point's function. */
  requestFunctionName: string | undefined;
  codeSha256: string | undefined;
  scheduleArn: string;
  topicArn: string | undefined;
  alarmNames: string[];
}

/** The logical name a recorded resource's mock id stands for (`<name>-id`, see pulumi-mocks). */
const nameOfId = (id: string) => id.replace(/-id$/, '');
const tagsOf = (tags: Record<string, string> | undefined) =>
  tags ? Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) : undefined;

/**
 * Creates every declared resource in moto, in the provider's dependency order. Physical names are
 * the ones the mocks gave (logical names for roles, queue and topic; declared names otherwise), so
 * the ARNs moto returns are comparable with the declared cross-references.
 */
export async function createInMoto(declared: Declared, zip: Buffer): Promise<Created> {
  const c = motoClients();
  const roleArns: Record<string, string> = {};
  for (const role of declared.all('aws:iam/role:Role')) {
    const out = await c.iam.send(
      new CreateRoleCommand({
        RoleName: role.name,
        AssumeRolePolicyDocument: role.inputs.assumeRolePolicy,
        Description: role.inputs.description,
        Tags: tagsOf(role.inputs.tags),
      }),
    );
    roleArns[role.name] = out.Role?.Arn ?? '';
  }
  for (const policy of declared.all('aws:iam/rolePolicy:RolePolicy')) {
    // moto validates the document's grammar here (IAMPolicyDocumentValidator).
    await c.iam.send(
      new PutRolePolicyCommand({
        RoleName: nameOfId(policy.inputs.role),
        PolicyName: policy.name,
        PolicyDocument: policy.inputs.policy,
      }),
    );
  }

  const queue = declared.one('aws:sqs/queue:Queue');
  const queueUrl =
    (
      await c.sqs.send(
        new CreateQueueCommand({
          QueueName: queue.name,
          Attributes: {
            MessageRetentionPeriod: String(queue.inputs.messageRetentionSeconds),
            SqsManagedSseEnabled: String(queue.inputs.sqsManagedSseEnabled),
          },
          tags: queue.inputs.tags,
        }),
      )
    ).QueueUrl ?? '';
  const queueArn =
    (await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn ?? '';

  for (const logGroup of declared.all('aws:cloudwatch/logGroup:LogGroup')) {
    await c.logs.send(new CreateLogGroupCommand({ logGroupName: logGroup.inputs.name, tags: logGroup.inputs.tags }));
    await c.logs.send(
      new PutRetentionPolicyCommand({
        logGroupName: logGroup.inputs.name,
        retentionInDays: logGroup.inputs.retentionInDays,
      }),
    );
  }

  // The rotator and the request entry point: one bundle, two handlers.
  const functions = declared.all('aws:lambda/function:Function');
  let created: CreateFunctionCommandOutput | undefined;
  let requestFunctionName: string | undefined;
  for (const { inputs: fn } of functions) {
    const answer = await c.lambda.send(
      new CreateFunctionCommand({
        FunctionName: fn.name,
        Description: fn.description,
        Role: fn.role,
        Runtime: fn.runtime as Runtime,
        Architectures: fn.architectures as Architecture[],
        Handler: fn.handler,
        Code: { ZipFile: zip },
        MemorySize: fn.memorySize,
        Timeout: fn.timeout,
        Environment: { Variables: fn.environment?.variables },
        DeadLetterConfig: fn.deadLetterConfig ? { TargetArn: fn.deadLetterConfig.targetArn } : undefined,
        Tags: fn.tags,
      }),
    );
    if (fn.reservedConcurrentExecutions !== undefined) {
      await c.lambda.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: fn.name,
          ReservedConcurrentExecutions: fn.reservedConcurrentExecutions,
        }),
      );
    }
    if (fn.handler === 'index.handler') created = answer;
    else requestFunctionName = answer.FunctionName;
  }
  if (created === undefined) throw new Error('no rotator function (index.handler) was declared');

  const eic = declared.one('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig').inputs;
  await c.lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: eic.functionName,
      MaximumRetryAttempts: eic.maximumRetryAttempts,
      MaximumEventAgeInSeconds: eic.maximumEventAgeInSeconds,
    }),
  );

  const schedule = declared.one('aws:scheduler/schedule:Schedule').inputs;
  const scheduleArn = (await c.scheduler.send(new CreateScheduleCommand(scheduleRequest(schedule)))).ScheduleArn ?? '';

  let topicArn: string | undefined;
  for (const topic of declared.all('aws:sns/topic:Topic')) {
    topicArn = (await c.sns.send(new CreateTopicCommand({ Name: topic.name, Tags: tagsOf(topic.inputs.tags) })))
      .TopicArn;
  }

  const alarmNames: string[] = [];
  for (const alarm of declared.all('aws:cloudwatch/metricAlarm:MetricAlarm')) {
    await c.cloudWatch.send(new PutMetricAlarmCommand(alarmRequest(alarm)));
    alarmNames.push(alarm.name);
  }

  return {
    roleArns,
    queueArn,
    queueUrl,
    functionArn: created.FunctionArn ?? '',
    functionName: created.FunctionName ?? '',
    requestFunctionName,
    codeSha256: created.CodeSha256,
    scheduleArn,
    topicArn,
    alarmNames,
  };
}

/** The PutMetricAlarm request the provider makes for a declared alarm. */
export function alarmRequest(alarm: RecordedResource) {
  const a = alarm.inputs;
  return {
    AlarmName: alarm.name,
    AlarmDescription: a.alarmDescription,
    Namespace: a.namespace,
    MetricName: a.metricName,
    Dimensions: Object.entries(a.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value: String(Value) })),
    Statistic: a.statistic,
    Period: a.period,
    EvaluationPeriods: a.evaluationPeriods,
    Threshold: a.threshold,
    ComparisonOperator: a.comparisonOperator,
    TreatMissingData: a.treatMissingData,
    AlarmActions: a.alarmActions,
    OKActions: a.okActions,
    Tags: tagsOf(a.tags),
  };
}

/** Base64 SHA-256, as Lambda reports CodeSha256. */
export const sha256Base64 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');
