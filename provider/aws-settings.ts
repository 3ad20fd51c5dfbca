/**
 * Where a credential's secrets live and who reaches them: the AWS region, profile and assumed
 * roles of a ProviderCredential. They are resolved once, when the program declares the resource
 * (from its arguments, else Pulumi's `aws:` configuration, as `@pulumi/aws` resolves them), and
 * recorded in the resource's state, so `refresh`, `update` and `destroy` reach the same secrets
 * from any shell. Only names travel: a region, a profile name, role ARNs; never a credential.
 */
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError, StoreError } from '../core/errors';
import * as z from '../core/zod';

/** Role chains longer than this are refused: each link is one STS call before any work. */
export const MAX_ASSUMED_ROLES = 5;

const REGION_PATTERN = /^[a-z]{2,}(-[a-z]+)+-\d{1,2}$/;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** One role to assume: what `aws:assumeRole` (or each entry of `aws:assumeRoles`) names. */
export interface AssumedRole {
  roleArn: string;
  sessionName?: string | undefined;
  /**
   * An identifier, not a credential: AWS documents it as "an optional identifier that you can use
   * in an IAM role trust policy to designate who can assume the role" (the confused deputy problem).
   */
  externalId?: string | undefined;
}

/** The AWS settings recorded with a credential. */
export interface AwsSettings {
  /** Where both secrets live; a new region replaces the credential. */
  region: string;
  /** A profile of the shared AWS config files; absent: the standard credential chain. */
  profile?: string | undefined;
  /** Roles assumed in turn (a chain) before any call, from the profile's or the chain's credentials. */
  assumeRoles?: AssumedRole[] | undefined;
}

const roleSchema = z.strictObject({
  roleArn: z.string({ error: 'expected roleArn as a string' }).check(
    z.regex(ROLE_ARN_PATTERN, {
      error: 'expected an IAM role ARN such as arn:aws:iam::123456789012:role/platform-deployer',
    }),
  ),
  sessionName: z.optional(
    z.string().check(
      z.regex(/^[\w+=,.@-]{2,64}$/, {
        error: 'expected a role session name of 2 to 64 letters, digits and _+=,.@-',
      }),
    ),
  ),
  externalId: z.optional(
    z.string().check(
      z.regex(/^[\w+=,.@:/-]{2,1224}$/, {
        error: 'expected an external ID of 2 to 1224 letters, digits and _+=,.@:/-',
      }),
    ),
  ),
});

/** Schema of the recorded `aws` input; a missing region is judged apart, with its own advice. */
export const awsSettingsSchema = z.strictObject({
  region: z.optional(
    z
      .string({ error: 'expected region as a string' })
      .check(z.regex(REGION_PATTERN, { error: 'expected an AWS region name such as us-east-1 or eu-central-1' })),
  ),
  profile: z.optional(
    z.string({ error: 'expected profile as a string' }).check(
      z.regex(/^[\w+=,.@:/-]{1,128}$/, {
        error: 'expected an AWS profile name (letters, digits and _+=,.@:/-, at most 128 characters)',
      }),
    ),
  ),
  assumeRoles: z.optional(
    z
      .array(roleSchema)
      .check(
        z.maxLength(MAX_ASSUMED_ROLES, { error: `expected at most ${MAX_ASSUMED_ROLES} roles to assume in turn` }),
      ),
  ),
});

/** What `check` says when no region was found anywhere. */
export const MISSING_REGION_ADVICE =
  "no AWS region for this credential's secrets. Set the stack's region (pulumi config set aws:region us-east-1), " +
  'or pass region to ProviderCredential';

/** The role fields of `aws:assumeRole` / `aws:assumeRoles` that the provider applies. */
interface RoleConfig {
  roleArn?: unknown;
  sessionName?: unknown;
  externalId?: unknown;
}

