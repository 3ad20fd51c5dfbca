/**
 * Issuer configuration: what is stored in `PREFIX NAME/client` under `issuer`, validated with
 * field-named messages. Presets (`sirv`, `aspose`, `upload`, `google-service-account`,
 * `salesforce`) expand to the five base kinds.
 */
import { InvalidConfigurationError } from '../errors';
import { TOKEN_TYPE_PATTERN } from '../token';
import * as z from '../zod';
import { formatScope } from './scope';

/** Default timeout of every issuer request. */
export const DEFAULT_TIMEOUT_SECONDS = 10;

/** Where each preset points when no URL is given (from the vendor documents). */
export const PRESET_URLS = {
  sirv: 'https://api.sirv.com/v2/token',
  aspose: 'https://api.aspose.cloud/connect/token',
  // Google: "aud … When making an access token request this value is always
  // https://oauth2.googleapis.com/token" (Using OAuth 2.0 for Server to Server Applications).
  'google-service-account': 'https://oauth2.googleapis.com/token',
  // Salesforce: aud is https://login.salesforce.com, https://test.salesforce.com (sandboxes) or an
  // Experience Cloud site URL; the token endpoint is /services/oauth2/token under it.
  salesforce: 'https://login.salesforce.com',
} as const;

/** Lifetime assumed when the issuer states none and the token carries no `exp`. */
export const DEFAULT_LIFETIME_SECONDS = {
  sirv: 1200,
  aspose: 86400,
  'header-jwt': 3600,
  upload: 3600,
  // Google answers expires_in, at most an hour for the JWT bearer flow; this covers an answer
  // without it, and is what `check` judges the write budget with.
  'google-service-account': 3600,
  // Salesforce answers no expires_in: the token lives as long as the session, whose timeout is the
  // connected app's or the org's setting, 2 hours by default.
  salesforce: 7200,
} as const;

const nonEmpty = (what: string) =>
  z
    .string({ error: `expected ${what} as a string` })
    .check(z.trim(), z.minLength(1, { error: `expected a non-empty ${what}` }));
const secretString = (what: string) =>
  z
    .string({ error: `expected ${what} as a string` })
    .check(
      z.minLength(8, { error: `expected ${what} of at least 8 characters; check that the whole value was copied` }),
      z.maxLength(8192, { error: `expected ${what} of at most 8192 characters` }),
    );
const url = z.string({ error: 'expected a URL as a string' }).check(
  z.refine((v) => URL.canParse(v), {
    error: 'expected an absolute URL such as https://issuer.example.com/token',
  }),
);
const seconds = (what: string) =>
  z
    .number({ error: `expected ${what} as a number of seconds` })
    .check(
      z.int({ error: `expected ${what} as a whole number of seconds` }),
      z.positive({ error: `expected ${what} greater than 0` }),
      z.maximum(366 * 86400, { error: `expected ${what} of at most a year` }),
    );
const headerName = z
  .string()
  .check(z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'expected an HTTP header name (letters, digits, dashes)' }));

/** Options every kind accepts. */
const common = {
  /** Caps the computed expiry, whatever the issuer says. */
  maxLifetimeSeconds: z.optional(seconds('maxLifetimeSeconds')),
  /** Allows `http://` issuer URLs (tests, private networks). Off by default. */
  allowInsecureHttp: z.optional(z.boolean({ error: 'expected true or false' })),
  /** Timeout of each issuer request, default 10 s. */
  timeoutSeconds: z.optional(
    z
      .number({ error: 'expected timeoutSeconds as a number' })
      .check(
        z.positive({ error: 'expected timeoutSeconds greater than 0' }),
        z.maximum(120, { error: 'expected timeoutSeconds of at most 120' }),
      ),
  ),
};

/** A client secret, wherever it comes from: written in the issuer, or read from a `clientSecretSource`. */
export const clientSecretSchema = secretString('clientSecret');

const clientCredentials = {
  clientId: z.pipe(
    nonEmpty('clientId'),
    z.string().check(z.maxLength(1024, { error: 'expected clientId of at most 1024 characters' })),
  ),
  clientSecret: clientSecretSchema,
};

