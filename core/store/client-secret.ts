/**
 * The client secret of an existing credential: reading its client document (one credential, or
 * up to 20 in one call) with the version it was read at, and replacing it.
 */
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError } from '../errors';
import { call, isAwsError, storeError } from './aws-errors';
import { prefixOf, type SecretStore, secretNames } from './names';
import { readSourcedClientSecret, type SourceReads } from './sourced-client-secret';
import { TAG_KEYS, tagList } from './tags';
import {
  type ClientDocument,
  type ClientDocumentInput,
  clientSecretSourceOf,
  type DeclaredClientDocument,
  declaredClientDocument,
  validatedClientDocument,
} from './validation';

/** A client document and the version id it was read from (the key of the rotator's cache). */
export interface ClientSecretVersion {
  /** The document, its client secret resolved from its `clientSecretSource` when it has one. */
  document: ClientDocument;
  versionId: string | undefined;
  /**
   * The version of the `clientSecretSource` secret the client secret was read from: a document
   * read again after a rejection is new when either version changed.
   */
  sourceVersionId?: string | undefined;
}

/** A client document as stored (its `clientSecretSource` not read) and the version id it was read from. */
export interface DeclaredClientSecretVersion {
  document: DeclaredClientDocument;
  versionId: string | undefined;
}

/** How {@link readClientSecret} reads. */
export interface ReadClientSecretOptions {
  /**
   * `false`: the document as stored, with its `clientSecretSource` and no client secret, and the
   * source not read: for a reader that needs only the declaration (a refresh, an import, an
   * update comparing what changed), which then needs no permission on the source. Default
   * `true`: the client secret read from the source, for a reader that sends it to the issuer.
   */
  resolveSource?: boolean;
}

/**
 * Reads and validates the client document of a credential (version and shape; the issuer
 * configuration itself is validated by the issuers), with the version id it was read at. A
 * document with a `clientSecretSource` gets its client secret from there (AWSCURRENT), read with
 * the same client, unless `options.resolveSource` is `false`.
 *
 * @throws {InvalidConfigurationError} (field `clientSecretSource.…`) when the source is missing,
 * unreadable or holds no usable value: the message says which permission or value is wanted.
 * @throws {InvalidConfigurationError} (field `client`) when the stored value is not a client
 * document. The message names the bad fields, never a value.
 * @throws {StoreError} when the secret is missing or Secrets Manager refuses or fails.
 *
 * @example
 * ```ts
 * const { document, versionId } = await readClientSecret({ client }, 'sirv-prod');
 * const declared = await readClientSecret({ client }, 'sirv-prod', { resolveSource: false });
 * ```
 */
export function readClientSecret(
  store: SecretStore,
  name: string,
  options?: ReadClientSecretOptions & { resolveSource?: true },
): Promise<ClientSecretVersion>;
export function readClientSecret(
  store: SecretStore,
  name: string,
  options: ReadClientSecretOptions & { resolveSource: false },
): Promise<DeclaredClientSecretVersion>;
export async function readClientSecret(
  store: SecretStore,
  name: string,
  options: ReadClientSecretOptions = {},
): Promise<ClientSecretVersion | DeclaredClientSecretVersion> {
  const names = secretNames(name, prefixOf(store));
  const out = await call(name, 'GetSecretValue', () =>
    store.client.send(new GetSecretValueCommand({ SecretId: names.client })),
  );
  if (options.resolveSource === false) return declaredVersion(name, out.SecretString, out.VersionId);
  return clientSecretVersion(store, name, out.SecretString, out.VersionId, new Map());
}

/** The most secrets one BatchGetSecretValue reads by `SecretIdList` (Secrets Manager's limit). */
export const MAX_BATCH_CLIENT_READS = 20;

/**
 * Reads the client documents of up to {@link MAX_BATCH_CLIENT_READS} credentials with one
 * BatchGetSecretValue call (a cold container's sweep: one read shared by 20 refreshes).
 *
 * @returns per credential name, what {@link readClientSecret} would have returned, or the
 * {@link InvalidConfigurationError} it would have thrown for a stored value that is not a client
 * document (same code, field and message). A name Secrets Manager reported an error for (not
 * found, access denied, …) or did not return is absent: read it alone with
 * {@link readClientSecret}, which classifies that error by its AWS error name.
 * @throws {StoreError} when the call fails as a whole (throttled, no permission for the batch
 * action); the caller falls back to single reads.
 * @throws {RangeError} when more than {@link MAX_BATCH_CLIENT_READS} names are given.
 */
