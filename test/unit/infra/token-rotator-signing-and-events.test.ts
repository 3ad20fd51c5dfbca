import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../core/errors';
import type { TokenRotatorArgs } from '../../../infra';
import { assertRotatorPolicyFits, type PolicyDocument } from '../../../infra/policies';
import { caught } from '../../helpers/caught';
import {
  ACCOUNT_ID,
  createRecorder,
  fakeBundleDir,
  promiseOf,
  REGION,
  useMockEngine,
} from '../../helpers/pulumi-mocks';

type Infra = typeof import('../../../infra');

const recorder = createRecorder();
const SIGNING_KEY = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1111aaaa-11aa-11aa-11aa-111111aaaaaa`;
let infra: Infra;
let bundleDir: string;

useMockEngine(recorder);
// The documented order: mocks first (above), then the module under test.
beforeAll(async () => {
  infra = await import('../../../infra/index.js');
  bundleDir = fakeBundleDir();
});

async function deploy(name: string, args: TokenRotatorArgs = {}) {
  const rotator = new infra.TokenRotator(name, { bundleDir, ...args });
  await promiseOf(rotator.urn);
  await promiseOf(rotator.resources.rolePolicy.urn);
  await promiseOf(rotator.resources.function.urn);
  const policy = JSON.parse(
    String(recorder.find('aws:iam/rolePolicy:RolePolicy', `${name}-rotator`).inputs.policy),
  ) as PolicyDocument;
  const env = (
    recorder.find('aws:lambda/function:Function', `${name}-function`).inputs.environment as {
      variables: Record<string, string>;
    }
  ).variables;
  await Promise.all(Object.values(rotator.resources.alarms).map((a) => promiseOf(a.urn)));
  return { policy, env, rotator };
}

describe('TokenRotator with KMS signing keys and an event bus', () => {
  it('grants kms:Sign on the signing keys and events:PutEvents on the bus, and tells the function the bus', async () => {
    const { policy, env } = await deploy('sig', { signingKeyArns: [SIGNING_KEY], eventBusName: 'platform-events' });
    const sids = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
    expect(sids.SignWithCredentialKeys).toMatchObject({ Action: 'kms:Sign', Resource: [SIGNING_KEY] });
    expect(sids.PutRefreshEvents).toMatchObject({
      Action: 'events:PutEvents',
      Resource: `arn:aws:events:${REGION}:${ACCOUNT_ID}:event-bus/platform-events`,
    });
    expect(env.TOKEN_ROTATOR_EVENT_BUS).toBe('platform-events');
  });

  it('grants GetSecretValue on the clientSecretSources and kms:Decrypt on their keys, for those secrets only', async () => {
    const source = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:platform/sirv-AbCdEf`;
    const key = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/2222bbbb-22bb-22bb-22bb-222222bbbbbb`;
    const { policy } = await deploy('src', { clientSecretSources: [source], clientSecretSourceKeyArns: [key] });
    const sids = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
    expect(sids.ReadClientSecretSources).toEqual({
      Sid: 'ReadClientSecretSources',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: [source],
    });
    expect(sids.DecryptClientSecretSources).toMatchObject({
      Action: 'kms:Decrypt',
      Resource: [key],
      Condition: { StringEquals: { 'kms:EncryptionContext:SecretARN': [source] } },
    });
  });

  it('adds neither statement nor variable by default', async () => {
    const { policy, env } = await deploy('bare');
    expect(policy.Statement.map((s) => s.Sid)).not.toContain('SignWithCredentialKeys');
    expect(policy.Statement.map((s) => s.Sid)).not.toContain('PutRefreshEvents');
    expect(policy.Statement.map((s) => s.Sid)).not.toContain('ReadClientSecretSources');
    expect(env).not.toHaveProperty('TOKEN_ROTATOR_EVENT_BUS');
  });

  it('alarms on RefreshEventsFailed when it puts events on a bus, notifying the alarm topic', async () => {
    const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:platform-alarms`;
    const { rotator } = await deploy('evt', { eventBusName: 'platform-events', alarmTopicArn: TOPIC });
    const alarm = recorder.find('aws:cloudwatch/metricAlarm:MetricAlarm', 'evt-refresh-events-failed').inputs;
    expect(alarm).toMatchObject({
      namespace: 'TokenRotator',
      metricName: 'RefreshEventsFailed',
      dimensions: { service: 'token-rotator', prefix: 'token-rotator/' },
      statistic: 'Sum',
      period: 60,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
      alarmActions: [TOPIC],
      okActions: [TOPIC],
    });
    expect(alarm.alarmDescription).toMatch(/events:PutEvents/);
    const arns = await promiseOf(rotator.alarmArns);
    expect(arns.refreshEventsFailed).toEqual(expect.any(String));
    expect(Object.keys(arns)).toHaveLength(9);
  });

  it('declares no RefreshEventsFailed alarm without a bus (the metric is never emitted there)', async () => {
    const { rotator } = await deploy('noevt');
    const alarms = recorder.resources.filter((r) => r.type === 'aws:cloudwatch/metricAlarm:MetricAlarm');
    expect(alarms.map((a) => a.inputs.metricName)).not.toContain('RefreshEventsFailed');
    expect(alarms).toHaveLength(8);
    expect(await promiseOf(rotator.alarmArns)).not.toHaveProperty('refreshEventsFailed');
    expect(rotator.resources.alarms.refreshEventsFailed).toBeUndefined();
  });

  it('refuses an alias in signingKeyArns, naming the entry', () => {
    expect(() => new infra.TokenRotator('alias', { bundleDir, signingKeyArns: ['alias/upload-signing'] })).toThrow(
      /signingKeyArns\[0\].*KMS key ARN/,
    );
  });
});