/** The `aws:` configuration of a stack, as `new pulumi.Config('aws')` gives it. */
export interface StackAwsConfig {
  region?: string | undefined;
  profile?: string | undefined;
  /** `@pulumi/aws` 6: one role. */
  assumeRole?: RoleConfig | undefined;
  /** `@pulumi/aws` 7: roles assumed in turn. */
  assumeRoles?: RoleConfig[] | undefined;
}

/**
 * The settings a credential records: its own `region` / `profile` arguments first, then the
 * stack's `aws:` configuration, then (for the region only, as `@pulumi/aws` does) `AWS_REGION` /
 * `AWS_DEFAULT_REGION` or the profile's own region, which `fallbackRegion` supplies. The profile
 * is never taken from the shell: it names who runs `pulumi`, not where the secrets are.
 * `region` is left out when nothing names one: `check` then says how to set it.
 */
export function resolveAwsSettings(
  declared: { region?: string | undefined; profile?: string | undefined },
  stack: StackAwsConfig,
  fallbackRegion?: string | undefined,
): Partial<AwsSettings> {
  const region = declared.region ?? stack.region ?? fallbackRegion;
  const profile = declared.profile ?? stack.profile;
  const roles = (stack.assumeRoles ?? (stack.assumeRole ? [stack.assumeRole] : [])).map(
    (r): AssumedRole => ({
      roleArn: String(r.roleArn ?? ''),
      ...(typeof r.sessionName === 'string' ? { sessionName: r.sessionName } : {}),
      ...(typeof r.externalId === 'string' ? { externalId: r.externalId } : {}),
    }),
  );
  return {
    ...(region ? { region } : {}),
    ...(profile ? { profile } : {}),
    ...(roles.length > 0 ? { assumeRoles: roles } : {}),
  };
}

/** The region of a Secrets Manager ARN (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:…`). */
export function regionOfArn(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const region = arn.split(':')[3];
  return region && REGION_PATTERN.test(region) ? region : undefined;
}

/**
 * The settings a stored credential was written with. A state written before settings were
 * recorded has none: its secrets' ARNs still say which region they are in. A direct caller of
 * the runtime that passes neither gets the SDK's standard configuration.
 */
export function recordedSettings(props: Record<string, unknown>): Partial<AwsSettings> {
  const parsed = awsSettingsSchema.safeParse(props.aws ?? {});
  const recorded: Partial<AwsSettings> = parsed.success ? parsed.data : {};
  const region = recorded.region ?? regionOfArn(props.tokenSecretArn) ?? regionOfArn(props.clientSecretArn);
  return { ...recorded, ...(region ? { region } : {}) };
}

/** The configuration of an AWS SDK client that reaches a credential's secrets. */
export interface AwsClientConfig {
  region?: string;
  profile?: string;
  credentials?: AwsCredentials;
  maxAttempts: number;
}

/**
 * Attempts of each AWS call the provider makes (exponential backoff with full jitter, capped at
 * 20 s; Secrets Manager calls also share a rate limiter, see aws-clients.ts). One `up` or `destroy`
 * of hundreds of credentials runs many calls at once against Secrets Manager's write quota; with
 * the SDK's default of 3 attempts a throttled call can fail the resource within a second, while ten
 * attempts wait out several seconds of a saturated quota.
 */
export const PROVIDER_MAX_ATTEMPTS = 10;

/** A credentials provider as every SDK client's configuration takes it. */
type AwsCredentials = NonNullable<Exclude<SecretsManagerClientConfig['credentials'], { accessKeyId: string }>>;

