/** The ProviderCredential resource: what a platform engineer writes in a Pulumi program. */
import * as pulumi from '@pulumi/pulumi';
import type { IssuerConfigInput } from '../core/issuers/config';
import type { RefreshPolicyInput } from '../core/policy';
import { DEFAULT_PREFIX, secretNames } from '../core/store/names';
import { CODE_VERSION } from '../core/version';
import { type AwsSettings, resolveAwsSettings, type StackAwsConfig } from './aws-settings';
import { credentialOperations, PROVIDER_RUNTIME_MODULE } from './provider';
import { credentialReadPolicy } from './read-policy';

type DeepInput<T> = T extends string | number | boolean | undefined
  ? pulumi.Input<T>
  : T extends (infer U)[]
    ? pulumi.Input<DeepInput<U>[]>
    : T extends object
      ? pulumi.Input<{ [K in keyof T]: DeepInput<T[K]> }>
      : pulumi.Input<T>;

/** An issuer whose client secret is read from `clientSecretSource`: a kind's fields without `clientSecret`. */
export type SourcedIssuerConfigInput = IssuerConfigInput extends infer T
  ? T extends { clientSecret?: unknown }
    ? Omit<T, 'clientSecret'>
    : never
  : never;

/** The resource type Pulumi gives a ProviderCredential (a dynamic resource of module `token-rotator`). */
const CREDENTIAL_TYPE = 'pulumi-nodejs:dynamic/token-rotator:ProviderCredential';

/**
 * One provider object for every credential of a program: @pulumi/pulumi caches a dynamic
 * provider's serialized closure by object identity, so a shared instance is serialized once
 * instead of once per resource (which dominated preview time at a few hundred credentials).
 * It holds only the runtime module's name, so sharing it shares no state.
 */
const SHARED_PROVIDER = credentialOperations(PROVIDER_RUNTIME_MODULE);

/** Arguments of {@link ProviderCredential}. */
export interface ProviderCredentialArgs {
  /** Credential name in the secret names; defaults to the resource name. */
  name?: pulumi.Input<string>;
  /** Secret name prefix, default `token-rotator/`. */
  prefix?: pulumi.Input<string>;
  /** The token source: `{ kind, … }`, an `IssuerKindName` and that kind's fields (docs/issuers.md). */
  issuer: DeepInput<IssuerConfigInput> | DeepInput<SourcedIssuerConfigInput>;
  /**
   * Read the client secret from an existing Secrets Manager secret instead of `issuer.clientSecret`
   * (then left out): its whole SecretString, or with `jsonKey` that string field of the JSON object
   * it holds. Read at `pulumi up` (the deployer needs secretsmanager:GetSecretValue on it) and by
   * the rotator at each refresh (TokenRotator's `clientSecretSources`); the value never enters
   * Pulumi config or state. For kinds with a client secret: sirv, aspose, json, oauth2
   * (client_secret_*), header-jwt, jwt-bearer.
   */
  clientSecretSource?: pulumi.Input<{ secretArn: pulumi.Input<string>; jsonKey?: pulumi.Input<string> }>;
  /** When to refresh (fraction of the lifetime, jitter, margin, write budget). */
  policy?: DeepInput<RefreshPolicyInput>;
  /** Obtain the first token through the rotator Lambda (for issuers reachable only from its network). */
  rotatorFunctionName?: pulumi.Input<string>;
  /** Recovery window of the secrets on delete (7–30 days; 0 deletes at once). Default 7. */
  recoveryWindowInDays?: pulumi.Input<number>;
  /** Extra tags on both secrets. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Customer KMS key for both secrets. */
  kmsKeyId?: pulumi.Input<string>;
  /**
   * AWS region of both secrets. Default: the stack's `aws:region`, else `AWS_REGION` /
   * `AWS_DEFAULT_REGION` or the profile's region, as `@pulumi/aws` resolves it. Recorded in the
   * state: `refresh` and `destroy` reach the same secrets from any shell; a new region replaces
   * the credential.
   */
  region?: pulumi.Input<string>;
  /** AWS profile (shared config files) that reaches the secrets. Default: the stack's `aws:profile`, else the standard chain. */
  profile?: pulumi.Input<string>;
}

/**
 * A third-party API credential whose short-lived token token-rotator keeps fresh in AWS Secrets
 * Manager. `pulumi up` validates the credentials against the real issuer, stores them, and
 * writes the first token.
 *
 * @example
 * ```ts
 * const cfg = new pulumi.Config();
 * const sirv = new ProviderCredential('sirv-prod', {
 *   issuer: { kind: 'sirv', clientId: cfg.require('sirvClientId'), clientSecret: cfg.requireSecret('sirvClientSecret') },
 * });
 * export const tokenSecretArn = sirv.tokenSecretArn;
 * ```
 */
export class ProviderCredential extends pulumi.dynamic.Resource {
  declare readonly tokenSecretArn: pulumi.Output<string>;
  readonly tokenSecretName: pulumi.Output<string>;
  declare readonly clientSecretArn: pulumi.Output<string>;
  readonly clientSecretName: pulumi.Output<string>;
  /** IAM policy JSON granting `secretsmanager:GetSecretValue` and `DescribeSecret` on this token secret only. */
  readonly readPolicy: pulumi.Output<string>;
  /** For kinds that sign (signed-jwt, private_key_jwt, jwt-bearer): the public key PEM to register with the service. */
  declare readonly publicKeyPem: pulumi.Output<string | undefined>;
  /** For `private_key_jwt` and `jwt-bearer`: the same public key as a JWKS (JSON text), to register where a JWKS is asked for. */
  declare readonly publicJwks: pulumi.Output<string | undefined>;

