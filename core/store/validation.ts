/**
 * The two documents the store writes, checked before any write: the client document (shape and
 * version; the issuer configuration is the issuers' to check) and the token record. Messages
 * name fields, never values: the client document holds the client secret.
 */

import { InvalidConfigurationError } from '../errors';
import { type TokenRecord, tokenRecordSchema } from '../token';
import * as z from '../zod';

/** Version of the client document layout. */
export const CLIENT_DOCUMENT_VERSION = 1;

/** The JSON document in `PREFIX NAME/client`. Holds the client secret: read by the rotator only. */
export interface ClientDocument {
  version: typeof CLIENT_DOCUMENT_VERSION;
  /** The issuer configuration, secrets included. Opaque here; `kind` is the only field the store checks. */
  issuer: { kind: string } & Record<string, unknown>;
  /** The refresh policy as the user wrote it. */
  policy: Record<string, unknown>;
}

const clientDocumentSchema = z.lazy(() =>
  z.strictObject({
    version: z.literal(CLIENT_DOCUMENT_VERSION),
    issuer: z.looseObject({ kind: z.string().check(z.minLength(1)) }),
    policy: z._default(z.record(z.string(), z.unknown()), {}),
  }),
);

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

/** `doc` checked as a client document of credential `name`; `what` names it in the message. */
export function validatedClientDocument(doc: unknown, name: string, what: string): ClientDocument {
  const parsed = clientDocumentSchema.safeParse(doc);
  if (!parsed.success) {
    // Field names only: the document holds the client secret.
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new InvalidConfigurationError(
      `Credential "${name}": ${what} is not a version ${CLIENT_DOCUMENT_VERSION} client document (bad fields: ${fields}).`,
      { credential: name, field: 'client' },
    );
  }
  return parsed.data as ClientDocument;
}
