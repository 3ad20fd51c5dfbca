/**
 * The platform stack program that the root `Pulumi.yaml` runs: one TokenRotator and one
 * ProviderCredential per entry of the stack config, with the secrets from `pulumi config set
 * --secret`.
 *
 * ```sh
 * pulumi config set --path 'credentials[0].name' sirv-prod
 * pulumi config set --path 'credentials[0].issuer.kind' sirv
 * pulumi config set --path 'credentials[0].issuer.clientId' ZcnZNfzwRhQExoHFoGpxWJ4p2R
 * pulumi config set --secret secret-sirv-prod 'TM3d0CfX…'      # the client secret
 * pulumi up
 * ```
 */
import * as pulumi from '@pulumi/pulumi';
import { InvalidConfigurationError } from '../core/errors';
import { DEFAULT_PREFIX } from '../core/store';
import { ProviderCredential } from '../provider/resource';
import type { TokenRotatorArgs } from './settings';
import { TokenRotator } from './token-rotator';

/** One credential in the stack config: everything but its secret. */
export interface CredentialSpec {
  name: string;
  /** The issuer block without `clientSecret` / `privateKeyPem` (those come from `secret-NAME`). */
  issuer: { kind: string } & Record<string, unknown>;
  policy?: Record<string, unknown>;
  tags?: Record<string, string>;
  recoveryWindowInDays?: number;
}

const SIGNED_KINDS = new Set(['signed-jwt', 'upload']);
const SECRET_FIELDS = ['clientSecret', 'privateKeyPem'];

/** The config key holding a credential's secret. */
export function secretKeyOf(name: string): string {
  return `secret-${name}`;
}

/** What the platform stack exports. */
export interface PlatformOutputs {
  rotatorFunctionName: pulumi.Output<string>;
  credentials: Record<
    string,
    {
      tokenSecretArn: pulumi.Output<string>;
      readPolicy: pulumi.Output<string>;
      publicKeyPem: pulumi.Output<string | undefined>;
    }
  >;
}

/**
 * Builds the platform stack from config. Config keys (project namespace): `prefix` (or
 * `rotator.prefix`; both only if equal), `rotator` (TokenRotator args), `issueThroughRotator`
 * (default true: first tokens come through the deployed Lambda, from its network), `credentials` (a list of {@link CredentialSpec}), and one
 * secret `secret-NAME` per credential (the client secret; for signed-jwt kinds an optional PEM
 * private key, generated when absent).
 */
export function platform(config: pulumi.Config = new pulumi.Config()): PlatformOutputs {
  const rotatorArgs = config.getObject<TokenRotatorArgs>('rotator') ?? {};
  const prefix = stackPrefix(config.get('prefix'), rotatorArgs.prefix);
  const rotator = new TokenRotator('token-rotator', { ...rotatorArgs, prefix });
  const throughRotator = config.getBoolean('issueThroughRotator') ?? true;
  const specs = config.requireObject<CredentialSpec[]>('credentials');
  if (!Array.isArray(specs)) {
    throw new InvalidConfigurationError('config "credentials": expected a list of { name, issuer: { kind, … } }', {
      field: 'credentials',
    });
  }

  const credentials: PlatformOutputs['credentials'] = {};
  specs.forEach((spec, index) => {
    const where = `config "credentials[${index}]"`;
    if (!spec || typeof spec.name !== 'string' || !spec.issuer || typeof spec.issuer.kind !== 'string') {
      throw new InvalidConfigurationError(`${where}: expected { name, issuer: { kind, … } }`, {
        field: `credentials[${index}]`,
      });
    }
    const leaked = SECRET_FIELDS.filter((f) => f in spec.issuer);
    if (leaked.length > 0) {
      throw new InvalidConfigurationError(
        `${where}: ${leaked.join(', ')} must not be in plain config; remove it and run ` +
          `\`pulumi config set --secret ${secretKeyOf(spec.name)} …\``,
        { field: `credentials[${index}].issuer.${leaked[0]}` },
      );
    }
    const signed = SIGNED_KINDS.has(spec.issuer.kind);
    const secret = signed ? config.getSecret(secretKeyOf(spec.name)) : requireSecret(config, spec.name);
    const issuer = secret
      ? pulumi
          .all([secret])
          .apply(([value]) => ({ ...spec.issuer, [signed ? 'privateKeyPem' : 'clientSecret']: value }))
      : spec.issuer;
    const credential = new ProviderCredential(spec.name, {
      prefix,
      issuer: issuer as ProviderCredentialIssuer,
      policy: spec.policy,
      tags: spec.tags,
      recoveryWindowInDays: spec.recoveryWindowInDays,
      rotatorFunctionName: throughRotator ? rotator.functionName : undefined,
    });
    credentials[spec.name] = {
      tokenSecretArn: credential.tokenSecretArn,
      readPolicy: credential.readPolicy,
      publicKeyPem: credential.publicKeyPem,
    };
  });
  return { rotatorFunctionName: rotator.functionName, credentials };
}

/**
 * The one prefix of the rotator and its credentials: config `prefix`, or `rotator.prefix` (a
 * TokenRotator argument like the others), or the default. Both set and different is refused: the
 * credentials would land where the rotator never looks.
 */
function stackPrefix(top: string | undefined, ofRotator: unknown): string {
  if (ofRotator !== undefined && top !== undefined && ofRotator !== top) {
    throw new InvalidConfigurationError(
      `config "prefix" (${JSON.stringify(top)}) and "rotator.prefix" (${JSON.stringify(ofRotator)}) disagree: the rotator and its credentials share one prefix; set one of them (\`pulumi config rm --path rotator.prefix\` or \`pulumi config rm prefix\`)`,
      { field: 'rotator.prefix' },
    );
  }
  // A non-string rotator.prefix goes on to the TokenRotator, whose settings name the field.
  return top ?? (ofRotator as string | undefined) ?? DEFAULT_PREFIX;
}

type ProviderCredentialIssuer = ConstructorParameters<typeof ProviderCredential>[1]['issuer'];

function requireSecret(config: pulumi.Config, name: string): pulumi.Output<string> {
  const value = config.getSecret(secretKeyOf(name));
  if (value === undefined) {
    throw new InvalidConfigurationError(
      `Credential "${name}" has no client secret in the stack config; run \`pulumi config set --secret ${secretKeyOf(name)} <client secret>\``,
      { credential: name, field: secretKeyOf(name) },
    );
  }
  return value;
}