/** `json`: POST a JSON body with the client id/secret; read the token and its lifetime from named fields. */
export const jsonIssuerSchema = z.strictObject({
  kind: z.literal('json'),
  url,
  ...clientCredentials,
  clientIdField: z._default(nonEmpty('clientIdField'), 'clientId'),
  clientSecretField: z._default(nonEmpty('clientSecretField'), 'clientSecret'),
  tokenField: z._default(nonEmpty('tokenField'), 'token'),
  expiresInField: z._default(nonEmpty('expiresInField'), 'expiresIn'),
  scopeField: z._default(nonEmpty('scopeField'), 'scope'),
  // Sent as the Authorization scheme and checked again on every token: refuse a bad one here, at
  // `pulumi up`, rather than fail every refresh as if the issuer had sent it.
  tokenType: z._default(
    z.pipe(
      nonEmpty('tokenType'),
      z.string().check(
        z.regex(TOKEN_TYPE_PATTERN, {
          error:
            'expected tokenType as an HTTP authentication scheme such as "Bearer" (one word, no spaces, at most 64 characters)',
        }),
      ),
    ),
    'Bearer',
  ),
  defaultLifetimeSeconds: z.optional(seconds('defaultLifetimeSeconds')),
  headers: z.optional(
    z.record(
      headerName,
      z.string({ error: 'expected a header value as a string' }).check(
        z.maxLength(8192, { error: 'expected a header value of at most 8192 characters' }),
        // A line break would end the header and start another: refuse it here, naming the field.
        z.regex(/^[\t -~\u00a0-\uffff]*$/, {
          error: 'expected a header value without line breaks or control characters',
        }),
      ),
    ),
  ),
  ...common,
});

/** `sirv` preset: `json` with Sirv's URL, field names and 20-minute default. */
export const sirvIssuerSchema = z.strictObject({
  kind: z.literal('sirv'),
  url: z._default(url, PRESET_URLS.sirv),
  ...clientCredentials,
  ...common,
});

const scope = z.optional(
  z.union([z.string().check(z.trim(), z.minLength(1)), z.array(nonEmpty('scope entry')).check(z.minLength(1))], {
    error: 'expected scope as a space-separated string or a list of strings',
  }),
);

/** `header-jwt`: client id/secret in request headers, JWT back in the `Authorization` response header. */
export const headerJwtIssuerSchema = z.strictObject({
  kind: z.literal('header-jwt'),
  url,
  // The vendor document says GET while its own example uses POST; both are allowed.
  method: z._default(z.enum(['GET', 'POST'], { error: 'expected method "GET" or "POST"' }), 'GET'),
  ...clientCredentials,
  clientIdHeader: z._default(headerName, 'client-id'),
  clientSecretHeader: z._default(headerName, 'client-secret'),
  tokenHeader: z._default(headerName, 'authorization'),
  defaultLifetimeSeconds: z._default(seconds('defaultLifetimeSeconds'), DEFAULT_LIFETIME_SECONDS['header-jwt']),
  ...common,
});

const privateKeyPem = z.string({ error: 'expected privateKeyPem as a PEM string' }).check(
  // Written with -{5} so that secret scanners do not take the pattern itself for a key.
  z.refine((v) => /^-{5}BEGIN (RSA )?PRIVATE KEY-{5}[\s\S]+-{5}END (RSA )?PRIVATE KEY-{5}\s*$/.test(v.trim()), {
    error: 'expected a PEM private key (a "BEGIN PRIVATE KEY" block, PKCS#8, or "BEGIN RSA PRIVATE KEY", PKCS#1)',
  }),
);

/** A KMS key (id, ARN, alias name or alias ARN) that signs in place of a stored private key. */
const kmsSigningKey = z.strictObject(
  {
    keyId: z.pipe(
      nonEmpty('kms.keyId'),
      z
        .string()
        .check(z.maxLength(2048, { error: 'expected kms.keyId of at most 2048 characters (a key id, ARN or alias)' })),
    ),
  },
  { error: 'expected kms as an object { keyId } naming a KMS key (id, ARN or alias)' },
);

/**
 * A KMS key that signs assertions, and the algorithm it signs: RS256 (an RSA key, the default) or
 * ES256 (an ECC_NIST_P256 key). Stated, not read from the key: the rotator may only sign with it.
 */
