import { describe, expect, it } from 'vitest';
import {
  lambdaAssumeRolePolicy,
  matchesArnPattern,
  nestedSecretArnPattern,
  type PolicyDocument,
  type RotatorPolicyScope,
  rotatorPolicy,
  schedulerAssumeRolePolicy,
  schedulerPolicy,
} from '../../../infra/policies';
import { allowedActions, allows, asList, decide } from './iam-simulator';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const scope = (over: Partial<RotatorPolicyScope> = {}): RotatorPolicyScope => ({
  partition: 'aws',
  region: 'eu-west-1',
  accountId: '123456789012',
  prefix: 'token-rotator/',
  functionName: 'rotator-abc1234',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:rotator-dlq',
  ...over,
});
const secret = (name: string, account = '123456789012') =>
  `arn:aws:secretsmanager:eu-west-1:${account}:secret:${name}-AbCdEf`;

const WRITES = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:CreateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:TagResource',
  'secretsmanager:UntagResource',
  'secretsmanager:PutResourcePolicy',
  'secretsmanager:RotateSecret',
  'secretsmanager:UpdateSecretVersionStage',
];

describe('IAM wildcards, as the simulator applies them', () => {
  const allowGet = (resource: string): PolicyDocument => ({
    Version: '2012-10-17',
    Statement: [{ Sid: 'Get', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: resource }],
  });
  const get = (doc: PolicyDocument, resource: string) =>
    decide(doc, { action: 'secretsmanager:GetSecretValue', resource });
  const arn = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}`;

  it('lets * cross slashes and ? match exactly one character, as IAM does', async () => {
    expect(await get(allowGet(arn('a*/token-??????')), arn('a/x/y/token-AbCdEf'))).toBe('Allowed');
    expect(await get(allowGet(arn('a*/token-??????')), arn('a/x/token-AbCdEfG'))).toBe('ImplicitlyDenied');
    expect(await get(allowGet(arn('a*/token-*')), arn('a/x/token-b/y/client-AbCdEf'))).toBe('Allowed');
  });
});

describe('matchesArnPattern', () => {
  const arn = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}`;

  it('matches as the IAM simulator does, taking every other character literally', async () => {
    const cases: [string, string][] = [
      [arn('a*/token-??????'), arn('a/x/y/token-AbCdEf')],
      [arn('a*/token-??????'), arn('a/x/token-AbCdEfG')],
      [arn('a*/token-*'), arn('a/x/token-b/y/client-AbCdEf')],
      // Prefix characters that mean something in a regular expression.
      [arn('a.b+c/*/token-??????'), arn('aXb+c/x/token-AbCdEf')],
      [arn('a.b+c/*/token-??????'), arn('a.b+c/x/token-AbCdEf')],
      [arn('a.b+c/*/token-??????'), arn('a.bbc/x/token-AbCdEf')],
      [nestedSecretArnPattern(scope({ prefix: 'team/' })), arn('team/b/x/token-AbCdEf')],
      [nestedSecretArnPattern(scope({ prefix: 'team/' })), arn('team/x/token-AbCdEf')],
    ];
    for (const [pattern, value] of cases) {
      const doc: PolicyDocument = {
        Version: '2012-10-17',
        Statement: [{ Sid: 'Get', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: pattern }],
      };
      expect(matchesArnPattern(pattern, value), `${pattern} ~ ${value}`).toBe(
        await allows(doc, 'secretsmanager:GetSecretValue', value),
      );
    }
  });
});

