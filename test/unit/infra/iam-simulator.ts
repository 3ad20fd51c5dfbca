/**
 * IAM decisions for policy tests, made by @cloud-copilot/iam-simulate (a maintained simulator of
 * AWS's evaluation logic: explicit deny, identity and resource policies, condition operators,
 * wildcards, per-action resource types and condition keys) instead of an evaluator of our own.
 */
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../../../infra/policies';

/** What the simulator decided. */
export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/** One request to judge. */
export interface SimulatedRequest {
  action: string;
  resource: string;
  /** Request context (`aws:TagKeys`, `kms:ViaService`, …), as AWS would send it. */
  context?: Record<string, string | string[]>;
  /** The principal making the call; a role in the resource's account by default. */
  principal?: string;
  /** A resource policy (e.g. a KMS key policy), when the service needs one. */
  resourcePolicy?: PolicyDocument | Record<string, unknown>;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The account the principal under test lives in. */
export const PRINCIPAL_ACCOUNT = '123456789012';

/** The account of an ARN; the principal's own for `*` (wildcard-only actions). */
function accountOf(resource: string): string {
  return resource.split(':')[4] || PRINCIPAL_ACCOUNT;
}

/**
 * KMS needs its key policy to allow a call too. The default key policy (the account may use the
 * key through IAM policies) makes the decision the identity policy's, which is what is tested.
 */
export function defaultKeyPolicy(accountId = PRINCIPAL_ACCOUNT) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EnableIamPolicies',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}

/**
 * The simulator's decision on `request` for a principal holding `doc` as its identity policy.
 * Throws when the simulator refuses the input (unknown action, malformed policy or ARN), so a
 * typo in a test or a policy cannot pass as "denied".
 */
export async function decide(doc: PolicyDocument, request: SimulatedRequest): Promise<Decision> {
  const accountId = accountOf(request.resource);
  const resourcePolicy =
    request.resourcePolicy ??
    (request.action.toLowerCase().startsWith('kms:') ? defaultKeyPolicy(accountId) : undefined);
  const simulation = {
    request: {
      principal: request.principal ?? `arn:aws:iam::${PRINCIPAL_ACCOUNT}:role/under-test`,
      action: request.action,
      resource: { resource: request.resource, accountId },
      contextVariables: request.context ?? {},
    },
    identityPolicies: [{ name: 'under-test', policy: doc }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resourcePolicy ? { resourcePolicy } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`iam-simulate refused ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  }
  const ignored = result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : [];
  const droppedEncryptionContext = ignored.filter((k) => /^kms:EncryptionContext:/i.test(k));
  const otherIgnored = ignored.filter((k) => !droppedEncryptionContext.includes(k));
  if (otherIgnored.length > 0) {
    // A key the action does not support would silently not count: a test bug, never a verdict.
    throw new Error(`iam-simulate ignored context keys ${otherIgnored.join(', ')} for ${request.action}`);
  }
  if (droppedEncryptionContext.length === 0) return result.overallResult as Decision;
  // iam-simulate 0.1.x recognises variable condition keys only in the `prefix/Name` form, so its
  // validating entry point drops `kms:EncryptionContext:SecretARN` (which AWS does send to KMS for
  // Secrets Manager calls). Its unvalidated engine evaluates the key; the inputs were validated
  // just above. The resource policy goes in the library's "validated" form because that engine
  // loads an unnamed resource policy and then fails reading its name.
  return runUnsafeSimulation(
    {
      ...simulation,
      ...(resourcePolicy
        ? {
            resourcePolicy: {
              __validated: true,
              policyDocument: resourcePolicy,
              metadata: { name: 'resource-policy' },
            },
          }
        : {}),
    },
    {},
  ) as Decision;
}

/** Whether the simulator lets the request through. */
export async function allows(
  doc: PolicyDocument,
  action: string,
  resource: string,
  context?: Record<string, string | string[]>,
): Promise<boolean> {
  return (await decide(doc, { action, resource, ...(context ? { context } : {}) })) === 'Allowed';
}

/** Every action an Allow statement names, lower-cased. */
export function allowedActions(doc: PolicyDocument): string[] {
  return doc.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action).map((a) => a.toLowerCase()));
}

export { list as asList };