const assertionKmsKey = z.strictObject(
  {
    keyId: kmsSigningKey.shape.keyId,
    alg: z.optional(
      z.enum(['RS256', 'ES256'], { error: 'expected kms.alg "RS256" (an RSA key) or "ES256" (an ECC_NIST_P256 key)' }),
    ),
  },
  { error: 'expected kms as an object { keyId, alg? } naming a KMS key (id, ARN or alias)' },
);

/** A PEM private key that signs assertions: RSA (RS256) or EC P-256 (ES256). */
const assertionPrivateKeyPem = z.string({ error: 'expected privateKeyPem as a PEM string' }).check(
  // Written with -{5} so that secret scanners do not take the pattern itself for a key.
  z.refine((v) => /^-{5}BEGIN (RSA |EC )?PRIVATE KEY-{5}[\s\S]+-{5}END (RSA |EC )?PRIVATE KEY-{5}\s*$/.test(v.trim()), {
    error:
      'expected a PEM private key (a "BEGIN PRIVATE KEY" block, PKCS#8, or "BEGIN RSA PRIVATE KEY" / "BEGIN EC PRIVATE KEY")',
  }),
);

/**
 * The key that signs RFC 7523 assertions: a PEM in the client secret or a KMS key, and
 * the `kid` to put in the header (see `assertion.ts` for its default).
 */
const assertionSigning = {
  privateKeyPem: z.optional(assertionPrivateKeyPem),
  kms: z.optional(assertionKmsKey),
  keyId: z.optional(
    z.pipe(
      nonEmpty('keyId'),
      z.string().check(z.maxLength(2048, { error: 'expected keyId of at most 2048 characters' })),
    ),
  ),
};

/** `oauth2`: RFC 6749 §4.4 client credentials grant. */
export const oauth2IssuerSchema = z.strictObject({
  kind: z.literal('oauth2'),
  tokenUrl: url,
  clientId: clientCredentials.clientId,
  /** Required by the `client_secret_*` methods; `private_key_jwt` signs with a key instead. */
  clientSecret: z.optional(clientCredentials.clientSecret),
  authMethod: z._default(
    z.enum(['client_secret_post', 'client_secret_basic', 'private_key_jwt'], {
      error: 'expected authMethod "client_secret_post", "client_secret_basic" or "private_key_jwt"',
    }),
    'client_secret_post',
  ),
  ...assertionSigning,
  /** The client assertion's `aud`; the token endpoint when absent. */
  assertionAudience: z.optional(nonEmpty('assertionAudience')),
  scope,
  audience: z.optional(nonEmpty('audience')),
  defaultLifetimeSeconds: z.optional(seconds('defaultLifetimeSeconds')),
  ...common,
});

/** `aspose` preset: `oauth2` against Aspose Cloud's `/connect/token`, 1-day default. */
export const asposeIssuerSchema = z.strictObject({
  kind: z.literal('aspose'),
  tokenUrl: z._default(url, PRESET_URLS.aspose),
  ...clientCredentials,
  scope,
  ...common,
});

const signedJwtFields = {
  subject: nonEmpty('subject'),
  /** Generated by the provider when absent and no `kms` key is given; never stored with `kms`. */
  privateKeyPem: z.optional(privateKeyPem),
  /** Sign with this KMS key instead: the private key never leaves KMS. */
  kms: z.optional(kmsSigningKey),
  access: z.optional(z.record(z.string(), z.unknown(), { error: 'expected access as a JSON object' })),
  keyId: z.optional(nonEmpty('keyId')),
  issuer: z.optional(nonEmpty('issuer')),
  audience: z.optional(nonEmpty('audience')),
};

/** `signed-jwt`: no request; an RS256 JWT `{sub, iat, exp, access?}` minted with our own key. */
export const signedJwtIssuerSchema = z.strictObject({
  kind: z.literal('signed-jwt'),
  ...signedJwtFields,
  ttlSeconds: seconds('ttlSeconds'),
  ...common,
});

/** `upload` preset: `signed-jwt` for Upload/Bytescale, 1-hour default TTL. */
export const uploadIssuerSchema = z.strictObject({
  kind: z.literal('upload'),
  ...signedJwtFields,
  ttlSeconds: z._default(seconds('ttlSeconds'), DEFAULT_LIFETIME_SECONDS.upload),
  ...common,
});

