/**
 * The token record: the JSON document in `PREFIX NAME/token` that workloads read.
 * Shared by the rotator (which writes it) and the reader SDK (which parses it), so it imports
 * nothing but zod (core/zod.ts) and the error classes.
 */

import { InvalidTokenRecordError } from './errors';
import * as z from './zod';

/** The default secret name prefix: `PREFIX NAME/token` is what workloads read. */
export const DEFAULT_PREFIX = 'token-rotator/';

/**
 * A credential name: 1–64 of letters, digits and `_+=.@-`, starting with a letter or digit. No
 * `/`, so a name can never reach into another prefix.
 */
export const CREDENTIAL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,63}$/;

/** {@link CREDENTIAL_NAME_PATTERN} in words, for the errors of every side that checks a name. */
export const CREDENTIAL_NAME_RULE = '1-64 letters, digits and _+=.@- (starting with a letter or digit)';

/** Whether `value` is a credential name ({@link CREDENTIAL_NAME_PATTERN}). */
export function isCredentialName(value: unknown): boolean {
  return typeof value === 'string' && CREDENTIAL_NAME_PATTERN.test(value);
}

/** The longest prefix: with a 64-character name and `/client`, a secret name stays far within Secrets Manager's 512. */
export const MAX_PREFIX_LENGTH = 256;

/**
 * A secret name prefix: one or more path segments of letters, digits and `_+=.@-`, each ending
 * with `/`; {@link isPrefix} also bounds its length. Never empty: the prefix is what tells
 * one rotator's secrets, IAM statements and metrics from another's, and CloudWatch refuses an
 * empty dimension value ("Length Constraints: Minimum length of 1", API_Dimension).
 */
export const PREFIX_PATTERN = /^([A-Za-z0-9_+=.@-]+\/)+$/;

/** {@link PREFIX_PATTERN} in words, for the errors of every side that checks a prefix. */
export const PREFIX_RULE = `path segments of letters, digits and _+=.@-, each ending with "/" (e.g. "${DEFAULT_PREFIX}"), one or more and at most ${MAX_PREFIX_LENGTH} characters in all`;

/** Whether `value` is a secret name prefix: {@link PREFIX_PATTERN}, at most {@link MAX_PREFIX_LENGTH} characters. */
export function isPrefix(value: unknown): boolean {
  return typeof value === 'string' && value.length <= MAX_PREFIX_LENGTH && PREFIX_PATTERN.test(value);
}

/**
 * Major version of the token record layout (docs/compatibility.md). Fields added within a major
 * version are optional and keep this number; a reader ignores fields it does not know, and
 * refuses a record of another major version.
 */
export const TOKEN_RECORD_VERSION = 1;

/**
 * The `reason` of the {@link InvalidTokenRecordError} for a record of a newer major version than
 * this code knows. The rotator must leave such a record alone (overwriting it would step the
 * fleet's readers back); a workload must upgrade token-rotator.
 */
export const NEWER_TOKEN_RECORD_REASON = 'newer-record-version';

const isoInstant = z.lazy(() => z.iso.datetime({ offset: true }));

/** An access token: visible ASCII, no space (it goes in a header as `<type> <token>`). */
export const ACCESS_TOKEN_PATTERN = /^[!-~]+$/;
/** The longest access token stored, in characters (bytes: it is ASCII). */
export const MAX_ACCESS_TOKEN_LENGTH = 65_536;
/** A token type: an HTTP token (RFC 9110 §5.6.2), such as `Bearer`. */
export const TOKEN_TYPE_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** One scope entry: printable ASCII, no space (RFC 6749 §3.3 scope-token, loosely). */
export const SCOPE_ENTRY_PATTERN = /^[!-~]{1,256}$/;
/** The most scope entries a record holds. */
export const MAX_SCOPE_ENTRIES = 256;
/** Secrets Manager's limit on one secret value. */
export const MAX_SECRET_BYTES = 65_536;

/**
 * Schema of the token record of major version {@link TOKEN_RECORD_VERSION}, as DESIGN.md documents
 * it. Unknown fields (added by a newer rotator of the same major version) are dropped: the parsed
 * record holds exactly the fields this version knows, and a rotator of this version writes only those.
 */