describe('TokenRotator with many signing keys', () => {
  /** IAM's limit on the total size of a role's inline policies: 10,240 characters, whitespace not counted. */
  const IAM_LIMIT = 10_240;
  const keys = (n: number) =>
    Array.from(
      { length: n },
      (_, i) => `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-${String(i).padStart(12, '0')}`,
    );
  const refusal = (name: string, args: TokenRotatorArgs) =>
    caught(() => new infra.TokenRotator(name, { bundleDir, ...args }), InvalidConfigurationError);

  it.each([
    ['the default prefix', 'token-rotator/'],
    ['the longest prefix', `${'p'.repeat(255)}/`],
  ])(
    'refuses more keys than the role policy can hold, saying how many fit, and those deploy within IAM (%s)',
    async (_label, prefix) => {
      const args = { prefix, kmsKeyArn: SIGNING_KEY, eventBusName: 'platform-events' };
      // 110 keys, one per KMS-signed credential: over the limit.
      const error = refusal('many', { ...args, signingKeyArns: keys(110) });
      expect(error.field).toBe('signingKeyArns');
      expect(error.message).toMatch(/signingKeyArns: 110 keys make the rotator's inline policy \d+ characters/);
      expect(recorder.of('many')).toEqual([]);
      const fit = Number(/; (\d+) of these fit/.exec(error.message)?.[1]);
      expect(fit).toBeGreaterThan(10);
      expect(fit).toBeLessThan(110);

      // As many as it says fit: declared, and the policy the component sends IAM is within its limit.
      const { policy } = await deploy('fits', { ...args, signingKeyArns: keys(fit) });
      expect(JSON.stringify(policy).replace(/\s/g, '').length).toBeLessThanOrEqual(IAM_LIMIT);
      expect(policy.Statement.find((st) => st.Sid === 'SignWithCredentialKeys')?.Resource).toHaveLength(fit);
      // One more is refused (names of one length: the function names the policy holds are as long).
      expect(refusal('more', { ...args, signingKeyArns: keys(fit + 1) }).message).toMatch(
        new RegExp(`${fit + 1} keys make .*; ${fit} of these fit`),
      );
    },
  );

  it('refuses keys given as an output when they resolve, on the real policy, naming the field', () => {
    // What the role policy's apply runs on the resolved partition, region, account, queue and keys.
    const scope = {
      partition: 'aws',
      region: REGION,
      accountId: ACCOUNT_ID,
      prefix: 'token-rotator/',
      functionName: 'rotator-abc1234',
      deadLetterQueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:rotator-dlq-abc1234`,
    };
    expect(() => assertRotatorPolicyFits('rotator', { ...scope, signingKeyArns: keys(100) })).not.toThrow();
    expect(() => assertRotatorPolicyFits('rotator', { ...scope, signingKeyArns: keys(200) })).toThrow(
      expect.objectContaining({
        field: 'signingKeyArns',
        message: expect.stringMatching(
          /^Invalid TokenRotator "rotator" arguments:\n {2}- signingKeyArns: 200 keys .*; 1\d\d of these fit/,
        ),
      }),
    );
    // With clientSecretSources, those are named, at declaration and when outputs resolve alike.
    const sources = Array.from(
      { length: 100 },
      (_, i) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:platform/client-${i}-AbCdEf`,
    );
    const withSources = { signingKeyArns: keys(10), clientSecretSources: sources };
    const declared = refusal('sources', withSources);
    expect(declared.field).toBe('clientSecretSources');
    expect(declared.message).toMatch(/clientSecretSources: 10 signing keys and 100 clientSecretSources make/);
    expect(() => assertRotatorPolicyFits('rotator', { ...scope, ...withSources })).toThrow(
      expect.objectContaining({
        field: 'clientSecretSources',
        message: expect.stringMatching(/- clientSecretSources: 10 signing keys and 100 clientSecretSources make/),
      }),
    );
    // Outputs' lengths are unknown at declaration: the component takes them then.
    expect(() => new infra.TokenRotator('out', { bundleDir, signingKeyArns: pulumi.output(keys(3)) })).not.toThrow();
  });
});
