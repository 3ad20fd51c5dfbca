/**
 * The rotator policy's KMS-signing and EventBridge statements, judged by the IAM simulator
 * (@cloud-copilot/iam-simulate): `kms:Sign` (RS256 or ES256) on the declared signing keys only, and
 * `events:PutEvents` on the declared bus only. Nothing else of KMS or EventBridge.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { type RotatorPolicyScope, rotatorPolicy } from '../../../infra/policies';

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/token-rotator`;
const SIGNING_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1111aaaa-11aa-11aa-11aa-111111aaaaaa`;
const OTHER_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/2222bbbb-22bb-22bb-22bb-222222bbbbbb`;
const BUS = `arn:aws:events:eu-west-1:${ACCOUNT}:event-bus/platform-events`;
const OTHER_BUS = `arn:aws:events:eu-west-1:${ACCOUNT}:event-bus/default`;

const scope = (overrides: Partial<RotatorPolicyScope> = {}): RotatorPolicyScope => ({
  partition: 'aws',
  region: 'eu-west-1',
  accountId: ACCOUNT,
  prefix: 'token-rotator/',
  functionName: 'token-rotator',
  deadLetterQueueArn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:token-rotator-dlq`,
  signingKeyArns: [SIGNING_KEY],
  eventBus: 'platform-events',
  ...overrides,
});

/** The default key policy: the account delegates the key to IAM, so the role's policy decides. */
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'EnableIam',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
};

async function decide(
  policyScope: RotatorPolicyScope,
  action: string,
  resource: string,
  contextVariables: Record<string, string> = {},
): Promise<string> {
  const simulation: Simulation = {
    identityPolicies: [{ name: 'rotator', policy: rotatorPolicy(policyScope) }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(action.startsWith('kms:') ? { resourcePolicy: DEFAULT_KEY_POLICY } : {}),
    request: { action, principal: ROLE, resource: { resource, accountId: ACCOUNT }, contextVariables },
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

const RS256 = { 'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256' };

describe('rotator policy: KMS signing keys and the event bus (IAM simulator)', () => {
  it.each([
    ['kms:Sign', SIGNING_KEY, RS256, 'Allowed'],
    ['kms:Sign', SIGNING_KEY, { 'kms:SigningAlgorithm': 'RSASSA_PSS_SHA_256' }, 'ImplicitlyDenied'],
    ['kms:Sign', SIGNING_KEY, { 'kms:SigningAlgorithm': 'ECDSA_SHA_256' }, 'Allowed'],
    ['kms:Sign', SIGNING_KEY, { 'kms:SigningAlgorithm': 'ECDSA_SHA_384' }, 'ImplicitlyDenied'],
    ['kms:Sign', SIGNING_KEY, {}, 'ImplicitlyDenied'],
    ['kms:Sign', OTHER_KEY, RS256, 'ImplicitlyDenied'],
    ['kms:GetPublicKey', SIGNING_KEY, {}, 'ImplicitlyDenied'],
    ['kms:Decrypt', SIGNING_KEY, {}, 'ImplicitlyDenied'],
    ['kms:ScheduleKeyDeletion', SIGNING_KEY, {}, 'ImplicitlyDenied'],
    ['events:PutEvents', BUS, {}, 'Allowed'],
    ['events:PutEvents', OTHER_BUS, {}, 'ImplicitlyDenied'],
    ['events:PutRule', `arn:aws:events:eu-west-1:${ACCOUNT}:rule/platform-events/r`, {}, 'ImplicitlyDenied'],
  ])('%s on %s with %o is %s', async (action, resource, context, expected) => {
    await expect(decide(scope(), action, resource, context)).resolves.toBe(expected);
  });

  it('grants neither kms:Sign nor events:PutEvents when no key and no bus are declared', async () => {
    const bare = scope({ signingKeyArns: undefined, eventBus: undefined });
    await expect(decide(bare, 'kms:Sign', SIGNING_KEY, RS256)).resolves.toBe('ImplicitlyDenied');
    await expect(decide(bare, 'events:PutEvents', BUS)).resolves.toBe('ImplicitlyDenied');
  });

  it('takes a bus given by ARN as it is', async () => {
    await expect(decide(scope({ eventBus: OTHER_BUS }), 'events:PutEvents', OTHER_BUS)).resolves.toBe('Allowed');
    await expect(decide(scope({ eventBus: OTHER_BUS }), 'events:PutEvents', BUS)).resolves.toBe('ImplicitlyDenied');
  });
});
