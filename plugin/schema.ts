/**
 * The Pulumi package schema of the `token-rotator` provider plugin, derived from the zod schemas
 * the provider validates with (core/issuers/config.ts, core/policy.ts), so a field added to an
 * issuer kind appears in every language's SDK without a second list to keep in step.
 *
 * Pulumi schemas have no tagged unions: the issuer is one object type with a `kind` discriminator
 * and, as optional properties, the union of every kind's fields. Which fields a kind accepts is
 * judged by the provider's `check`, with the same field-named messages as the dynamic provider.
 */

import { issuerConfigSchema } from '../core/issuers/config';
import { refreshPolicySchema } from '../core/policy';
import { clientSecretSourceSchema } from '../core/store/client-secret-source';
import * as z from '../core/zod';
import { ROTATOR_INPUTS, ROTATOR_OUTPUTS } from './rotator-args';

/** The package name: plugin binary `pulumi-resource-token-rotator`, tokens `token-rotator:index:…`. */
export const PACKAGE_NAME = 'token-rotator';
/** Where `pulumi plugin install` fetches release archives from (GitHub releases of the repository). */
export const PLUGIN_DOWNLOAD_URL = 'github://api.github.com/token-rotator/token-rotator';
export const CREDENTIAL_TOKEN = `${PACKAGE_NAME}:index:Credential`;
/** The component that deploys the rotator Lambda: the same token as the TypeScript component's type. */
export const ROTATOR_TOKEN = `${PACKAGE_NAME}:index:TokenRotator`;
const ISSUER_TYPE = `${PACKAGE_NAME}:index:Issuer`;
const ISSUER_KMS_TYPE = `${PACKAGE_NAME}:index:IssuerKmsKey`;
const POLICY_TYPE = `${PACKAGE_NAME}:index:RefreshPolicy`;
const CLIENT_SECRET_SOURCE_TYPE = `${PACKAGE_NAME}:index:ClientSecretSource`;

/** Fields of the issuer block that hold a secret: marked secret in every SDK. */
const SECRET_ISSUER_FIELDS = new Set(['clientSecret', 'privateKeyPem']);

/** A Pulumi schema type reference or inline type. */
export type TypeSpec = Record<string, unknown>;

interface JsonSchema {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
}

