/**
 * The inputs of a ProviderCredential and their validation for `check`: every failure names the
 * field and what is expected. Values that are still unknown (preview) pass through.
 */
import { TokenRotatorError } from '../core/errors';
import {
  ISSUER_KINDS,
  type IssuerConfig,
  type IssuerConfigInput,
  issuerConfigIssues,
  issuerConfigSchema,
  knownLifetime,
} from '../core/issuers/config';
import { readAssertionKey, readRsaSigningKey } from '../core/issuers/private-key';
import { type RefreshPolicyInput, refreshPolicySchema } from '../core/policy';
import {
  type ClientSecretSource,
  clientSecretSourceSchema,
  SOURCED_KINDS,
  SOURCED_STAND_IN,
  withSourcedStandIn,
} from '../core/store/client-secret-source';
import { CREDENTIAL_NAME_RULE, DEFAULT_PREFIX, isCredentialName, isPrefix, PREFIX_RULE } from '../core/token';
import * as z from '../core/zod';
import { type AwsSettings, awsSettingsSchema, MISSING_REGION_ADVICE, regionOfArn } from './aws-settings';
import { unknownKindReason } from './issuer-kind';
import { writeBudgetRefusal } from './write-budget';

/** Resolved inputs of a ProviderCredential, as the provider sees them. */
export interface CredentialInputs {
  /** Credential name; the secrets are `${prefix}${name}/client` and `/token`. */
  name: string;
  prefix: string;
  /**
   * The issuer as declared (outputs echo it, so `diff` compares like with like); without
   * `clientSecret` when `clientSecretSource` is given.
   */
  issuer: IssuerConfigInput;
  /** Where the client secret is kept instead of `issuer.clientSecret`: read at create/update and by the rotator, never stored here. */
  clientSecretSource?: ClientSecretSource | undefined;
  policy?: RefreshPolicyInput | undefined;
  rotatorFunctionName?: string | undefined;
  recoveryWindowInDays?: number | undefined;
  tags?: Record<string, string> | undefined;
  kmsKeyId?: string | undefined;
  /**
   * Where the secrets live and who reaches them, recorded when the resource was declared.
   * Absent only for a direct caller of the runtime: the SDK's standard configuration then.
   */
  aws?: Partial<AwsSettings> | undefined;
  /** The declaring resource's URN: tagged on the secrets it makes, so a retried `up` adopts its own. */
  owner?: string | undefined;
  /** Version of the provider code that last wrote this credential (drives `diff`). */
  codeVersion: string;
}

/** One `check` failure: the property at fault and what is expected. */
export interface CheckFailure {
  property: string;
  reason: string;
}

/** The placeholder Pulumi passes for values not known yet (preview). */
export const UNKNOWN = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

/** True when the value, or anything inside it, is not known yet. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsUnknown);
  return false;
}

const credentialName = z
  .string({ error: 'expected the credential name as a string' })
  .check(
    z.minLength(1, { error: 'expected a non-empty credential name' }),
    z.maxLength(64, { error: 'expected a credential name of at most 64 characters' }),
    z.refine(isCredentialName, { error: `expected a credential name of ${CREDENTIAL_NAME_RULE}` }),
  );

const prefix = z
  .string({ error: 'expected prefix as a string' })
  .check(
    z.maxLength(256, { error: 'expected a prefix of at most 256 characters' }),
    z.refine(isPrefix, { error: `expected a prefix of ${PREFIX_RULE}` }),
  );

const topLevel = z.strictObject({
  name: credentialName,
  prefix: z._default(prefix, DEFAULT_PREFIX),
  // Judged on their own below, with the issuer schema's field-named messages.
  issuer: z.optional(z.unknown()),
  clientSecretSource: z.optional(z.unknown()),
  policy: z.optional(z.unknown()),
  aws: z.optional(z.unknown()),
  owner: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
  rotatorFunctionName: z.optional(
    z.string({ error: 'expected rotatorFunctionName as a string' }).check(
      z.regex(/^(arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/, {
        error: 'expected a Lambda function name or ARN (letters, digits, - and _, at most 64 characters)',
      }),
    ),
  ),
  recoveryWindowInDays: z.optional(
    z.number({ error: 'expected recoveryWindowInDays as a number' }).check(
      z.int({ error: 'expected recoveryWindowInDays as a whole number' }),
      z.refine((d) => d === 0 || (d >= 7 && d <= 30), {
        error: 'expected recoveryWindowInDays of 7 to 30, or 0 to delete without recovery',
      }),
    ),
  ),
  tags: z.optional(
    z
      .record(
        z.string().check(
          z.minLength(1),
          z.maxLength(128, { error: 'expected tag keys of at most 128 characters' }),
          z.refine((k) => !k.startsWith('token-rotator:') && !k.startsWith('aws:'), {
            error: 'tag keys starting with "token-rotator:" or "aws:" are reserved',
          }),
        ),
        z.string().check(z.maxLength(256, { error: 'expected tag values of at most 256 characters' })),
        {
          error: (issue) => (issue.code === 'invalid_type' ? 'expected tags as an object of string values' : undefined),
        },
      )
      .check(
        z.refine((t) => Object.keys(t).length <= 40, {
          error: 'expected at most 40 tags (Secrets Manager allows 50, we use up to 10)',
        }),
      ),
  ),
  kmsKeyId: z.optional(
    z
      .string({ error: 'expected kmsKeyId as a string' })
      .check(z.minLength(1, { error: 'expected a non-empty kmsKeyId (a key id, alias or ARN)' }), z.maxLength(2048)),
  ),
  codeVersion: z.string().check(z.minLength(1)),
});

/** What {@link checkInputs} makes of a resource's inputs. */
export interface CheckedInputs {
  /** The inputs with their defaults, as the engine keeps them. */
  inputs: Record<string, unknown>;
  failures: CheckFailure[];
  /**
   * With no failure and nothing unknown: the inputs typed, and the issuer parsed (defaults filled
   * in) as the issuers take it, so no later step parses it again.
   */
  credential?: { inputs: CredentialInputs; issuer: IssuerConfig } | undefined;
}