export async function readClientSecrets(
  store: SecretStore,
  names: readonly string[],
): Promise<Map<string, ClientSecretVersion | InvalidConfigurationError>> {
  if (names.length > MAX_BATCH_CLIENT_READS) {
    throw new RangeError(`readClientSecrets reads at most ${MAX_BATCH_CLIENT_READS} names (got ${names.length}).`);
  }
  const reads = new Map<string, ClientSecretVersion | InvalidConfigurationError>();
  if (names.length === 0) return reads;
  const prefix = prefixOf(store);
  const bySecret = new Map(names.map((name) => [secretNames(name, prefix).client, name]));
  const out = await call(undefined, 'BatchGetSecretValue', () =>
    store.client.send(new BatchGetSecretValueCommand({ SecretIdList: [...bySecret.keys()] })),
  );
  const entries = new Map<string, NonNullable<typeof out.SecretValues>[number]>();
  for (const entry of out?.SecretValues ?? []) {
    // Secrets Manager answers with the secret's name; only names asked for count, the first answer each.
    const name = entry.Name === undefined ? undefined : bySecret.get(entry.Name);
    if (name !== undefined && !entries.has(name)) entries.set(name, entry);
  }
  // Documents with a clientSecretSource read it: those reads go out together, one per source secret
  // however many credentials share it (each takes its own jsonKey from the value).
  const sources: SourceReads = new Map();
  await Promise.all(
    [...entries].map(async ([name, entry]) => {
      try {
        reads.set(name, await clientSecretVersion(store, name, entry.SecretString, entry.VersionId, sources));
      } catch (e) {
        // A source read that may pass (throttled): left to the single read, which classifies it.
        if (e instanceof InvalidConfigurationError) reads.set(name, e);
      }
    }),
  );
  return reads;
}

/** The stored value parsed as JSON, refused (naming no part of it) when it is not. */
function parsedValue(name: string, secretString: string | undefined): unknown {
  try {
    return JSON.parse(secretString ?? '');
  } catch {
    throw new InvalidConfigurationError(`Credential "${name}": the client secret is not JSON.`, {
      credential: name,
      field: 'client',
    });
  }
}

/**
 * The issuer object of a document that has a well-formed `clientSecretSource`; `undefined` for
 * any other document (the envelope's check names what is wrong with it, with no source read).
 *
 * @throws {InvalidConfigurationError} when the document holds both a client secret and a source.
 */
function sourcedIssuerOf(name: string, raw: unknown): object | undefined {
  if (clientSecretSourceOf(raw) === undefined) return undefined;
  const issuer = (raw as { issuer?: unknown }).issuer;
  if (issuer === null || typeof issuer !== 'object' || Array.isArray(issuer)) return undefined;
  if ('clientSecret' in issuer) {
    // The provider never writes both: a document that has them was not written by it.
    throw new InvalidConfigurationError(
      `Credential "${name}": the client secret holds both issuer.clientSecret and clientSecretSource; write the credential again with pulumi up.`,
      { credential: name, field: 'client' },
    );
  }
  return issuer;
}

/** A client secret's value as read, parsed and validated as declared: its source not read. */
async function declaredVersion(
  name: string,
  secretString: string | undefined,
  versionId: string | undefined,
): Promise<DeclaredClientSecretVersion> {
  const raw = parsedValue(name, secretString);
  // Called for its refusal of a document that holds both a client secret and a source.
  sourcedIssuerOf(name, raw);
  return { document: await declaredClientDocument(raw, name, 'the client secret'), versionId };
}

/**
 * A client secret's value as read (by a single or a batch read), parsed and validated, its source
 * read (through `sources`, which a batch shares) and its client secret resolved.
 */
async function clientSecretVersion(
  store: SecretStore,
  name: string,
  secretString: string | undefined,
  versionId: string | undefined,
  sources: SourceReads,
): Promise<ClientSecretVersion> {
  const raw = parsedValue(name, secretString);
  const issuer = sourcedIssuerOf(name, raw);
  const source = clientSecretSourceOf(raw);
  if (issuer === undefined || source === undefined) {
    return { document: await validatedClientDocument(raw, name, 'the client secret'), versionId };
  }
  const sourced = await readSourcedClientSecret(store.client, name, source, sources);
  const resolved = { ...(raw as object), issuer: { ...issuer, clientSecret: sourced.value } };
  return {
    document: await validatedClientDocument(resolved, name, 'the client secret'),
    versionId,
    sourceVersionId: sourced.versionId,
  };
}

/**
 * Writes a new version of the client document, then tags the token secret with its version id
 * (`token-rotator:client-version`): that is how the rotator, listing token secrets only, sees the
 * change (its cached document is stale; a block left by rejected credentials is lifted).
 */
export async function updateClientDocument(
  store: SecretStore,
  name: string,
  doc: ClientDocumentInput | DeclaredClientDocument,
): Promise<string> {
  const names = secretNames(name, prefixOf(store));
  // A client secret kept in a source is left out: the document records only where it is.
  const valid = await declaredClientDocument(doc, name, 'the client document to write');
  // No derived ClientRequestToken here: writing document A, then B, then A again must make A
  // current again, which a repeated token would silently turn into a no-op.
  const out = await call(name, 'PutSecretValue', () =>
    store.client.send(new PutSecretValueCommand({ SecretId: names.client, SecretString: JSON.stringify(valid) })),
  );
  if (out.VersionId) {
    const tags = { [TAG_KEYS.clientVersion]: out.VersionId };
    try {
      await store.client.send(new TagResourceCommand({ SecretId: names.token, Tags: tagList(tags) }));
    } catch (e) {
      // No token secret (yet): nothing to point at the new client version.
      if (!isAwsError(e, 'ResourceNotFoundException')) throw storeError(e, name, 'TagResource');
    }
  }
  return out.VersionId ?? '';
}