/** SDK client configuration for these settings: region, profile, and the assumed roles' credentials. */
export function clientConfig(settings: Partial<AwsSettings>): AwsClientConfig {
  const config: AwsClientConfig = {
    maxAttempts: PROVIDER_MAX_ATTEMPTS,
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.profile ? { profile: settings.profile } : {}),
  };
  if (settings.assumeRoles && settings.assumeRoles.length > 0) {
    // Required lazily: the provider process loads SDKs only when a method runs.
    const { fromIni, fromNodeProviderChain, fromTemporaryCredentials } =
      require('@aws-sdk/credential-providers') as typeof import('@aws-sdk/credential-providers');
    // The first role is assumed with the profile's credentials (or the standard chain's), each
    // next one with the previous role's.
    let credentials: AwsCredentials = settings.profile
      ? fromIni({ profile: settings.profile })
      : fromNodeProviderChain();
    for (const role of settings.assumeRoles) {
      credentials = fromTemporaryCredentials({
        params: {
          RoleArn: role.roleArn,
          RoleSessionName: role.sessionName ?? 'token-rotator',
          ...(role.externalId ? { ExternalId: role.externalId } : {}),
        },
        masterCredentials: credentials,
        clientConfig: settings.region ? { region: settings.region } : {},
      });
    }
    config.credentials = credentials;
  }
  return config;
}

/** A short description of the settings, for messages: `region us-east-1, profile "platform"`. */
export function describeSettings(settings: Partial<AwsSettings>): string {
  const parts = [settings.region ? `region ${settings.region}` : 'no region'];
  if (settings.profile) parts.push(`profile "${settings.profile}"`);
  for (const role of settings.assumeRoles ?? []) parts.push(`role ${role.roleArn}`);
  return parts.join(', ');
}

const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenProviderError']);
const REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied']);

function* chain(error: unknown): Generator<Error> {
  let current: unknown = error;
  // Bounded: a cause chain is short, and a cycle must not hang the provider.
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    yield current;
    current = current.cause;
  }
}

/**
 * A failure of the AWS configuration (no region, no credentials, expired or rejected
 * credentials, access denied), rewritten to say where the provider looked and what to do; any
 * other error is returned as it is. The SDK's own message is left out: it says neither.
 */
export function explainAwsFailure(error: unknown, credential: string, settings: Partial<AwsSettings>): unknown {
  // A source the deployer may not read is refused with the permission it needs on that secret.
  if (error instanceof InvalidConfigurationError && error.field?.startsWith('clientSecretSource')) return error;
  const who = `Credential "${credential}"`;
  const where = describeSettings(settings);
  const identity = settings.profile
    ? `Check that profile "${settings.profile}" exists in this machine's AWS config files (for SSO: aws sso login --profile ${settings.profile})`
    : 'Configure AWS credentials for pulumi: a profile (pulumi config set aws:profile NAME), AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, aws sso login, or an instance role';
  for (const e of chain(error)) {
    const name = (e as { reason?: unknown }).reason ?? e.name;
    if (/Region is missing/i.test(e.message)) {
      return new InvalidConfigurationError(`${who}: ${MISSING_REGION_ADVICE}.`, {
        credential,
        field: 'region',
        cause: error,
      });
    }
    if (e.name === 'CredentialsProviderError' || name === 'CredentialsProviderError') {
      return new StoreError(`${who}: no AWS credentials could be loaded (${where}). ${identity}, then run it again.`, {
        credential,
        reason: 'CredentialsProviderError',
        transient: false,
        cause: error,
      });
    }
    if (typeof name === 'string' && EXPIRED.has(name)) {
      return new StoreError(
        `${who}: the AWS credentials have expired (${where}). Renew them (aws sso login, or a new session), then run it again.`,
        { credential, reason: name, transient: false, cause: error },
      );
    }
    if (typeof name === 'string' && REJECTED.has(name)) {
      return new StoreError(
        `${who}: AWS rejected the credentials (${name}; ${where}). ${identity}, then run it again.`,
        { credential, reason: name, transient: false, cause: error },
      );
    }
    if (typeof name === 'string' && DENIED.has(name)) {
      const role = settings.assumeRoles?.length ? ' or the roles to assume trust it' : '';
      return new StoreError(
        `${who}: AWS denied access (${name}; ${where}). Check that this identity may use the credential's secrets${role} ` +
          '(docs/provider.md lists the IAM actions), then run it again.',
        { credential, reason: name, transient: false, cause: error },
      );
    }
  }
  return error;
}
