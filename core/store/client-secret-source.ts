/**
 * A client secret kept in a Secrets Manager secret of the user's own (`clientSecretSource`): the
 * client document records where it is, never its value, and whoever reads the document reads the
 * value from there (AWSCURRENT), as ECS resolves a `valueFrom` with a JSON key. This module holds
 * what validates a source; sourced-client-secret.ts reads one (apart, so `pulumi up`'s check of
 * every credential loads no AWS SDK).
 */
import * as z from '../zod';

/** Where a credential's client secret is kept: a secret's ARN, and the JSON key inside its value when it holds several. */
export interface ClientSecretSource {
  secretArn: string;
  jsonKey?: string | undefined;
}

/**
 * A Secrets Manager secret's complete ARN (`…:secret:NAME-AbCdEf`, the six characters Secrets
 * Manager adds): the form IAM matches in the rotator's policy, so the same ARN serves both. The
 * secret name allows letters, digits and `/_+=.@-`.
 */
export const SECRET_ARN_PATTERN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}$/;

/** What {@link SECRET_ARN_PATTERN} expects, for messages. */
export const SECRET_ARN_RULE =
  "a Secrets Manager secret's complete ARN (with the six characters Secrets Manager adds to the name), such as arn:aws:secretsmanager:us-east-1:123456789012:secret:sirv/client-AbCdEf";

export const clientSecretSourceSchema = z.strictObject(
  {
    secretArn: z
      .string({ error: 'expected secretArn as a string' })
      .check(z.regex(SECRET_ARN_PATTERN, { error: `expected ${SECRET_ARN_RULE}` })),
    jsonKey: z.optional(
      z
        .string({ error: 'expected jsonKey as a string' })
        .check(
          z.minLength(1, { error: 'expected a non-empty jsonKey' }),
          z.maxLength(1024, { error: 'expected a jsonKey of at most 1024 characters' }),
        ),
    ),
  },
  { error: 'expected clientSecretSource as an object { secretArn, jsonKey? }' },
);

/** Kinds whose client authenticates with a client secret, which a source can hold instead. */
export const SOURCED_KINDS: ReadonlySet<string> = new Set([
  'sirv',
  'aspose',
  'json',
  'oauth2',
  'header-jwt',
  'jwt-bearer',
]);

/** Whether `issuer` (as written) authenticates with a client secret a source can hold. */
export function takesSourcedSecret(issuer: object): boolean {
  const { kind, authMethod } = issuer as { kind?: unknown; authMethod?: unknown };
  return (
    typeof kind === 'string' && SOURCED_KINDS.has(kind) && !(kind === 'oauth2' && authMethod === 'private_key_jwt')
  );
}

/**
 * What stands in for a sourced client secret where the issuer is judged without its value: at
 * `check`, until create or update puts the value read from the source in its place; and where a
 * client document is read or written as declared, where it is removed again after the issuer is
 * parsed ({@link withSourcedStandIn}). Never sent to an issuer, never stored.
 */
export const SOURCED_STAND_IN = 'clientSecretSource: not read yet';

/** `issuer` with {@link SOURCED_STAND_IN} as its client secret, when it takes one and has none. */
export function withSourcedStandIn(issuer: unknown): unknown {
  if (issuer === null || typeof issuer !== 'object' || 'clientSecret' in issuer) return issuer;
  // A kind without a client secret is refused for its clientSecretSource alone (by check).
  if (!takesSourcedSecret(issuer)) return issuer;
  return { ...issuer, clientSecret: SOURCED_STAND_IN };
}