describe('rotatorPolicy', () => {
  const doc = rotatorPolicy(scope());

  it('parses as JSON with the 2012-10-17 version and unique statement ids', () => {
    const parsed = JSON.parse(JSON.stringify(doc));
    expect(parsed.Version).toBe('2012-10-17');
    const sids = doc.Statement.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
  });

  it('allows only reads on the client secrets under its prefix', async () => {
    const client = secret('token-rotator/sirv-prod/client');
    expect(await allows(doc, 'secretsmanager:GetSecretValue', client)).toBe(true);
    expect(await allows(doc, 'secretsmanager:DescribeSecret', client)).toBe(true);
    for (const action of WRITES) expect(await allows(doc, action, client), action).toBe(false);
    const read = doc.Statement.find((s) => s.Sid === 'ReadClientSecrets');
    expect(read?.Resource).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-rotator/*/client-??????');
    expect(asList(read?.Action).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  });

  it('scopes every write to PREFIX*/token-?????? (the 6-character suffix Secrets Manager appends)', async () => {
    const token = secret('token-rotator/sirv-prod/token');
    expect(await allows(doc, 'secretsmanager:PutSecretValue', token)).toBe(true);
    expect(await allows(doc, 'secretsmanager:TagResource', token)).toBe(true);
    expect(await allows(doc, 'secretsmanager:UntagResource', token)).toBe(true);
    expect(await allows(doc, 'secretsmanager:GetSecretValue', token)).toBe(true);
    for (const s of doc.Statement.filter((st) => st.Effect === 'Allow')) {
      const actions = asList(s.Action);
      if (actions.some((a) => WRITES.includes(a))) {
        expect(s.Resource).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-rotator/*/token-??????');
      }
    }
  });

  it('never allows a write on a client secret, on "*", or outside its prefix, account or the token names', async () => {
    const targets = [
      secret('token-rotator/sirv-prod/client'),
      // A nested prefix whose path contains "/token-": a "-*" suffix pattern would have matched it.
      secret('token-rotator/team/token-x/sirv-prod/client'),
      secret('other-prefix/sirv-prod/token'),
      secret('token-rotator/sirv-prod/token', '210987654321'),
      secret('token-rotator/sirv-prod/token-backup'),
      secret('token-rotator-evil/sirv/token'),
    ];
    for (const target of targets) {
      for (const action of WRITES) expect(await allows(doc, action, target), `${action} on ${target}`).toBe(false);
    }
    // The simulator reads a request on "*" as "on some resource": the writes granted on token
    // secrets answer yes there, every other write must answer no. That no statement grants a write
    // ON "*" is checked on the documents just below.
    const grantedOnTokens = [
      'secretsmanager:PutSecretValue',
      'secretsmanager:TagResource',
      'secretsmanager:UntagResource',
    ];
    for (const action of WRITES.filter((a) => !grantedOnTokens.includes(a))) {
      expect(await allows(doc, action, '*'), `${action} on *`).toBe(false);
    }
    for (const s of doc.Statement.filter((st) => st.Effect === 'Allow')) {
      const writes = asList(s.Action).filter((a) => WRITES.includes(a) || a === 'secretsmanager:*' || a === '*');
      if (writes.length === 0) continue;
      for (const r of asList(s.Resource)) {
        expect(r).not.toBe('*');
        expect(r).not.toMatch(/client/);
      }
    }
  });

  it('explicitly denies everything but reads on any */client secret, whatever else the role gets', async () => {
    const deny = doc.Statement.find((s) => s.Effect === 'Deny');
    expect(deny).toMatchObject({
      Sid: 'DenyClientSecretWrites',
      NotAction: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: 'arn:aws:secretsmanager:*:*:secret:*/client-??????',
    });
    const broadened = {
      ...doc,
      Statement: [...doc.Statement, { Sid: 'Other', Effect: 'Allow' as const, Action: '*', Resource: '*' }],
    };
    expect(await allows(broadened, 'secretsmanager:PutSecretValue', secret('anything/x/client'))).toBe(false);
  });

  it('grants on "*" only ListSecrets and BatchGetSecretValue, the two actions that take no resource scoping', () => {
    const star = doc.Statement.filter((s) => s.Effect === 'Allow' && asList(s.Resource).includes('*'));
    expect(star.map((s) => s.Action)).toEqual(['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue']);
  });

  it('invokes only its own function, writes only its own log group, sends only to its DLQ', async () => {
    const fnArn = 'arn:aws:lambda:eu-west-1:123456789012:function:rotator-abc1234';
    expect(await allows(doc, 'lambda:InvokeFunction', fnArn)).toBe(true);
    expect(await allows(doc, 'lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:other')).toBe(
      false,
    );
    expect(await allows(doc, 'lambda:InvokeFunction', `${fnArn}-x`)).toBe(false);
    const stream = 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/rotator-abc1234:log-stream:2026/x';
    expect(await allows(doc, 'logs:PutLogEvents', stream)).toBe(true);
    expect(
      await allows(
        doc,
        'logs:PutLogEvents',
        'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/other:log-stream:x',
      ),
    ).toBe(false);
    expect(allowedActions(doc)).not.toContain('logs:createloggroup');
    expect(await allows(doc, 'sqs:SendMessage', 'arn:aws:sqs:eu-west-1:123456789012:rotator-dlq')).toBe(true);
    expect(await allows(doc, 'sqs:SendMessage', 'arn:aws:sqs:eu-west-1:123456789012:other')).toBe(false);
  });

  it('lets tags be changed only under the token-rotator: key prefix', () => {
    const tag = doc.Statement.find((s) => s.Sid === 'TagTokenSecrets');
    expect(tag?.Condition).toEqual({ 'ForAllValues:StringLike': { 'aws:TagKeys': 'token-rotator:*' } });
  });

  it('has no kms statement without a customer key', () => {
    expect(allowedActions(doc).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  it('with a customer key, allows Decrypt and GenerateDataKey on that key only, through Secrets Manager only', () => {
    const withKey = rotatorPolicy(scope({ kmsKeyArn: KEY }));
    const kms = withKey.Statement.filter((s) => asList(s.Action).some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect(kms[0]).toMatchObject({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: KEY,
      Condition: {
        StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' },
        StringLike: {
          'kms:EncryptionContext:SecretARN': 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-rotator/*',
        },
      },
    });
  });

  it('follows the partition (e.g. aws-us-gov) in every ARN it builds', () => {
    const gov = rotatorPolicy(scope({ partition: 'aws-us-gov', region: 'us-gov-west-1' }));
    for (const s of gov.Statement) {
      for (const r of asList(s.Resource))
        if (r !== '*' && !r.startsWith('arn:aws:sqs')) expect(r).toMatch(/^arn:aws-us-gov:/);
    }
  });
});

describe('lambdaAssumeRolePolicy', () => {
  it('trusts lambda.amazonaws.com only', () => {
    expect(lambdaAssumeRolePolicy().Statement).toEqual([
      {
        Sid: 'LambdaAssumesRole',
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
      },
    ]);
  });
});

describe('schedulerPolicy and schedulerAssumeRolePolicy', () => {
  const s = {
    partition: 'aws',
    region: 'eu-west-1',
    accountId: '123456789012',
    functionName: 'rotator-abc1234',
    scheduleName: 'rotator-abc1234',
  };

  it('lets the schedule role invoke this function and nothing else', async () => {
    const doc = schedulerPolicy(s);
    expect(doc.Statement).toEqual([
      {
        Sid: 'InvokeRotator',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:rotator-abc1234',
      },
    ]);
    expect(await allows(doc, 'lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:other')).toBe(
      false,
    );
    expect(await allows(doc, 'secretsmanager:GetSecretValue', '*')).toBe(false);
  });

  it("is assumable by EventBridge Scheduler for this account's default schedule group only", () => {
    expect(schedulerAssumeRolePolicy(s).Statement[0]).toEqual({
      Sid: 'SchedulerAssumesRole',
      Effect: 'Allow',
      Principal: { Service: 'scheduler.amazonaws.com' },
      Action: 'sts:AssumeRole',
      Condition: {
        StringEquals: {
          'aws:SourceAccount': '123456789012',
          'aws:SourceArn': 'arn:aws:scheduler:eu-west-1:123456789012:schedule-group/default',
        },
      },
    });
  });
});