/** Claims added to a `jwt-bearer` assertion; the ones the assertion sets itself are refused. */
const extraClaims = z.record(z.string(), z.unknown(), { error: 'expected claims as a JSON object' }).check(
  z.refine((claims) => !Object.keys(claims).some((k) => RESERVED_CLAIMS.has(k)), {
    error: 'expected claims without iss, sub, aud, exp, iat, nbf or jti (set issuer, subject and audience instead)',
  }),
  z.refine((claims) => JSON.stringify(claims).length <= 8192, {
    error: 'expected claims of at most 8192 characters as JSON',
  }),
);
const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti']);

/**
 * `jwt-bearer`: RFC 7523 §2.1, a signed assertion exchanged for an access token
 * (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`).
 */
export const jwtBearerIssuerSchema = z.strictObject({
  kind: z.literal('jwt-bearer'),
  tokenUrl: url,
  /** The assertion's `iss`. */
  issuer: nonEmpty('issuer'),
  /** The assertion's `sub`: the principal the token is for. */
  subject: z.optional(nonEmpty('subject')),
  /** The assertion's `aud`; the token endpoint when absent. */
  audience: z.optional(nonEmpty('audience')),
  /** Sent as the `scope` form parameter. */
  scope,
  claims: z.optional(extraClaims),
  /** For servers that also authenticate the client (client_secret_post), or name it (public client). */
  clientId: z.optional(clientCredentials.clientId),
  clientSecret: z.optional(clientCredentials.clientSecret),
  ...assertionSigning,
  defaultLifetimeSeconds: z.optional(seconds('defaultLifetimeSeconds')),
  ...common,
});

/** `google-service-account` preset: `jwt-bearer` as Google's server-to-server flow documents it. */
export const googleServiceAccountIssuerSchema = z.strictObject({
  kind: z.literal('google-service-account'),
  tokenUrl: z._default(url, PRESET_URLS['google-service-account']),
  /** The service account's email (`client_email` in its key file): the assertion's `iss`. */
  clientEmail: nonEmpty('clientEmail'),
  /** Required: Google puts the requested scopes in the assertion's `scope` claim. */
  scope: z.union([z.string().check(z.trim(), z.minLength(1)), z.array(nonEmpty('scope entry')).check(z.minLength(1))], {
    error:
      'expected scope as a space-separated string or a list of strings, e.g. https://www.googleapis.com/auth/cloud-platform',
  }),
  /** A user to act as (domain-wide delegation): the assertion's `sub`. */
  subject: z.optional(nonEmpty('subject')),
  ...assertionSigning,
  ...common,
});

/** `salesforce` preset: `jwt-bearer` as Salesforce's OAuth 2.0 JWT bearer flow documents it. */
export const salesforceIssuerSchema = z.strictObject({
  kind: z.literal('salesforce'),
  /** The assertion's `aud`; the token endpoint is `/services/oauth2/token` under it unless `tokenUrl` says otherwise. */
  loginUrl: z._default(url, PRESET_URLS.salesforce),
  tokenUrl: z.optional(url),
  /** The connected app's consumer key: the assertion's `iss`. */
  clientId: clientCredentials.clientId,
  /** The Salesforce username the token is for: the assertion's `sub`. */
  username: nonEmpty('username'),
  ...assertionSigning,
  /** The session timeout of the connected app or org (Salesforce states no lifetime); 2 hours by default. */
  defaultLifetimeSeconds: z._default(seconds('defaultLifetimeSeconds'), DEFAULT_LIFETIME_SECONDS.salesforce),
  ...common,
});

