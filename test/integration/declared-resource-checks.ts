/**
 * The checks every declaration of the TokenRotator component passes (the TypeScript component in
 * declared-resources.test.ts, the provider plugin's `construct` in plugin-construct.test.ts):
 * every resource it declares, created in moto through the AWS SDK as the Pulumi AWS
 * provider would create it, then checked where moto checks nothing (aws-constraints.ts) and
 * cross-checked against the ARNs moto itself produced.
 *
 * What moto 5.2.5 really enforces here (read in its source, confirmed by the negative tests below):
 * the Lambda role ARN's shape, that the role exists in IAM and is in the same account; the
 * architectures enum; event invoke config MaximumRetryAttempts <= 2 and MaximumEventAgeInSeconds
 * <= 21600; the grammar of inline role policies (PutRolePolicy); that the function exists for
 * invoke/event-invoke-config calls; that the schedule group exists; that an Invoke payload is JSON.
 * What it does NOT check: runtime, handler (nor that the zip holds it: the zip is only hashed),
 * memory, timeout, environment names, dead-letter target, trust policies (any text), schedule
 * expressions, schedule target and role ARNs, flexible window, retry policy, any alarm field,
 * log retention values, SQS attribute ranges. Those are asserted by our own checks below.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, GetFunctionCommand, GetFunctionEventInvokeConfigCommand } from '@aws-sdk/client-lambda';
import { GetScheduleCommand, GetScheduleGroupCommand } from '@aws-sdk/client-scheduler';
import type * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TokenRotatorArgs } from '../../infra';
import type { PolicyDocument } from '../../infra/policies';
import {
  eventInvokeConfigProblems,
  LOG_RETENTION_VALUES,
  lambdaFunctionProblems,
  metricAlarmProblems,
  queueProblems,
  scheduleExpressionProblems,
  scheduleProblems,
  trustPolicyProblems,
} from '../helpers/aws-constraints';
import { ACCOUNT_ID, promiseOf, REGION } from '../helpers/pulumi-mocks';
import {
  alarmRequest,
  buildBundleZip,
  type Created,
  createInMoto,
  type Declared,
  motoClients,
  rotatorFunction,
  scheduleRequest,
  sha256Base64,
} from './declared-resources';

const execFileAsync = promisify(execFile);

/** Every resource type TokenRotator declares; the test fails if one is added and not created here. */
const CREATED_TYPES = [
  'aws:iam/role:Role',
  'aws:iam/rolePolicy:RolePolicy',
  'aws:sqs/queue:Queue',
  'aws:cloudwatch/logGroup:LogGroup',
  'aws:lambda/function:Function',
  'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig',
  'aws:scheduler/schedule:Schedule',
  'aws:sns/topic:Topic',
  'aws:cloudwatch/metricAlarm:MetricAlarm',
];

/** The arguments every declaration under these checks gets: an alarm topic, a KMS key and tags. */
export const CHECKED_ARGS: TokenRotatorArgs = {
  createAlarmTopic: true,
  kmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  tags: { team: 'platform' },
};

/**
 * Whether the zip holds the handler Lambda would load for `handler` ("file.export"): the file
 * (`.js`, `.mjs` or `.cjs`, as the nodejs runtime resolves it) and a function export of that name,
 * loaded in a fresh node process outside the repository.
 */
async function handlerProblems(zipFile: string, handler: string): Promise<string[]> {
  const dot = handler.lastIndexOf('.');
  if (dot < 1) return [`handler "${handler}" is not "file.export"`];
  const dir = await mkdtemp(join(tmpdir(), 'rotator-unzip-'));
  await execFileAsync('python3', ['-m', 'zipfile', '-e', zipFile, dir]);
  const probe = join(dir, '..', `${randomUUID()}-probe.cjs`);
  await writeFile(
    probe,
    `const fs=require('fs'),path=require('path');const [dir,file,name]=process.argv.slice(2);
const found=['.js','.mjs','.cjs'].map(e=>path.join(dir,file+e)).find(p=>fs.existsSync(p));
if(!found){console.log('no file '+file+'.js/.mjs/.cjs in the zip');process.exit(0)}
import(found).then(m=>{const f=m[name]??m.default?.[name];console.log(typeof f==='function'?'OK':'export '+name+' is '+typeof f)}).catch(e=>console.log('load failed: '+e.message));`,
  );
  const { stdout } = await execFileAsync(
    process.execPath,
    [probe, dir, handler.slice(0, dot), handler.slice(dot + 1)],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', NODE_PATH: '' },
      timeout: 30_000,
    },
  );
  return stdout.trim() === 'OK' ? [] : [stdout.trim()];
}

