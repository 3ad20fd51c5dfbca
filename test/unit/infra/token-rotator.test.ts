import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TokenRotatorArgs } from '../../../infra';
import type { PolicyDocument } from '../../../infra/policies';
import {
  ACCOUNT_ID,
  createRecorder,
  fakeBundleDir,
  promiseOf,
  REGION,
  type RecordedResource,
  useMockEngine,
} from '../../helpers/pulumi-mocks';
import { allows, asList } from './iam-simulator';

type Infra = typeof import('../../../infra');

const recorder = createRecorder();
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:oncall`;
let infra: Infra;
let bundleDir: string;

useMockEngine(recorder);
// The documented order: mocks first (above), then the module under test.
beforeAll(async () => {
  infra = await import('../../../infra/index.js');
  bundleDir = fakeBundleDir();
});

/** Creates a rotator and waits until every one of its resources has been registered. */
async function deploy(name: string, args: TokenRotatorArgs = {}) {
  const rotator = new infra.TokenRotator(name, { bundleDir, ...args });
  await promiseOf(rotator.urn);
  await promiseOf(rotator.alarmArns);
  await Promise.all(children(rotator).map((r) => promiseOf(r.urn)));
  return rotator;
}

function children(rotator: InstanceType<Infra['TokenRotator']>): pulumi.CustomResource[] {
  const { alarms, alarmTopic, ...rest } = rotator.resources;
  return [...Object.values(rest), ...Object.values(alarms), ...(alarmTopic ? [alarmTopic] : [])];
}

const byType = (resources: RecordedResource[], type: string) => resources.filter((r) => r.type === type);
const parse = (json: unknown): PolicyDocument => JSON.parse(String(json));

describe('TokenRotator resource graph', () => {
  it('creates every resource, each parented to the component', async () => {
    const rotator = await deploy('rot');
    const mine = recorder.of('rot').filter((r) => r.custom);
    expect(mine.map((r) => r.type).sort()).toEqual(
      [
        'aws:cloudwatch/logGroup:LogGroup',
        'aws:cloudwatch/logGroup:LogGroup',
        ...Array(8).fill('aws:cloudwatch/metricAlarm:MetricAlarm'),
        'aws:iam/role:Role',
        'aws:iam/role:Role',
        'aws:iam/rolePolicy:RolePolicy',
        'aws:iam/rolePolicy:RolePolicy',
        'aws:lambda/function:Function',
        'aws:lambda/function:Function',
        'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig',
        'aws:scheduler/schedule:Schedule',
        'aws:sqs/queue:Queue',
      ].sort(),
    );
    expect(recorder.find('token-rotator:index:TokenRotator', 'rot').custom).toBe(false);
    const urns = await Promise.all(children(rotator).map((r) => promiseOf(r.urn)));
    expect(urns).toHaveLength(mine.length);
    for (const urn of urns) expect(urn).toContain('::token-rotator:index:TokenRotator$aws:');
  });

  it('deploys the request entry point beside the rotator: same code, role and environment, reserved concurrency 2, index.requests', async () => {
    const rotator = await deploy('req');
    const functions = recorder.of('req').filter((r) => r.type === 'aws:lambda/function:Function');
    const main = functions.find((f) => f.inputs.handler === 'index.handler')?.inputs;
    const requests = functions.find((f) => f.inputs.handler === 'index.requests')?.inputs;
    expect(requests).toMatchObject({
      name: `${main?.name}-requests`,
      runtime: main?.runtime,
      role: main?.role,
      reservedConcurrentExecutions: 2,
      environment: main?.environment,
    });
    expect(main?.reservedConcurrentExecutions).toBeUndefined();
    const policy = JSON.parse(await promiseOf(rotator.requestPolicy));
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: await promiseOf(rotator.requestFunctionArn),
      }),
    ]);
  });

  it('reads partition, region and account through invokes', async () => {
    await deploy('inv');
    expect(recorder.calls).toEqual(
      expect.arrayContaining([
        'aws:index/getCallerIdentity:getCallerIdentity',
        'aws:index/getRegion:getRegion',
        'aws:index/getPartition:getPartition',
      ]),
    );
  });

  it('deploys the bundle as a nodejs24.x arm64 function with the rotator environment', async () => {
    const rotator = await deploy('fn', {
      prefix: 'teams/platform/',
      concurrency: 4,
      writesPerSecond: 12.5,
      logLevel: 'DEBUG',
    });
    const fn = recorder.find('aws:lambda/function:Function', 'fn-function').inputs;
    const fnName = rotator.settings.functionName;
    expect(fn).toMatchObject({
      name: fnName,
      runtime: 'nodejs24.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      memorySize: 256,
      timeout: 120,
      role: `arn:aws:iam::${ACCOUNT_ID}:role/fn-role`,
      deadLetterConfig: { targetArn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:fn-dlq` },
    });
    expect(fn.reservedConcurrentExecutions).toBeUndefined();
    expect(await fn.code.path).toBe(bundleDir);
    expect(fn.environment.variables).toEqual({
      TOKEN_ROTATOR_PREFIX: 'teams/platform/',
      TOKEN_ROTATOR_CONCURRENCY: '4',
      TOKEN_ROTATOR_SCHEDULE_SECONDS: '60',
      TOKEN_ROTATOR_WRITES_PER_SECOND: '12.5',
      POWERTOOLS_SERVICE_NAME: 'token-rotator',
      POWERTOOLS_METRICS_NAMESPACE: 'TokenRotator',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(await promiseOf(rotator.functionName)).toBe(fnName);
    expect(await promiseOf(rotator.functionArn)).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${fnName}`);
  });

  it('deploys on nodejs22.x when runtime says so', async () => {
    await deploy('fn22', { runtime: 'nodejs22.x' });
    expect(recorder.find('aws:lambda/function:Function', 'fn22-function').inputs.runtime).toBe('nodejs22.x');
  });

  it('creates the /aws/lambda log group with the retention, a DLQ, and limits async retries', async () => {
    const rotator = await deploy('logs', { logRetentionInDays: 14, scheduleIntervalSeconds: 300 });
    const fnName = rotator.settings.functionName;
    expect(recorder.find('aws:cloudwatch/logGroup:LogGroup', 'logs-logs').inputs).toMatchObject({
      name: `/aws/lambda/${fnName}`,
      retentionInDays: 14,
    });
    expect(await promiseOf(rotator.logGroupName)).toBe(`/aws/lambda/${fnName}`);
    expect(recorder.find('aws:sqs/queue:Queue', 'logs-dlq').inputs).toMatchObject({
      messageRetentionSeconds: 1_209_600,
      sqsManagedSseEnabled: true,
    });
    expect(await promiseOf(rotator.deadLetterQueueUrl)).toBe(
      `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/logs-dlq`,
    );
    expect(
      recorder.find('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig', 'logs-async').inputs,
    ).toEqual({ functionName: fnName, maximumRetryAttempts: 0, maximumEventAgeInSeconds: 300 });
  });

  it('schedules a sweep on time through a role that may only invoke this function', async () => {
    const rotator = await deploy('sch', { scheduleIntervalSeconds: 300 });
    const fnName = rotator.settings.functionName;
    const schedule = recorder.find('aws:scheduler/schedule:Schedule', 'sch-schedule').inputs;
    expect(schedule).toMatchObject({
      name: fnName,
      groupName: 'default',
      scheduleExpression: 'rate(5 minutes)',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${fnName}`,
        roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/sch-scheduler-role`,
        retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 300 },
      },
    });
    expect(JSON.parse(schedule.target.input)).toEqual({ action: 'sweep' });
    expect(await promiseOf(rotator.scheduleArn)).toBe(
      `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/default/${fnName}`,
    );

    const policy = parse(recorder.find('aws:iam/rolePolicy:RolePolicy', 'sch-scheduler').inputs.policy);
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${fnName}`,
    });
    const trust = parse(recorder.find('aws:iam/role:Role', 'sch-scheduler-role').inputs.assumeRolePolicy);
    expect(trust.Statement[0]?.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
  });

  it('gives the function role the rotator policy for its prefix, function and DLQ, without kms by default', async () => {
    const rotator = await deploy('pol', { prefix: 'tr/' });
    const fnName = rotator.settings.functionName;
    const trust = parse(recorder.find('aws:iam/role:Role', 'pol-role').inputs.assumeRolePolicy);
    expect(trust.Statement[0]?.Principal).toEqual({ Service: 'lambda.amazonaws.com' });
    const policyInputs = recorder.find('aws:iam/rolePolicy:RolePolicy', 'pol-rotator').inputs;
    expect(policyInputs.role).toBe('pol-role-id');
    const doc = parse(policyInputs.policy);
    const secret = (n: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${n}-AbCdEf`;
    expect(await allows(doc, 'secretsmanager:GetSecretValue', secret('tr/sirv/client'))).toBe(true);
    expect(await allows(doc, 'secretsmanager:PutSecretValue', secret('tr/sirv/client'))).toBe(false);
    expect(await allows(doc, 'secretsmanager:PutSecretValue', secret('tr/sirv/token'))).toBe(true);
    expect(await allows(doc, 'secretsmanager:PutSecretValue', secret('token-rotator/sirv/token'))).toBe(false);
    expect(
      await allows(doc, 'lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${fnName}`),
    ).toBe(true);
    expect(await allows(doc, 'sqs:SendMessage', `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:pol-dlq`)).toBe(true);
    expect(doc.Statement.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith('kms:'))).toEqual([]);
    expect(await promiseOf(rotator.roleArn)).toBe(`arn:aws:iam::${ACCOUNT_ID}:role/pol-role`);
  });

  it('adds the kms statement when a customer key is given', async () => {
    await deploy('kms', { kmsKeyArn: KEY });
    const doc = parse(recorder.find('aws:iam/rolePolicy:RolePolicy', 'kms-rotator').inputs.policy);
    const kms = doc.Statement.filter((s) => asList(s.Action).some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect(kms[0]).toMatchObject({
      Resource: KEY,
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } },
    });
  });
});