export const tokenRecordSchema = z.lazy(() =>
  z.object({
    version: z.literal(TOKEN_RECORD_VERSION),
    credential: z.string().check(z.minLength(1)),
    issuer: z.string().check(z.minLength(1)),
    accessToken: z.string().check(z.maxLength(MAX_ACCESS_TOKEN_LENGTH), z.regex(ACCESS_TOKEN_PATTERN)),
    tokenType: z.string().check(z.regex(TOKEN_TYPE_PATTERN)),
    scope: z.optional(z.array(z.string()).check(z.maxLength(MAX_SCOPE_ENTRIES))),
    issuedAt: isoInstant,
    expiresAt: isoInstant,
    refreshAfter: isoInstant,
    generation: z.number().check(z.int(), z.nonnegative()),
  }),
);

/**
 * A token record as stored in Secrets Manager (major version 1). Instants are ISO-8601 strings
 * with an offset. Written out rather than inferred from the schema, so the published type (and
 * the API report that pins it) shows every field.
 */
export interface TokenRecord {
  /** The record's major version. */
  version: 1;
  /** The credential's name (`PREFIX NAME/token`). */
  credential: string;
  /** The issuer kind or preset that issued the token, e.g. `sirv`. */
  issuer: string;
  /** The access token: visible ASCII, no space. */
  accessToken: string;
  /** The HTTP authentication scheme to send it with, e.g. `Bearer`. */
  tokenType: string;
  /** The scope the issuer granted, when it said. */
  scope?: string[] | undefined;
  issuedAt: string;
  expiresAt: string;
  /** When the rotator refreshes it; a reader re-reads the secret after this. */
  refreshAfter: string;
  /** Counts the writes of this credential's token; never goes back. */
  generation: number;
}

// The schema parses to exactly TokenRecord: the compiler checks both directions.
type Holds<T extends true> = T;
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compiles only while the schema and {@link TokenRecord} agree. */
export type TokenRecordMatchesSchema = Holds<Mutual<z.infer<typeof tokenRecordSchema>, TokenRecord>>;

export { InvalidTokenRecordError };

/**
 * Parses and validates the secret string of a token secret.
 * The error names the fields at fault, never their values (the record holds a token).
 *
 * @example
 * ```ts
 * const record = parseTokenRecord(secretString, 'sirv-prod');
 * fetch(url, { headers: { authorization: `${record.tokenType} ${record.accessToken}` } });
 * ```
 */
export function parseTokenRecord(secretString: string, credential?: string): TokenRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(secretString);
  } catch {
    throw new InvalidTokenRecordError(`${where(credential)}the token secret is not JSON.`, { credential });
  }
  const major = majorVersionOf(raw);
  if (major !== undefined && major > TOKEN_RECORD_VERSION) {
    throw new InvalidTokenRecordError(
      `${where(credential)}the token secret holds a version ${major} token record; this code reads version ${TOKEN_RECORD_VERSION}. ` +
        'Upgrade token-rotator in this program (docs/compatibility.md).',
      { credential, reason: NEWER_TOKEN_RECORD_REASON },
    );
  }
  const parsed = tokenRecordSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new InvalidTokenRecordError(
      `${where(credential)}the token secret is not a version ${TOKEN_RECORD_VERSION} token record (bad fields: ${fields}).`,
      { credential },
    );
  }
  const record = parsed.data;
  if (Date.parse(record.expiresAt) <= Date.parse(record.issuedAt)) {
    throw new InvalidTokenRecordError(`${where(credential)}the token record expires before it was issued.`, {
      credential,
    });
  }
  return record;
}

/** Serializes a record for `PutSecretValue`, validating it first so a bad record is never written. */
export function serializeTokenRecord(record: TokenRecord): string {
  return JSON.stringify(tokenRecordSchema.parse(record));
}

/**
 * Whole seconds from `now` until `expiresAt` (negative when already expired), for a record or a
 * listing whose `expiresAt` came from tags.
 */
export function secondsToExpiry(token: { expiresAt: string | Date }, now: Date): number {
  const expires = typeof token.expiresAt === 'string' ? Date.parse(token.expiresAt) : token.expiresAt.getTime();
  return Math.floor((expires - now.getTime()) / 1000);
}

/** The record's `version` when it is a whole number from 1 up; anything else is left to the schema to name. */
function majorVersionOf(raw: unknown): number | undefined {
  if (typeof raw !== 'object' || raw === null || !('version' in raw)) return undefined;
  const { version } = raw;
  return typeof version === 'number' && Number.isSafeInteger(version) && version >= 1 ? version : undefined;
}

function where(credential: string | undefined): string {
  return credential ? `Credential "${credential}": ` : '';
}