  constructor(name: string, args: ProviderCredentialArgs, opts?: pulumi.CustomResourceOptions) {
    // Read at declaration, in the program: the provider process sees only what the state records.
    const stack = stackAwsConfig(new pulumi.Config('aws'));
    const credentialName = args.name ?? name;
    // Pulumi records a stack trace for each promise it makes for a resource (four per property,
    // more for each output made from an input) and reads them only to report leaked promises under
    // PULUMI_DEBUG_PROMISE_LEAKS. Under a source-map handler (ts-node, tsx) each trace costs a
    // source-map lookup per frame, which is most of a program's time at hundreds of credentials:
    // everything below that makes outputs runs without them; nothing else runs meanwhile.
    const stackTraceLimit = Error.stackTraceLimit;
    if (!process.env.PULUMI_DEBUG_PROMISE_LEAKS) Error.stackTraceLimit = 0;
    try {
      const props: pulumi.Inputs = {
        // Only the arguments given: Pulumi makes promises for every property it is handed, even an
        // undefined one.
        ...given({
          prefix: args.prefix,
          clientSecretSource: args.clientSecretSource,
          policy: args.policy,
          rotatorFunctionName: args.rotatorFunctionName,
          recoveryWindowInDays: args.recoveryWindowInDays,
          tags: args.tags,
          kmsKeyId: args.kmsKeyId,
        }),
        name: credentialName,
        // The whole issuer block is secret: it holds the client secret or private key.
        issuer: pulumi.secret(args.issuer),
        aws: declaredAwsSettings(args.region, args.profile, stack),
        // Tagged on the secrets it makes: a retried `up` adopts what a killed one left.
        owner: ownerUrn(name, opts?.parent),
        codeVersion: CODE_VERSION,
        // The outputs only the provider knows; the others are derived from them below.
        tokenSecretArn: undefined,
        clientSecretArn: undefined,
        publicKeyPem: undefined,
        publicJwks: undefined,
      };
      super(
        SHARED_PROVIDER,
        name,
        props,
        { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), 'issuer'] },
        'token-rotator',
        'ProviderCredential',
      );
      // Derived from the token secret's ARN, so they carry the dependency on this credential and are
      // known exactly when it is. The provider does not return them: every property in the state
      // costs the engine work for each credential on each preview.
      const names = pulumi
        .all([this.tokenSecretArn, credentialName, args.prefix])
        .apply(([, declared, prefix]) => secretNames(declared, prefix ?? DEFAULT_PREFIX));
      this.tokenSecretName = names.token;
      this.clientSecretName = names.client;
      this.readPolicy = pulumi
        .all([this.tokenSecretArn, args.kmsKeyId])
        .apply(([arn, kmsKeyId]) => credentialReadPolicy(arn, kmsKeyId));
    } catch (error) {
      // Refused at once (bad options): the error gets the stack that leads to the declaration.
      Error.stackTraceLimit = stackTraceLimit;
      if (error instanceof Error) Error.captureStackTrace(error);
      throw error;
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }
}

/** The arguments that were given (a property Pulumi is handed costs time even when undefined). */
function given(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

/**
 * The URN the credential will have: known at once for a top-level resource (Pulumi's own
 * `createUrn` would wait on an output), through the parent's URN otherwise.
 */
function ownerUrn(name: string, parent: pulumi.Resource | undefined): pulumi.Input<string> {
  if (parent) return pulumi.createUrn(name, CREDENTIAL_TYPE, parent);
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${CREDENTIAL_TYPE}::${name}`;
}

/** The `aws:` keys a credential follows (`assumeRole` for `@pulumi/aws` 6, `assumeRoles` for 7). */
function stackAwsConfig(config: pulumi.Config): StackAwsConfig {
  return {
    region: config.get('region'),
    profile: config.get('profile'),
    assumeRole: config.getObject('assumeRole'),
    assumeRoles: config.getObject('assumeRoles'),
  };
}

/**
 * The settings to record: the arguments, the stack's `aws:` configuration, then the region the
 * SDK finds in this environment (`AWS_REGION`, or the profile's own region), as `@pulumi/aws`
 * falls back to it. A plain value when the arguments are plain and a region is named without
 * reading the profile, which is the usual case: no output to wait on.
 */
function declaredAwsSettings(
  region: pulumi.Input<string> | undefined,
  profile: pulumi.Input<string> | undefined,
  stack: StackAwsConfig,
): pulumi.Input<Partial<AwsSettings>> {
  if (typeof region !== 'object' && typeof profile !== 'object') {
    const declared = { region, profile };
    const named = resolveAwsSettings(declared, stack, environmentRegion());
    if (named.region) return named;
    return profileRegion(named.profile).then((found) => resolveAwsSettings(declared, stack, found));
  }
  return pulumi.all([region, profile]).apply(async ([r, p]) => {
    const declared = { region: r, profile: p };
    const named = resolveAwsSettings(declared, stack, environmentRegion());
    return named.region ? named : resolveAwsSettings(declared, stack, await profileRegion(named.profile));
  });
}

function environmentRegion(): string | undefined {
  return process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
}

/** The region of the profile in the shared AWS config files, as the SDK reads it (no request is made). */
async function profileRegion(profile: string | undefined): Promise<string | undefined> {
  const { SecretsManagerClient } =
    require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient(profile ? { profile } : {});
  try {
    return await client.config.region();
  } catch {
    // No region anywhere: `check` says how to set one.
    return undefined;
  } finally {
    client.destroy();
  }
}