/** Every issuer configuration, discriminated on `kind`. */
export const issuerConfigSchema = z
  .discriminatedUnion(
    'kind',
    [
      jsonIssuerSchema,
      sirvIssuerSchema,
      oauth2IssuerSchema,
      asposeIssuerSchema,
      headerJwtIssuerSchema,
      signedJwtIssuerSchema,
      uploadIssuerSchema,
      jwtBearerIssuerSchema,
      googleServiceAccountIssuerSchema,
      salesforceIssuerSchema,
    ],
    {
      error:
        'expected kind to be one of sirv, aspose, upload, google-service-account, salesforce, json, oauth2, header-jwt, signed-jwt, jwt-bearer',
    },
  )
  .check(
    z.superRefine((config, ctx) => {
      for (const field of ['url', 'tokenUrl', 'loginUrl'] as const) {
        const value = (config as Record<string, unknown>)[field];
        if (typeof value !== 'string' || !URL.canParse(value)) continue;
        const protocol = new URL(value).protocol;
        if (protocol === 'https:') continue;
        if (protocol === 'http:' && config.allowInsecureHttp) continue;
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message:
            protocol === 'http:'
              ? 'expected an https:// URL (set allowInsecureHttp: true only for a test or private issuer)'
              : `expected an https:// URL, got ${protocol}`,
        });
      }
      if ((config.kind === 'signed-jwt' || config.kind === 'upload') && config.kms && config.privateKeyPem) {
        ctx.addIssue({
          code: 'custom',
          path: ['privateKeyPem'],
          message: 'expected either privateKeyPem or kms, not both; remove privateKeyPem to sign with the KMS key',
        });
      }
      for (const issue of assertionKeyIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
      if (config.maxLifetimeSeconds !== undefined && config.maxLifetimeSeconds < 60) {
        ctx.addIssue({
          code: 'custom',
          path: ['maxLifetimeSeconds'],
          message: 'expected maxLifetimeSeconds of at least 60',
        });
      }
    }),
  );

/**
 * Which key signs: an `oauth2` credential signs only with `private_key_jwt` (and then has no client
 * secret), and whatever signs needs exactly one of `privateKeyPem` and `kms`.
 */
function assertionKeyIssues(config: {
  kind: string;
  authMethod?: string;
  clientSecret?: string | undefined;
  privateKeyPem?: string | undefined;
  kms?: unknown;
  keyId?: string | undefined;
  assertionAudience?: string | undefined;
}): { path: string[]; message: string }[] {
  const signs =
    ['jwt-bearer', 'google-service-account', 'salesforce'].includes(config.kind) ||
    (config.kind === 'oauth2' && config.authMethod === 'private_key_jwt');
  if (config.kind === 'oauth2' && !signs) {
    const issues = [];
    if (config.clientSecret === undefined) {
      issues.push({ path: ['clientSecret'], message: `expected a clientSecret for authMethod "${config.authMethod}"` });
    }
    for (const field of ['privateKeyPem', 'kms', 'keyId', 'assertionAudience'] as const) {
      if (config[field] !== undefined) {
        issues.push({
          path: [field],
          message: `is used only with authMethod "private_key_jwt"; remove it or set that authMethod`,
        });
      }
    }
    return issues;
  }
  if (!signs) return [];
  if (config.kind === 'oauth2' && config.clientSecret !== undefined) {
    return [
      {
        path: ['clientSecret'],
        message:
          'expected no clientSecret with authMethod "private_key_jwt" (the key authenticates the client); remove it',
      },
    ];
  }
  if (config.privateKeyPem !== undefined && config.kms !== undefined) {
    return [
      {
        path: ['privateKeyPem'],
        message: 'expected either privateKeyPem or kms, not both; remove privateKeyPem to sign with the KMS key',
      },
    ];
  }
  if (config.privateKeyPem === undefined && config.kms === undefined) {
    return [
      {
        path: ['privateKeyPem'],
        message: 'expected a signing key: privateKeyPem (RSA or EC P-256 PEM) or kms: { keyId }',
      },
    ];
  }
  return [];
}

/** Issuer configuration as a user writes it (defaults optional). */
export type IssuerConfigInput = z.input<typeof issuerConfigSchema>;
/** Issuer configuration after validation, with defaults filled in. */
export type IssuerConfig = z.output<typeof issuerConfigSchema>;
/** Every `kind` value, presets included. */
export type IssuerKindName = IssuerConfig['kind'];
/** The base kinds that presets expand to. */
export type BaseIssuerKind = 'json' | 'oauth2' | 'header-jwt' | 'signed-jwt' | 'jwt-bearer';

export type JsonIssuerConfig = z.output<typeof jsonIssuerSchema>;
export type OAuth2IssuerConfig = z.output<typeof oauth2IssuerSchema>;
export type HeaderJwtIssuerConfig = z.output<typeof headerJwtIssuerSchema>;
export type SignedJwtIssuerConfig = z.output<typeof signedJwtIssuerSchema>;
export type JwtBearerIssuerConfig = z.output<typeof jwtBearerIssuerSchema>;
/** A configuration with its preset expanded: one of the five base kinds. */
export type BaseIssuerConfig =
  | JsonIssuerConfig
  | OAuth2IssuerConfig
  | HeaderJwtIssuerConfig
  | SignedJwtIssuerConfig
  | JwtBearerIssuerConfig;

