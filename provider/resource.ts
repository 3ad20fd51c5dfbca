/** The ProviderCredential resource: what a platform engineer writes in a Pulumi program. */
import * as pulumi from '@pulumi/pulumi';
import type { IssuerConfigInput } from '../core/issuers/config';
import type { RefreshPolicyInput } from '../core/policy';
import { CODE_VERSION } from '../core/version';
import { CredentialProvider, PROVIDER_RUNTIME_MODULE } from './provider';

type DeepInput<T> = T extends string | number | boolean | undefined
  ? pulumi.Input<T>
  : T extends (infer U)[]
    ? pulumi.Input<DeepInput<U>[]>
    : T extends object
      ? pulumi.Input<{ [K in keyof T]: DeepInput<T[K]> }>
      : pulumi.Input<T>;

/** Arguments of {@link ProviderCredential}. */
export interface ProviderCredentialArgs {
  /** Credential name in the secret names; defaults to the resource name. */
  name?: pulumi.Input<string>;
  /** Secret name prefix, default `token-rotator/`. */
  prefix?: pulumi.Input<string>;
  /** The token source: `{ kind: 'sirv' | 'aspose' | 'upload' | 'json' | 'oauth2' | 'header-jwt' | 'signed-jwt', … }`. */
  issuer: DeepInput<IssuerConfigInput>;
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
  declare readonly tokenSecretName: pulumi.Output<string>;
  declare readonly clientSecretArn: pulumi.Output<string>;
  declare readonly clientSecretName: pulumi.Output<string>;
  /** IAM policy JSON granting `secretsmanager:GetSecretValue` and `DescribeSecret` on this token secret only. */
  declare readonly readPolicy: pulumi.Output<string>;
  /** For kinds that sign (signed-jwt, private_key_jwt, jwt-bearer): the public key PEM to register with the service. */
  declare readonly publicKeyPem: pulumi.Output<string | undefined>;
  /** For `private_key_jwt` and `jwt-bearer`: the same public key as a JWKS (JSON text), to register where a JWKS is asked for. */
  declare readonly publicJwks: pulumi.Output<string | undefined>;

  constructor(name: string, args: ProviderCredentialArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      new CredentialProvider(PROVIDER_RUNTIME_MODULE),
      name,
      {
        name: args.name ?? name,
        prefix: args.prefix,
        // The whole issuer block is secret: it holds the client secret or private key.
        issuer: pulumi.secret(args.issuer),
        policy: args.policy,
        rotatorFunctionName: args.rotatorFunctionName,
        recoveryWindowInDays: args.recoveryWindowInDays,
        tags: args.tags,
        kmsKeyId: args.kmsKeyId,
        codeVersion: CODE_VERSION,
        tokenSecretArn: undefined,
        tokenSecretName: undefined,
        clientSecretArn: undefined,
        clientSecretName: undefined,
        readPolicy: undefined,
        publicKeyPem: undefined,
        publicJwks: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), 'issuer'] },
      'token-rotator',
      'ProviderCredential',
    );
  }
}