/**
 * Declares a rotator named `acc…` with {@link CHECKED_ARGS} through `declare`, creates what it
 * declared in moto, and runs every check on it.
 */
export function describeDeclaredResourceChecks(
  label: string,
  declare: (name: string, args: TokenRotatorArgs) => Promise<Declared>,
): void {
  const NAME = `acc${randomUUID().slice(0, 6)}`;
  let declared: Declared;
  let created: Created;
  let zip: Buffer;
  let zipPath: string;

  beforeAll(async () => {
    ({ zip, path: zipPath } = await buildBundleZip());
    declared = await declare(NAME, CHECKED_ARGS);
    created = await createInMoto(declared, zip);
  }, 180_000);

  const policyOf = (logicalName: string): PolicyDocument =>
    JSON.parse(declared.resources.find((r) => r.name === logicalName)?.inputs.policy);

  describe(`${label}: declared resources, created in moto`, () => {
    it('creates every resource the component declares', () => {
      const declaredTypes = [...new Set(declared.resources.map((r) => r.type))].sort();
      expect(declaredTypes).toEqual([...CREATED_TYPES].sort());
      expect(Object.keys(created.roleArns)).toHaveLength(declared.all('aws:iam/role:Role').length);
      expect(created.alarmNames).toHaveLength(declared.all('aws:cloudwatch/metricAlarm:MetricAlarm').length);
    });

    it('deploys the real bundle with a handler that exists in the zip, and moto keeps what was sent', async () => {
      const fn = rotatorFunction(declared).inputs;
      expect(await handlerProblems(zipPath, fn.handler)).toEqual([]);
      const { Configuration: config } = await motoClients().lambda.send(
        new GetFunctionCommand({ FunctionName: created.functionName }),
      );
      expect(config).toMatchObject({
        Runtime: fn.runtime,
        Handler: fn.handler,
        Architectures: fn.architectures,
        MemorySize: fn.memorySize,
        Timeout: fn.timeout,
        Role: created.roleArns[`${NAME}-role`],
        Environment: { Variables: fn.environment.variables },
        CodeSha256: sha256Base64(zip),
        CodeSize: zip.length,
      });
      expect(
        lambdaFunctionProblems({
          FunctionName: fn.name,
          Runtime: fn.runtime,
          Handler: fn.handler,
          MemorySize: fn.memorySize,
          Timeout: fn.timeout,
          Architectures: fn.architectures,
          Description: fn.description,
          Environment: { Variables: fn.environment.variables },
        }),
      ).toEqual([]);
    });

    it('wires the function to its role, dead-letter queue and async limits by ARNs moto made', async () => {
      const fn = rotatorFunction(declared).inputs;
      expect(fn.role).toBe(created.roleArns[`${NAME}-role`]);
      expect(fn.deadLetterConfig.targetArn).toBe(created.queueArn);
      const queue = declared.one('aws:sqs/queue:Queue').inputs;
      expect(queueProblems({ MessageRetentionPeriod: String(queue.messageRetentionSeconds) })).toEqual([]);
      const eic = declared.one('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig').inputs;
      expect(
        eventInvokeConfigProblems({
          MaximumRetryAttempts: eic.maximumRetryAttempts,
          MaximumEventAgeInSeconds: eic.maximumEventAgeInSeconds,
        }),
      ).toEqual([]);
      const stored = await motoClients().lambda.send(
        new GetFunctionEventInvokeConfigCommand({ FunctionName: created.functionName }),
      );
      expect(stored).toMatchObject({
        MaximumRetryAttempts: 0,
        FunctionArn: expect.stringContaining(created.functionArn),
      });
    });

    it("scopes the rotator's policy to the ARNs moto gives its function, queue and log group", async () => {
      const policy = policyOf(`${NAME}-rotator`);
      const byId = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
      expect(byId.InvokeSelf?.Resource).toBe(created.functionArn);
      expect(byId.DeadLetter?.Resource).toBe(created.queueArn);
      // Both functions' log groups, the rotator's first: moto (like AWS) reports a log group's ARN
      // with a trailing ":*", the policy's pattern.
      const names = declared.all('aws:lambda/function:Function').map((f) => `/aws/lambda/${f.inputs.name}`);
      expect(names[0]).toBe(`/aws/lambda/${rotatorFunction(declared).inputs.name}`);
      const arns: (string | undefined)[] = [];
      for (const logGroup of declared.all('aws:cloudwatch/logGroup:LogGroup').map((g) => g.inputs)) {
        expect(names).toContain(logGroup.name);
        const groups = await motoClients().logs.send(
          new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroup.name }),
        );
        const group = groups.logGroups?.find((g) => g.logGroupName === logGroup.name);
        arns.push(group?.arn);
        expect(group?.retentionInDays).toBe(logGroup.retentionInDays);
        expect(LOG_RETENTION_VALUES).toContain(logGroup.retentionInDays);
      }
      expect([...arns].sort()).toEqual([...((byId.WriteOwnLogs?.Resource ?? []) as string[])].sort());
      expect(
        trustPolicyProblems(
          declared.resources.find((r) => r.name === `${NAME}-role`)?.inputs.assumeRolePolicy,
          'lambda.amazonaws.com',
        ),
      ).toEqual([]);
    });

    it('schedules the function it created through the scheduler role, with a valid expression and input', async () => {
      const c = motoClients();
      const schedule = declared.one('aws:scheduler/schedule:Schedule').inputs;
      const schedulerRoleArn = created.roleArns[`${NAME}-scheduler-role`];
      expect(schedule.target.arn).toBe(created.functionArn);
      expect(schedule.target.roleArn).toBe(schedulerRoleArn);
      expect(scheduleProblems(scheduleRequest(schedule))).toEqual([]);
      const stored = await c.scheduler.send(
        new GetScheduleCommand({ Name: schedule.name, GroupName: schedule.groupName }),
      );
      expect(stored.Target).toMatchObject({
        Arn: created.functionArn,
        RoleArn: schedulerRoleArn,
        Input: schedule.target.input,
      });
      expect(stored.Arn).toBe(created.scheduleArn);
      expect(await promiseOf(declared.outputs.scheduleArn as pulumi.Output<unknown>)).toBe(created.scheduleArn);

      // The scheduler role may invoke exactly that function, and trusts exactly that schedule group.
      expect(policyOf(`${NAME}-scheduler`).Statement[0]?.Resource).toBe(created.functionArn);
      const group = await c.scheduler.send(new GetScheduleGroupCommand({ Name: schedule.groupName }));
      const trust = (await c.iam.send(new GetRoleCommand({ RoleName: `${NAME}-scheduler-role` }))).Role
        ?.AssumeRolePolicyDocument;
      const trustDoc: PolicyDocument = JSON.parse(decodeURIComponent(trust ?? '{}'));
      expect(trustDoc.Statement[0]?.Condition?.StringEquals?.['aws:SourceArn']).toBe(group.Arn);
      expect(trustPolicyProblems(JSON.stringify(trustDoc), 'scheduler.amazonaws.com')).toEqual([]);
    });

    it('creates every alarm with valid fields, watching the function moto made, notifying the topic it made', async () => {
      const { MetricAlarms: stored = [] } = await motoClients().cloudWatch.send(
        new DescribeAlarmsCommand({ AlarmNames: created.alarmNames }),
      );
      expect(stored).toHaveLength(created.alarmNames.length);
      for (const alarm of declared.all('aws:cloudwatch/metricAlarm:MetricAlarm')) {
        const request = alarmRequest(alarm);
        expect(metricAlarmProblems(request), alarm.name).toEqual([]);
        expect(request.AlarmActions).toEqual([created.topicArn]);
        expect(request.OKActions).toEqual([created.topicArn]);
        if (request.Namespace === 'AWS/Lambda')
          expect(request.Dimensions).toEqual([{ Name: 'FunctionName', Value: created.functionName }]);
        const back = stored.find((a) => a.AlarmName === alarm.name);
        expect(back).toMatchObject({
          Namespace: request.Namespace,
          MetricName: request.MetricName,
          Statistic: request.Statistic,
          Period: request.Period,
          Threshold: request.Threshold,
          ComparisonOperator: request.ComparisonOperator,
          TreatMissingData: request.TreatMissingData,
        });
      }
    });
  });

  describe(`${label}: the acceptance checks fail on the mistakes they exist for`, () => {
    it('a handler whose file or export is missing from the zip', async () => {
      expect(await handlerProblems(zipPath, 'index.handlr')).toEqual(['export handlr is undefined']);
      expect(await handlerProblems(zipPath, 'main.handler')).toEqual(['no file main.js/.mjs/.cjs in the zip']);
      expect(await handlerProblems(zipPath, 'handler')).toHaveLength(1);
    });

    it('a schedule expression AWS would refuse', () => {
      expect(scheduleExpressionProblems('rate(1 minute)')).toEqual([]);
      expect(scheduleExpressionProblems('rate(5 minutes)')).toEqual([]);
      expect(scheduleExpressionProblems('cron(0/5 * * * ? *)')).toEqual([]);
      for (const bad of [
        'rate(1 minutes)',
        'rate(5 minute)',
        'rate(0 minutes)',
        'cron(0/5 * * * *)',
        'cron(0 * * * * *)',
        'every 5 minutes',
      ])
        expect(scheduleExpressionProblems(bad), bad).toHaveLength(1);
    });

    it('an alarm field or a target ARN of the wrong shape', () => {
      const alarm = alarmRequest(declared.all('aws:cloudwatch/metricAlarm:MetricAlarm')[0] as never);
      expect(metricAlarmProblems({ ...alarm, ComparisonOperator: 'GreaterThanThreshold ' })).toHaveLength(1);
      expect(metricAlarmProblems({ ...alarm, Statistic: 'Total' })).toHaveLength(1);
      expect(metricAlarmProblems({ ...alarm, Period: 90 })).toHaveLength(1);
      expect(metricAlarmProblems({ ...alarm, TreatMissingData: 'notbreaching' })).toHaveLength(1);
      expect(metricAlarmProblems({ ...alarm, AlarmActions: ['arn:aws:sqs:eu-west-1:123456789012:q'] })).toHaveLength(1);
      const target = { Arn: created.functionArn, RoleArn: created.roleArns[`${NAME}-scheduler-role`], Input: '{}' };
      const ok = {
        Name: 's',
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
      };
      expect(scheduleProblems({ ...ok, Target: target })).toEqual([]);
      expect(
        scheduleProblems({
          ...ok,
          Target: { ...target, Arn: `${created.functionArn.replace(':function:', ':functions:')}` },
        }),
      ).toHaveLength(1);
      expect(
        scheduleProblems({ ...ok, Target: { ...target, RoleArn: `arn:aws:iam:${REGION}:${ACCOUNT_ID}:role/x` } }),
      ).toHaveLength(1);
      expect(
        lambdaFunctionProblems({
          FunctionName: 'f',
          Runtime: 'nodejs22',
          Handler: 'index.handler',
          MemorySize: 256,
          Timeout: 120,
          Architectures: ['arm64'],
        }),
      ).toHaveLength(1);
    });

    it("moto's own refusal of a role ARN that is not an existing role of the account", async () => {
      const fn = rotatorFunction(declared).inputs;
      const base = { FunctionName: `${fn.name}-neg`, Runtime: fn.runtime, Handler: fn.handler, Code: { ZipFile: zip } };
      await expect(
        motoClients().lambda.send(
          new CreateFunctionCommand({ ...base, Role: fn.role.replace(':role/', ':role/missing-') }),
        ),
      ).rejects.toThrow(/cannot be assumed by Lambda/);
      await expect(
        motoClients().lambda.send(
          new CreateFunctionCommand({ ...base, Role: fn.role.replace('arn:aws:iam::', 'arn:aws:iam:eu-west-1:') }),
        ),
      ).rejects.toThrow();
    });
  });
}
