/**
 * The two documents the store reads and writes, checked at both: the client document (its
 * version, and its issuer configuration parsed into the typed one the issuers take) and the token
 * record. Messages name fields, never values: the client document holds the client secret.
 */

import { InvalidConfigurationError } from '../errors';
import type { IssuerConfig, IssuerConfigInput } from '../issuers/config';
import { type TokenRecord, tokenRecordSchema } from '../token';
import * as z from '../zod';
import { type ClientSecretSource, clientSecretSourceSchema, withSourcedStandIn } from './client-secret-source';

/** Version of the client document layout. */
export const CLIENT_DOCUMENT_VERSION = 1;

/** The JSON document in `PREFIX NAME/client`. Holds the client secret: read by the rotator only. */
export interface ClientDocument {
  version: typeof CLIENT_DOCUMENT_VERSION;
  /** The issuer configuration, secrets included, validated as it was read. */
  issuer: IssuerConfig;
  /** The refresh policy as the user wrote it. */
  policy: Record<string, unknown>;
  /**
   * Where the client secret is kept when it is not in this document: stored in its place, and
   * resolved into `issuer.clientSecret` by a reader that sends it to the issuer.
   */
  clientSecretSource?: ClientSecretSource | undefined;
}

/** Each kind's issuer without `clientSecret` (its other fields kept). */
type WithoutClientSecret<T> = T extends unknown ? Omit<T, 'clientSecret'> : never;

/**
 * An issuer as its credential declares it: without `clientSecret` when a `clientSecretSource`
 * holds it (the document records where the value is kept, never the value).
 */
export type DeclaredIssuer = IssuerConfig | WithoutClientSecret<IssuerConfig>;

/** A client document as stored and declared: a client secret kept in a source is not read into it. */
export interface DeclaredClientDocument extends Omit<ClientDocument, 'issuer'> {
  issuer: DeclaredIssuer;
}

/** A client document as a writer gives it: the issuer as the user wrote it, validated before the write. */
export type ClientDocumentInput = Omit<ClientDocument, 'issuer'> & { issuer: IssuerConfigInput };

const clientDocumentSchema = z.lazy(() =>
  z.strictObject({
    version: z.literal(CLIENT_DOCUMENT_VERSION),
    issuer: z.looseObject({ kind: z.string().check(z.minLength(1)) }),
    policy: z._default(z.record(z.string(), z.unknown()), {}),
    clientSecretSource: z.optional(clientSecretSourceSchema),
  }),
);

let issuerConfig: Promise<typeof import('../issuers/config.js')> | undefined;

/**
 * The issuer schemas, loaded with the first client document: a sweep with nothing due reads none,
 * and its cold start stays free of them. A failed load is tried again next time.
 */
export function loadIssuerConfig(): Promise<typeof import('../issuers/config.js')> {
  issuerConfig ??= import('../issuers/config.js').catch((e: unknown) => {
    issuerConfig = undefined;
    throw e;
  });
  return issuerConfig;
}

/** `record` checked as a token record of credential `name`. */
export function validatedRecord(record: TokenRecord, name: string): TokenRecord {
  const parsed = tokenRecordSchema.safeParse(record);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new InvalidConfigurationError(`Credential "${name}": not a valid token record (bad fields: ${fields}).`, {
      credential: name,
      field: 'token',
    });
  }
  if (parsed.data.credential !== name) {
    throw new InvalidConfigurationError(
      `Credential "${name}": the token record belongs to credential "${parsed.data.credential}".`,
      { credential: name, field: 'token.credential' },
    );
  }
  return parsed.data;
}

/**
 * `doc` checked as a client document of credential `name`; `what` names it in the message. The
 * issuer configuration is parsed here, where it enters from the store, and passed on typed.
 *
 * @throws {InvalidConfigurationError} field `client` for a bad envelope; for a bad issuer
 * configuration, the first `issuer.…` field at fault, every one named in the message.
 */
export async function validatedClientDocument(doc: unknown, name: string, what: string): Promise<ClientDocument> {
  const parsed = clientDocumentSchema.safeParse(doc);
  if (!parsed.success) {
    // Field names only: the document holds the client secret.
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new InvalidConfigurationError(
      `Credential "${name}": ${what} is not a version ${CLIENT_DOCUMENT_VERSION} client document (bad fields: ${fields}).`,
      { credential: name, field: 'client' },
    );
  }
  const { parseIssuerConfig } = await loadIssuerConfig();
  return {
    version: parsed.data.version,
    issuer: parseIssuerConfig(parsed.data.issuer, { credential: name }),
    policy: parsed.data.policy,
    ...(parsed.data.clientSecretSource ? { clientSecretSource: parsed.data.clientSecretSource } : {}),
  };
}

/**
 * The issuer as its credential declares it: with a `clientSecretSource` (any value but
 * `undefined`), the client secret read from it (or standing in for it) is left out; otherwise the
 * issuer as it is.
 */
export function declaredIssuerOf<I extends object>(doc: {
  issuer: I;
  clientSecretSource?: unknown;
}): I | WithoutClientSecret<I> {
  if (doc.clientSecretSource === undefined) return doc.issuer;
  const { clientSecret: _notDeclared, ...issuer } = doc.issuer as I & { clientSecret?: unknown };
  return issuer as WithoutClientSecret<I>;
}

/**
 * `doc` checked as a client document of credential `name` as it is stored (`what` names it in
 * the message): with a `clientSecretSource`, any client secret it holds is left out, and the
 * issuer is judged with a stand-in for it, so every other field is checked as the issuers take
 * it, and the source is not read. What a writer stores, and what a reader that needs only the
 * declaration gets.
 *
 * @throws {InvalidConfigurationError} as {@link validatedClientDocument}.
 */
export async function declaredClientDocument(
  doc: unknown,
  name: string,
  what: string,
): Promise<DeclaredClientDocument> {
  const issuer = (doc as { issuer?: unknown } | null)?.issuer;
  if (clientSecretSourceOf(doc) === undefined || issuer === null || typeof issuer !== 'object') {
    return validatedClientDocument(doc, name, what);
  }
  const declared = declaredIssuerOf({ issuer, clientSecretSource: clientSecretSourceOf(doc) });
  const valid = await validatedClientDocument({ ...(doc as object), issuer: withSourcedStandIn(declared) }, name, what);
  return { ...valid, issuer: declaredIssuerOf(valid) };
}

/** The envelope's `clientSecretSource`, when it is a well-formed one (the envelope's own check names a bad one). */
export function clientSecretSourceOf(doc: unknown): ClientSecretSource | undefined {
  if (doc === null || typeof doc !== 'object') return undefined;
  const parsed = clientSecretSourceSchema.safeParse((doc as { clientSecretSource?: unknown }).clientSecretSource);
  return parsed.success ? parsed.data : undefined;
}