function jsonSchemaOf(schema: unknown): JsonSchema {
  // Input form: fields with defaults are optional, as a program writes them.
  return z.toJSONSchema(schema as z.ZodMiniType, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** Maps one JSON Schema (as zod emits it) to a Pulumi type spec. */
export function pulumiType(schema: JsonSchema, nestedObject?: string): TypeSpec {
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return { oneOf: union.map((s) => pulumiType(s)) };
  switch (schema.type) {
    case 'string':
    case 'integer':
    case 'number':
    case 'boolean':
      return { type: schema.type };
    case 'array':
      return { type: 'array', items: schema.items ? pulumiType(schema.items) : { $ref: 'pulumi.json#/Any' } };
    case 'object': {
      if (schema.properties && Object.keys(schema.properties).length > 0) {
        if (!nestedObject) throw new Error('an object with named properties needs a named type');
        return { $ref: `#/types/${nestedObject}` };
      }
      const values = schema.additionalProperties;
      const valueType =
        values && typeof values === 'object' && values.type ? pulumiType(values) : { $ref: 'pulumi.json#/Any' };
      return { type: 'object', additionalProperties: valueType };
    }
    default:
      return { $ref: 'pulumi.json#/Any' };
  }
}

interface PropertySpec extends TypeSpec {
  description?: string;
}

/** The issuer object type: `kind` plus every kind's fields, each saying which kinds use it. */
function issuerType(): { issuer: TypeSpec; kms: TypeSpec } {
  const variants = (jsonSchemaOf(issuerConfigSchema).oneOf ?? jsonSchemaOf(issuerConfigSchema).anyOf ?? []).map(
    (v) => ({ kind: String(v.properties?.kind?.const), schema: v }),
  );
  if (variants.length === 0) throw new Error('the issuer schema has no variants');
  const fields = new Map<string, { kinds: string[]; schema: JsonSchema; defaults: Map<string, unknown> }>();
  let kmsSchema: JsonSchema | undefined;
  for (const { kind, schema } of variants) {
    for (const [field, spec] of Object.entries(schema.properties ?? {})) {
      if (field === 'kind') continue;
      const entry = fields.get(field) ?? { kinds: [] as string[], schema: spec, defaults: new Map<string, unknown>() };
      entry.kinds.push(kind);
      if (spec.default !== undefined) entry.defaults.set(kind, spec.default);
      fields.set(field, entry);
      if (field === 'kms') kmsSchema = spec;
    }
  }
  const properties: Record<string, PropertySpec> = {
    kind: {
      type: 'string',
      description: `The token source: one of ${variants.map((v) => v.kind).join(', ')}. Decides which other fields apply.`,
    },
  };
  for (const [field, { kinds, schema, defaults }] of [...fields].sort(([a], [b]) => a.localeCompare(b))) {
    const defaultNote = [...defaults].map(([kind, value]) => `${JSON.stringify(value)} for ${kind}`).join(', ');
    const enumNote = schema.enum ? ` One of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}.` : '';
    properties[field] = {
      ...pulumiType(schema, ISSUER_KMS_TYPE),
      description: `Used by kinds: ${kinds.join(', ')}.${enumNote}${defaultNote ? ` Default: ${defaultNote}.` : ''}`,
      ...(SECRET_ISSUER_FIELDS.has(field) ? { secret: true } : {}),
    };
  }
  const kmsProperties: Record<string, PropertySpec> = {};
  for (const [field, spec] of Object.entries(kmsSchema?.properties ?? {})) kmsProperties[field] = pulumiType(spec);
  return {
    issuer: {
      type: 'object',
      description:
        'Where tokens come from. `kind` picks the issuer; see the token-rotator docs for the fields of each kind.',
      properties,
      required: ['kind'],
    },
    kms: {
      type: 'object',
      description: 'An AWS KMS asymmetric key that signs in place of a private key kept in the client secret.',
      properties: kmsProperties,
      required: kmsSchema?.required ?? [],
    },
  };
}

function policyType(): TypeSpec {
  const schema = jsonSchemaOf(refreshPolicySchema);
  return {
    type: 'object',
    description: 'When to refresh: fraction of the lifetime, jitter, margin and write budget.',
    properties: Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, pulumiType(v)])),
  };
}

function clientSecretSourceType(): TypeSpec {
  const schema = jsonSchemaOf(clientSecretSourceSchema);
  return {
    type: 'object',
    description:
      'An existing Secrets Manager secret holding the client secret: its whole value, or the string field `jsonKey` of its JSON.',
    properties: Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, pulumiType(v)])),
    required: schema.required ?? [],
  };
}

const CREDENTIAL_INPUTS: Record<string, PropertySpec> = {
  name: {
    type: 'string',
    description: 'Credential name in the secret names; defaults to the resource name.',
  },
  prefix: { type: 'string', description: 'Secret name prefix, default `token-rotator/`.' },
  issuer: {
    $ref: `#/types/${ISSUER_TYPE}`,
    description: 'The token source. The whole block is secret: it holds the client secret or private key.',
    secret: true,
  },
  clientSecretSource: {
    $ref: `#/types/${CLIENT_SECRET_SOURCE_TYPE}`,
    description:
      'Read the client secret from this existing Secrets Manager secret instead of `issuer.clientSecret`: it never passes through Pulumi config or state.',
  },
  policy: { $ref: `#/types/${POLICY_TYPE}`, description: 'When to refresh.' },
  rotatorFunctionName: {
    type: 'string',
    description: 'Obtain the first token through the rotator Lambda (for issuers reachable only from its network).',
  },
  recoveryWindowInDays: {
    type: 'integer',
    description: 'Recovery window of the secrets on delete (7 to 30 days; 0 deletes at once). Default 7.',
  },
  tags: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra tags on both secrets.' },
  kmsKeyId: { type: 'string', description: 'Customer KMS key for both secrets.' },
};

