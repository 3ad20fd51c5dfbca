import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CREDENTIAL_NAME_PATTERN, PREFIX_PATTERN } from '../../../core/token';
import { rotatorPolicy } from '../../../infra/policies';
import { decide } from './iam-simulator';
import { ACCOUNT, FUNCTION, IAM_TABLE, POLICIES, README_MARKERS, REGION, renderIamTable } from './iam-table';

const OPERATIONS = resolve(__dirname, '..', '..', '..', 'docs', 'operations.md');

describe('the least-privilege table, decided by iam-simulate', () => {
  it.each(IAM_TABLE.map((r, i) => [i + 1, r.policy, r.request.action, r.on, r.expected, r] as const))(
    '#%i %s: %s on %s is %s',
    async (_n, policy, _action, _on, expected, row) => {
      expect(await decide(POLICIES[policy], row.request)).toBe(expected);
    },
  );

  it('covers each policy with at least one allowed and one denied request', () => {
    for (const policy of Object.keys(POLICIES)) {
      const rows = IAM_TABLE.filter((r) => r.policy === policy);
      if (policy === 'rotator, no kmsKeyArn') continue;
      expect(
        rows.some((r) => r.expected === 'Allowed'),
        policy,
      ).toBe(true);
      expect(
        rows.some((r) => r.expected !== 'Allowed'),
        policy,
      ).toBe(true);
    }
  });

  it('is the table in docs/operations.md (regenerate with UPDATE_IAM_TABLE=1)', () => {
    const doc = readFileSync(OPERATIONS, 'utf8');
    const begin = doc.indexOf(README_MARKERS.begin);
    const end = doc.indexOf(README_MARKERS.end);
    expect(begin, 'docs/operations.md has no generated IAM table').toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(begin);
    const current = doc.slice(begin + README_MARKERS.begin.length, end).trim();
    const wanted = renderIamTable();
    if (current !== wanted && process.env.UPDATE_IAM_TABLE === '1') {
      writeFileSync(OPERATIONS, `${doc.slice(0, begin + README_MARKERS.begin.length)}\n${wanted}\n${doc.slice(end)}`);
      return;
    }
    expect(current).toBe(wanted);
  });
});

describe('the simulator wrapper', () => {
  const doc = POLICIES.rotator;

  it('refuses to judge a request with a misspelt action or a context key the action does not take', async () => {
    await expect(decide(doc, { action: 'secretsmanager:GetSecretValu', resource: '*' })).rejects.toThrow(/refused/);
    await expect(
      decide(doc, {
        action: 'secretsmanager:GetSecretValue',
        resource: IAM_TABLE[0]?.request.resource ?? '',
        context: { 'kms:ViaService': 'x' },
      }),
    ).rejects.toThrow(/ignored context keys kms:ViaService/);
  });

  it("falls back for kms:EncryptionContext keys only because iam-simulate's validated entry drops them", async () => {
    // When this fails, iam-simulate evaluates the key itself: remove the fallback in decide().
    const { runSimulation } = await import('@cloud-copilot/iam-simulate');
    const result = await runSimulation(
      {
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:role/under-test`,
          action: 'kms:Decrypt',
          resource: { resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/k`, accountId: ACCOUNT },
          contextVariables: { 'kms:EncryptionContext:SecretARN': 'x' },
        },
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    expect(result.resultType === 'single' && result.result.ignoredContextKeys).toEqual([
      'kms:EncryptionContext:SecretARN',
    ]);
  });
});

describe('the nested-prefix deny against every valid name', () => {
  const prefix = fc.stringMatching(PREFIX_PATTERN, { size: 'small' });
  const name = fc.stringMatching(CREDENTIAL_NAME_PATTERN, { size: 'small' });
  const suffix = fc.stringMatching(/^[A-Za-z0-9]{6}$/);
  const arn = (n: string, s: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${n}-${s}`;

  it("keeps every valid credential's own secrets usable and every deeper name out of reach", async () => {
    await fc.assert(
      fc.asyncProperty(prefix, name, name, suffix, async (p, n, segment, s) => {
        const doc = rotatorPolicy({
          partition: 'aws',
          region: REGION,
          accountId: ACCOUNT,
          prefix: p,
          functionName: FUNCTION,
          deadLetterQueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:dlq`,
        });
        const get = 'secretsmanager:GetSecretValue';
        const put = 'secretsmanager:PutSecretValue';
        expect(await decide(doc, { action: get, resource: arn(`${p}${n}/client`, s) })).toBe('Allowed');
        expect(await decide(doc, { action: get, resource: arn(`${p}${n}/token`, s) })).toBe('Allowed');
        expect(await decide(doc, { action: put, resource: arn(`${p}${n}/token`, s) })).toBe('Allowed');
        // The same name one level deeper belongs to a deployment with prefix `p segment/`.
        expect(await decide(doc, { action: get, resource: arn(`${p}${segment}/${n}/client`, s) })).toBe(
          'ExplicitlyDenied',
        );
        expect(await decide(doc, { action: put, resource: arn(`${p}${segment}/${n}/token`, s) })).toBe(
          'ExplicitlyDenied',
        );
      }),
      { numRuns: 60 },
    );
  });
});