/**
 * Validates and normalises the inputs. Returns every failure at once, each naming its field.
 * Fields whose value is unknown (during preview) are not judged.
 */
export function checkInputs(all: Record<string, unknown>): CheckedInputs {
  // The dynamic provider framework adds its own `__provider` (the serialized provider): not ours to judge.
  const news = Object.fromEntries(Object.entries(all).filter(([key]) => !key.startsWith('__')));
  const failures: CheckFailure[] = [];
  const top = topLevel.safeParse(news);
  const inputs: Record<string, unknown> = { ...news };
  if (!top.success) {
    for (const issue of top.error.issues) {
      const path = issue.path.map(String);
      if (containsUnknown(pathValue(news, path))) continue;
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys)
          failures.push({ property: key, reason: `unknown field "${key}"; remove it or check the spelling` });
      } else if (issue.code === 'invalid_key') {
        // A record key's own refinement (e.g. a reserved tag prefix) is nested one level down.
        failures.push({ property: path.join('.'), reason: issue.issues[0]?.message ?? issue.message });
      } else {
        failures.push({ property: path.join('.') || 'name', reason: issue.message });
      }
    }
  } else {
    Object.assign(inputs, top.data);
  }

  const issuer = news.issuer;
  const sourced = news.clientSecretSource !== undefined && news.clientSecretSource !== null;
  if (sourced) failures.push(...sourceFailures(news.clientSecretSource, issuer, news.aws));
  let parsedIssuer: IssuerConfig | undefined;
  if (issuer === undefined || issuer === null) {
    failures.push({
      property: 'issuer',
      reason:
        'expected an issuer object with a kind (sirv, aspose, upload, google-service-account, salesforce, json, oauth2, header-jwt, signed-jwt, jwt-bearer)',
    });
  } else if (!containsUnknown(issuer)) {
    // With a source, the issuer is judged with a stand-in for the client secret it will be given
    // (create or update puts the value read in its place: withSourcedClientSecret).
    const parsed = issuerConfigSchema.safeParse(sourced ? withSourcedStandIn(issuer) : issuer);
    if (!parsed.success) {
      const kind = (issuer as { kind?: unknown }).kind;
      for (const { field, reason } of issuerConfigIssues(parsed.error.issues, 'issuer')) {
        const unknownKind =
          field === 'issuer.kind' && typeof kind === 'string' && !ISSUER_KINDS.includes(kind as never);
        failures.push({ property: field, reason: unknownKind ? unknownKindReason(kind) : reason });
      }
    } else {
      parsedIssuer = parsed.data;
      const keyFailure = signingKeyFailure(parsed.data);
      if (keyFailure) failures.push(keyFailure);
    }
  }

  const policy = news.policy;
  if (policy !== undefined && !containsUnknown(policy)) {
    const parsed = refreshPolicySchema.safeParse(policy);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const property = ['policy', ...issue.path.map(String)].join('.');
        failures.push({
          property,
          reason: issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message,
        });
      }
    }
  }

  failures.push(...awsFailures(news.aws));

  // The write budget can be judged now when the lifetime is known from the configuration; other
  // kinds are judged against the real first token in `create`.
  if (failures.length > 0 || parsedIssuer === undefined || containsUnknown(policy)) return { inputs, failures };
  // Valid, so the issuer as written is an IssuerConfigInput: its own fields tell a default from a value the user set.
  const lifetime = knownLifetime(issuer as IssuerConfigInput);
  const refusal = lifetime && writeBudgetRefusal(typeof news.name === 'string' ? news.name : '?', lifetime, policy);
  if (refusal) return { inputs, failures: [{ property: 'policy', reason: refusal }] };
  if (containsUnknown(news)) return { inputs, failures };
  // Every field was validated above, each by its own schema: the record is now what CredentialInputs describes.
  return { inputs, failures, credential: { inputs: inputs as unknown as CredentialInputs, issuer: parsedIssuer } };
}