const CREDENTIAL_OUTPUTS: Record<string, PropertySpec> = {
  tokenSecretArn: { type: 'string', description: 'ARN of the token secret workloads read.' },
  tokenSecretName: { type: 'string', description: 'Name of the token secret.' },
  clientSecretArn: { type: 'string', description: 'ARN of the client secret (read by the rotator only).' },
  clientSecretName: { type: 'string', description: 'Name of the client secret.' },
  readPolicy: {
    type: 'string',
    description: 'IAM policy JSON granting secretsmanager:GetSecretValue and DescribeSecret on this token secret only.',
  },
  publicKeyPem: {
    type: 'string',
    description:
      'For kinds that sign (signed-jwt, upload, private_key_jwt, jwt-bearer): the public key PEM to register with the service.',
  },
  publicJwks: {
    type: 'string',
    description: 'For private_key_jwt and jwt-bearer: the same public key as a JWKS (JSON text).',
  },
};

/** The `TokenRotator` component: the TypeScript component's arguments and outputs, by their names. */
function rotatorResource(): TypeSpec {
  const inputProperties = Object.fromEntries(
    Object.entries(ROTATOR_INPUTS).map(([field, spec]) => [
      field,
      {
        ...pulumiType(jsonSchemaOf(spec.schema)),
        description: spec.acceptsOutput
          ? spec.description
          : `${spec.description} Must be known when the program runs (not another resource's output, not a secret).`,
        // Arguments that shape the resources are read as plain values; the SDKs pass them as such.
        ...(spec.acceptsOutput ? {} : { plain: true }),
      },
    ]),
  );
  const properties = Object.fromEntries(
    Object.entries(ROTATOR_OUTPUTS).map(([field, spec]) => [field, { ...spec.type, description: spec.description }]),
  );
  return {
    isComponent: true,
    description:
      'Deploys the token rotator: the scheduled Lambda that refreshes every credential under its prefix, its request ' +
      'entry point, least-privilege roles, log groups, dead-letter queue, schedule and CloudWatch alarms. Its ' +
      'resources are `aws` resources: the `aws` resource plugin must be installed.',
    inputProperties,
    properties,
    required: Object.entries(ROTATOR_OUTPUTS)
      .filter(([, spec]) => spec.required)
      .map(([field]) => field),
  };
}

/** The package schema, as `GetSchema` returns it. */
export function packageSchema(version: string): Record<string, unknown> {
  const { issuer, kms } = issuerType();
  return {
    name: PACKAGE_NAME,
    displayName: 'token-rotator',
    version,
    description:
      'Keeps short-lived API access tokens fresh in AWS Secrets Manager: credentials declared in any Pulumi language.',
    keywords: ['pulumi', 'aws', 'secrets-manager', 'oauth2', 'access-token', 'category/utility', 'kind/native'],
    homepage: 'https://github.com/token-rotator/token-rotator#readme',
    repository: 'https://github.com/token-rotator/token-rotator',
    license: 'Apache-2.0',
    publisher: 'token-rotator',
    pluginDownloadURL: PLUGIN_DOWNLOAD_URL,
    types: {
      [ISSUER_TYPE]: issuer,
      [ISSUER_KMS_TYPE]: kms,
      [POLICY_TYPE]: policyType(),
      [CLIENT_SECRET_SOURCE_TYPE]: clientSecretSourceType(),
    },
    resources: {
      [CREDENTIAL_TOKEN]: {
        description:
          'A third-party API credential whose short-lived token token-rotator keeps fresh in AWS Secrets Manager. ' +
          'Creating it validates the credentials against the real issuer, stores them and writes the first token. ' +
          'Import with the id `PREFIX NAME` (e.g. `token-rotator/sirv-prod`).',
        inputProperties: CREDENTIAL_INPUTS,
        requiredInputs: ['issuer'],
        properties: { ...CREDENTIAL_INPUTS, ...CREDENTIAL_OUTPUTS },
        required: [
          'name',
          'prefix',
          'issuer',
          'tokenSecretArn',
          'tokenSecretName',
          'clientSecretArn',
          'clientSecretName',
          'readPolicy',
        ],
      },
      [ROTATOR_TOKEN]: rotatorResource(),
    },
    language: {
      nodejs: { packageName: '@token-rotator/pulumi', respectSchemaVersion: true },
      python: { packageName: 'pulumi_token_rotator', respectSchemaVersion: true, pyproject: { enabled: true } },
      go: { importBasePath: 'github.com/token-rotator/token-rotator/sdk/go/tokenrotator', respectSchemaVersion: true },
      csharp: { rootNamespace: 'TokenRotator', respectSchemaVersion: true },
    },
  };
}