describe('TokenRotator alarms', () => {
  const alarms = (name: string): Record<string, RecordedResource['inputs']> =>
    Object.fromEntries(
      byType(recorder.of(name), 'aws:cloudwatch/metricAlarm:MetricAlarm').map((r) => [r.inputs.metricName, r.inputs]),
    );

  it('watches the rotator metrics and the function, notifying the given topic', async () => {
    const rotator = await deploy('alm', { alarmTopicArn: TOPIC });
    const fnName = rotator.settings.functionName;
    const a = alarms('alm');
    expect(Object.keys(a).sort()).toEqual([
      'CredentialsRejected',
      'Errors',
      'FailuresNotRecorded',
      'Invocations',
      'RefreshFailed',
      'SecondsToExpiry',
      'VersionLimitExceeded',
      'WriteBudgetBreached',
    ]);
    // The rotator's prefix tells its metrics from another rotator's in the same account and region.
    const service = { service: 'token-rotator', prefix: 'token-rotator/' };
    expect(a.WriteBudgetBreached).toMatchObject({
      namespace: 'TokenRotator',
      dimensions: service,
      statistic: 'Sum',
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });
    expect(a.RefreshFailed).toMatchObject({
      namespace: 'TokenRotator',
      dimensions: service,
      statistic: 'Sum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });
    expect(a.CredentialsRejected).toMatchObject({
      namespace: 'TokenRotator',
      dimensions: service,
      statistic: 'Sum',
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(a.SecondsToExpiry).toMatchObject({
      namespace: 'TokenRotator',
      dimensions: service,
      statistic: 'Minimum',
      threshold: 120,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'notBreaching',
    });
    expect(a.Errors).toMatchObject({
      namespace: 'AWS/Lambda',
      dimensions: { FunctionName: fnName },
      statistic: 'Sum',
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(a.Invocations).toMatchObject({
      namespace: 'AWS/Lambda',
      dimensions: { FunctionName: fnName },
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'breaching',
    });
    for (const alarm of Object.values(a)) {
      expect(alarm.alarmActions).toEqual([TOPIC]);
      expect(alarm.okActions).toEqual([TOPIC]);
    }
    const arns = await promiseOf(rotator.alarmArns);
    expect(Object.keys(arns).sort()).toEqual([
      'credentialsRejected',
      'failuresNotRecorded',
      'lambdaErrors',
      'notInvoked',
      'refreshFailed',
      'secondsToExpiry',
      'versionLimitExceeded',
      'writeBudgetBreached',
    ]);
    expect(await promiseOf(rotator.alarmTopicArn)).toBe(TOPIC);
  });

  it("gives two rotators in one account alarms on their own prefix's metrics, named in each description", async () => {
    await deploy('team-a', { prefix: 'team-a/', eventBusName: 'platform-events' });
    await deploy('team-b', { prefix: 'team-b/', eventBusName: 'platform-events' });
    for (const [name, prefix] of [
      ['team-a', 'team-a/'],
      ['team-b', 'team-b/'],
    ] as const) {
      const own = Object.values(alarms(name));
      expect(own).toHaveLength(9);
      for (const alarm of own) {
        expect(alarm.alarmDescription).toMatch(new RegExp(`^token-rotator "${prefix}": `));
        if (alarm.namespace === 'TokenRotator') {
          expect(alarm.dimensions, alarm.metricName).toEqual({ service: 'token-rotator', prefix });
        }
      }
      // The Lambda emits with that same prefix: it reads it from the environment declared here.
      const env = recorder.find('aws:lambda/function:Function', `${name}-function`).inputs.environment.variables;
      expect(env.TOKEN_ROTATOR_PREFIX).toBe(prefix);
    }
  });

  it('uses a custom SecondsToExpiry threshold and creates a topic on request', async () => {
    const rotator = await deploy('top', { createAlarmTopic: true, secondsToExpiryThreshold: 900 });
    expect(alarms('top').SecondsToExpiry?.threshold).toBe(900);
    const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:top-alarms`;
    expect(recorder.find('aws:sns/topic:Topic', 'top-alarms')).toBeDefined();
    for (const alarm of Object.values(alarms('top'))) expect(alarm.alarmActions).toEqual([topicArn]);
    expect(await promiseOf(rotator.alarmTopicArn)).toBe(topicArn);
  });

  it('creates alarms without actions and no topic when none is asked for', async () => {
    await deploy('quiet');
    expect(byType(recorder.of('quiet'), 'aws:sns/topic:Topic')).toEqual([]);
    for (const alarm of Object.values(alarms('quiet'))) expect(alarm.alarmActions).toEqual([]);
  });

  it('passes tags to every taggable resource', async () => {
    await deploy('tag', { tags: { team: 'platform' }, createAlarmTopic: true });
    const taggable = recorder
      .of('tag')
      .filter((r) => r.custom && !/rolePolicy|functionEventInvokeConfig|scheduler\/schedule/.test(r.type));
    expect(taggable.length).toBeGreaterThan(5);
    for (const r of taggable) expect(r.inputs.tags, r.type).toEqual({ team: 'platform' });
  });
});

describe('TokenRotator.readPolicyFor', () => {
  const tokenArn = (name: string, prefix = 'token-rotator/') =>
    `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${prefix}${name}/token-AbCdEf`;

  it('grants read actions on exactly the one token secret of a credential', async () => {
    const rotator = await deploy('rp1');
    const doc = parse(await promiseOf(rotator.readPolicyFor({ tokenSecretArn: pulumi.output(tokenArn('sirv')) })));
    expect(doc.Statement).toEqual([
      {
        Sid: 'ReadTokenSecret',
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: tokenArn('sirv'),
      },
    ]);
  });

  it('takes a list of ARNs and adds kms:Decrypt through Secrets Manager with a customer key', async () => {
    const rotator = await deploy('rp2', { kmsKeyArn: KEY });
    const doc = parse(await promiseOf(rotator.readPolicyFor([tokenArn('a'), pulumi.output(tokenArn('b'))])));
    expect(doc.Statement[0]?.Resource).toEqual([tokenArn('a'), tokenArn('b')]);
    expect(doc.Statement[1]).toMatchObject({ Action: 'kms:Decrypt', Resource: KEY });
  });

  it.each([
    ['a client secret', tokenArn('sirv').replace('/token-', '/client-')],
    ['a token secret under another prefix', tokenArn('sirv', 'other/')],
    ['a wildcard', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-rotator/*'],
    ['not an ARN', 'sirv'],
  ])('refuses %s, naming the field', async (label, arn) => {
    const rotator = await deploy(`rp-${label.replace(/\W+/g, '-')}`);
    expect(() => rotator.readPolicyFor([arn])).toThrow(
      expect.objectContaining({
        field: 'tokenSecretArn',
        message: expect.stringMatching(/token secret under "token-rotator\/"/),
      }),
    );
    expect(() => rotator.readPolicyFor({ tokenSecretArn: arn })).toThrow(/token secret under/);
  });

  it("accepts exactly the token secrets the rotator's own role may read: not a nested prefix's", async () => {
    const rotator = await deploy('rp-nested', { prefix: 'team/', kmsKeyArn: KEY });
    const own = parse(recorder.find('aws:iam/rolePolicy:RolePolicy', 'rp-nested-rotator').inputs.policy);
    const ownToken = tokenArn('x', 'team/');
    // A `team/b/` deployment's secret: DenyNestedPrefixes keeps this rotator out of it.
    const nestedToken = tokenArn('x', 'team/b/');
    const deeper = tokenArn('x', 'team/b/c/');
    for (const arn of [ownToken, nestedToken, deeper]) {
      const rotatorReads = await allows(own, 'secretsmanager:GetSecretValue', arn);
      let accepted = true;
      try {
        rotator.readPolicyFor([arn]);
      } catch {
        accepted = false;
      }
      expect(accepted, arn).toBe(rotatorReads);
    }
    expect(() => rotator.readPolicyFor([nestedToken])).toThrow(
      expect.objectContaining({
        field: 'tokenSecretArn',
        message: expect.stringMatching(/nested prefix's deployment/),
      }),
    );
    expect(parse(await promiseOf(rotator.readPolicyFor([ownToken]))).Statement[0]?.Resource).toBe(ownToken);
  });

  it('refuses an empty list', async () => {
    const rotator = await deploy('rp-empty');
    expect(() => rotator.readPolicyFor([])).toThrow(/at least one token secret ARN/);
  });
});

describe('TokenRotator arguments', () => {
  it('registers nothing when an argument is invalid', () => {
    expect(() => new infra.TokenRotator('bad', { bundleDir, concurrency: 0 })).toThrow(/concurrency: /);
    expect(recorder.of('bad')).toEqual([]);
  });
});