/** The checked issuer with the client secret read from its source in place of the stand-in. */
export function withSourcedClientSecret(issuer: IssuerConfig, value: string): IssuerConfig {
  if (!('clientSecret' in issuer) || issuer.clientSecret !== SOURCED_STAND_IN) {
    throw new TypeError('withSourcedClientSecret takes an issuer checked with a clientSecretSource');
  }
  return { ...issuer, clientSecret: value };
}

/**
 * `clientSecretSource`: well formed, in the credential's region, given for a kind that has a
 * client secret, and never beside `issuer.clientSecret`.
 */
function sourceFailures(source: unknown, issuer: unknown, aws: unknown): CheckFailure[] {
  if (containsUnknown(source)) return [];
  const parsed = clientSecretSourceSchema.safeParse(source);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => ({
      property: ['clientSecretSource', ...issue.path.map(String)].join('.'),
      reason:
        issue.code === 'unrecognized_keys'
          ? `unknown field(s) ${issue.keys.join(', ')}; clientSecretSource takes secretArn and jsonKey`
          : issue.message,
    }));
  }
  const failures: CheckFailure[] = [];
  const region = regionOfArn(parsed.data.secretArn);
  const credentialRegion = (aws as { region?: unknown } | undefined)?.region;
  if (typeof credentialRegion === 'string' && !containsUnknown(credentialRegion) && region !== credentialRegion) {
    failures.push({
      property: 'clientSecretSource.secretArn',
      reason: `expected a secret in the credential's region ${credentialRegion} (the rotator reads it there), got one in ${region}; replicate the secret to ${credentialRegion} and give that replica's ARN`,
    });
  }
  if (issuer === null || typeof issuer !== 'object' || containsUnknown(issuer)) return failures;
  const { kind, authMethod } = issuer as { kind?: unknown; authMethod?: unknown };
  if ('clientSecret' in issuer) {
    failures.push({
      property: 'clientSecretSource',
      reason:
        'expected either issuer.clientSecret or clientSecretSource, not both; remove issuer.clientSecret to read the client secret from the source',
    });
  }
  if (typeof kind === 'string' && ISSUER_KINDS.includes(kind as never)) {
    if (!SOURCED_KINDS.has(kind)) {
      failures.push({
        property: 'clientSecretSource',
        reason: `a ${kind} issuer has no client secret to read; remove clientSecretSource (it is for sirv, aspose, json, oauth2, header-jwt and jwt-bearer)`,
      });
    } else if (kind === 'oauth2' && authMethod === 'private_key_jwt') {
      failures.push({
        property: 'clientSecretSource',
        reason:
          'authMethod "private_key_jwt" authenticates with a key, not a client secret; remove clientSecretSource or use client_secret_post / client_secret_basic',
      });
    }
  }
  return failures;
}

/** The recorded AWS settings: a region must be known, every other field well formed. */
function awsFailures(aws: unknown): CheckFailure[] {
  if (aws === undefined || containsUnknown(aws)) return [];
  const parsed = awsSettingsSchema.safeParse(aws);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => ({
      property: ['aws', ...issue.path.map(String)].join('.'),
      reason:
        issue.code === 'unrecognized_keys'
          ? `unknown field(s) ${issue.keys.join(', ')}; remove them or check the spelling`
          : issue.message,
    }));
  }
  return parsed.data.region ? [] : [{ property: 'aws.region', reason: MISSING_REGION_ADVICE }];
}

/**
 * A given signing key must be one create would accept, judged at check: RSA of 2048 bits or more
 * for signed-jwt kinds, that or EC P-256 for the kinds that sign assertions.
 */
function signingKeyFailure(issuer: IssuerConfig): CheckFailure | undefined {
  if (!('privateKeyPem' in issuer) || issuer.privateKeyPem === undefined) return undefined;
  try {
    if (issuer.kind === 'signed-jwt' || issuer.kind === 'upload') readRsaSigningKey(issuer.privateKeyPem, undefined);
    else readAssertionKey(issuer.privateKeyPem, undefined);
    return undefined;
  } catch (e) {
    if (!(e instanceof TokenRotatorError)) throw e;
    // The message names the field and what is wrong with the key, never the key.
    return {
      property: 'issuer.privateKeyPem',
      reason: e.message.replace(/^(Credential "[^"]*": )?issuer\.privateKeyPem /, ''),
    };
  }
}

function pathValue(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