/** Every issuer kind name, presets first, for messages and CLIs. */
export const ISSUER_KINDS: readonly IssuerKindName[] = [
  'sirv',
  'aspose',
  'upload',
  'google-service-account',
  'salesforce',
  'json',
  'oauth2',
  'header-jwt',
  'signed-jwt',
  'jwt-bearer',
];

/** One thing wrong with an issuer configuration: the field at fault and what is expected there. */
export interface IssuerConfigIssue {
  /** Dotted path from where the configuration sits, e.g. `issuer.clientSecret`. */
  field: string;
  /** What is expected; never the offending value (it may be a secret). */
  reason: string;
}

/** Names the field and what is expected for each zod issue, `prefix` being where the configuration sits. */
export function issuerConfigIssues(issues: readonly z.core.$ZodIssue[], prefix: string): IssuerConfigIssue[] {
  return issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      return {
        field: path || '(root)',
        reason: `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove them or check the spelling`,
      };
    }
    if (issue.code === 'invalid_union' && path.endsWith('kind') === false && issue.path.length === 0) {
      return { field: `${path}.kind`, reason: issue.message };
    }
    return { field: path || '(root)', reason: issue.message };
  });
}

/**
 * Validates an issuer configuration, throwing an {@link InvalidConfigurationError} that lists
 * every field at fault (`issuer.clientSecret: expected …`).
 *
 * @example
 * ```ts
 * const config = parseIssuerConfig({ kind: 'sirv', clientId, clientSecret }, { credential: 'sirv-prod' });
 * ```
 */
export function parseIssuerConfig(input: unknown, options: { credential?: string; field?: string } = {}): IssuerConfig {
  const field = options.field ?? 'issuer';
  const parsed = issuerConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = issuerConfigIssues(parsed.error.issues, field);
  const lines = issues.map((issue) => `${issue.field}: ${issue.reason}`);
  const who = options.credential ? `Credential "${options.credential}": ` : '';
  throw new InvalidConfigurationError(`${who}invalid issuer configuration:\n  - ${lines.join('\n  - ')}`, {
    credential: options.credential,
    field: issues[0]?.field,
  });
}

/** Expands a preset to its base kind, keeping every user override. */
export function expandPreset(config: IssuerConfig): BaseIssuerConfig {
  switch (config.kind) {
    case 'sirv': {
      const { kind: _kind, ...rest } = config;
      return jsonIssuerSchema.parse({ ...rest, kind: 'json', defaultLifetimeSeconds: DEFAULT_LIFETIME_SECONDS.sirv });
    }
    case 'aspose': {
      const { kind: _kind, ...rest } = config;
      return oauth2IssuerSchema.parse({
        ...rest,
        kind: 'oauth2',
        authMethod: 'client_secret_post',
        defaultLifetimeSeconds: DEFAULT_LIFETIME_SECONDS.aspose,
      });
    }
    case 'upload': {
      const { kind: _kind, ...rest } = config;
      return signedJwtIssuerSchema.parse({ ...rest, kind: 'signed-jwt' });
    }
    case 'google-service-account': {
      const { kind: _kind, clientEmail, scope: requested, tokenUrl, ...rest } = config;
      return jwtBearerIssuerSchema.parse({
        ...rest,
        kind: 'jwt-bearer',
        tokenUrl,
        issuer: clientEmail,
        audience: tokenUrl,
        // Google reads the scopes from the assertion, not from a form parameter.
        claims: { scope: formatScope(requested) },
        defaultLifetimeSeconds: DEFAULT_LIFETIME_SECONDS['google-service-account'],
      });
    }
    case 'salesforce': {
      const { kind: _kind, loginUrl, tokenUrl, clientId, username, ...rest } = config;
      const audience = loginUrl.replace(/\/+$/, '');
      return jwtBearerIssuerSchema.parse({
        ...rest,
        kind: 'jwt-bearer',
        tokenUrl: tokenUrl ?? `${audience}/services/oauth2/token`,
        issuer: clientId,
        subject: username,
        audience,
      });
    }
    default:
      return config;
  }
}

/** A token lifetime known before asking the issuer, and where it comes from. */
export interface KnownLifetime {
  seconds: number;
  /** The issuer field that sets it, when the user can change it. */
  field?: string | undefined;
  /** How a message names its source: `issuer.ttlSeconds`, `Sirv's token lifetime`, … */
  source: string;
}

/**
 * The lifetime a configuration's tokens will have, when the configuration alone tells it (the
 * other kinds learn it from the issuer's answer). Takes the configuration as the user wrote it,
 * already validated, so that a default is called a default.
 */
export function knownLifetime(input: IssuerConfigInput): KnownLifetime | undefined {
  const lifetime = ownLifetime(input);
  const max = input.maxLifetimeSeconds;
  if (max !== undefined && lifetime !== undefined && max < lifetime.seconds) {
    return { seconds: max, field: 'issuer.maxLifetimeSeconds', source: 'issuer.maxLifetimeSeconds' };
  }
  return lifetime;
}

function ownLifetime(input: IssuerConfigInput): KnownLifetime | undefined {
  switch (input.kind) {
    case 'sirv':
      return { seconds: DEFAULT_LIFETIME_SECONDS.sirv, source: "Sirv's token lifetime" };
    case 'aspose':
      return { seconds: DEFAULT_LIFETIME_SECONDS.aspose, source: "Aspose's token lifetime" };
    case 'signed-jwt':
      return { seconds: input.ttlSeconds, field: 'issuer.ttlSeconds', source: 'issuer.ttlSeconds' };
    case 'upload':
      return input.ttlSeconds === undefined
        ? {
            seconds: DEFAULT_LIFETIME_SECONDS.upload,
            field: 'issuer.ttlSeconds',
            source: 'the default issuer.ttlSeconds',
          }
        : { seconds: input.ttlSeconds, field: 'issuer.ttlSeconds', source: 'issuer.ttlSeconds' };
    case 'header-jwt':
      return input.defaultLifetimeSeconds === undefined
        ? {
            seconds: DEFAULT_LIFETIME_SECONDS['header-jwt'],
            field: 'issuer.defaultLifetimeSeconds',
            source: 'the default issuer.defaultLifetimeSeconds',
          }
        : statedDefault(input.defaultLifetimeSeconds);
    case 'salesforce':
      // Salesforce's answer states no lifetime: its tokens live as long as this setting says.
      return input.defaultLifetimeSeconds === undefined
        ? {
            seconds: DEFAULT_LIFETIME_SECONDS.salesforce,
            field: 'issuer.defaultLifetimeSeconds',
            source: "the default issuer.defaultLifetimeSeconds, Salesforce's default session timeout",
          }
        : statedDefault(input.defaultLifetimeSeconds);
    case 'google-service-account':
      // Google states expires_in, never more than an hour for this flow: a policy that breaks the
      // budget at an hour breaks it at whatever Google answers, so it can be refused now.
      return { seconds: DEFAULT_LIFETIME_SECONDS['google-service-account'], source: "Google's token lifetime" };
    case 'json':
    case 'oauth2':
    case 'jwt-bearer':
      // These issuers state a lifetime in their answer; only a lifetime the user set is known now.
      return input.defaultLifetimeSeconds === undefined ? undefined : statedDefault(input.defaultLifetimeSeconds);
  }
}

function statedDefault(seconds: number): KnownLifetime {
  return { seconds, field: 'issuer.defaultLifetimeSeconds', source: 'issuer.defaultLifetimeSeconds' };
}

/** The PEM private key a configuration holds (given, or generated by the provider), if its kind has one. */
export function privateKeyPemOf(config: IssuerConfig): string | undefined {
  return 'privateKeyPem' in config ? config.privateKeyPem : undefined;
}

/**
 * Every secret value inside a configuration, for redaction: the client secret, the private key,
 * and the values of the `json` kind's extra `headers` (API keys travel there).
 */
export function secretValuesOf(config: Partial<Record<string, unknown>>): string[] {
  const headers = config.headers;
  const headerValues =
    typeof headers === 'object' && headers !== null ? Object.values(headers as Record<string, unknown>) : [];
  return [config.clientSecret, config.privateKeyPem, ...headerValues].filter(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
}
