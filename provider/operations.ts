/**
 * The provider operations that reach AWS and the issuer: create, update, read and delete. The
 * provider runtime (runtime.ts) loads this module at the first of them, so `check` and `diff`,
 * which run for every credential on every preview, load none of it.
 */
import { InvalidConfigurationError, StoreError } from '../core/errors';
import { type IssuerConfig, parseIssuerConfig } from '../core/issuers/config';
import * as store from '../core/store';
import { withSourcedStandIn } from '../core/store/client-secret-source';
import { DEFAULT_PREFIX } from '../core/token';
import { type ProviderSeams, secretsManager } from './aws-clients';
import { type AwsSettings, describeSettings, explainAwsFailure, recordedSettings } from './aws-settings';
import {
  generatesSigningKey,
  type PreparedDocument,
  type PublicKeyOutputs,
  prepareClientDocument,
  storedPrivateKey,
  viaRotator,
} from './client-document';
import { firstTokenRecord, previousGeneration, rotatorWritesToken } from './first-token';
import { type CredentialInputs, checkInputs, withSourcedClientSecret } from './inputs';
import { withPresetName } from './issuer-kind';
import { ownerTagValue } from './owner';
import type { CredentialOutputs } from './runtime';
import { sameValue } from './same-value';

/**
 * Runs one provider operation, rewording its failure for `pulumi up`: AWS configuration failures
 * say where the provider looked and what to do, and a preset credential's issuer errors name the
 * vendor.
 */
async function explained<T>(
  props: Record<string, unknown>,
  run: (settings: Partial<AwsSettings>) => Promise<T>,
): Promise<T> {
  const name = typeof props.name === 'string' ? props.name : '?';
  const settings = recordedSettings(props);
  try {
    return await run(settings);
  } catch (e) {
    throw withPresetName(explainAwsFailure(e, name, settings), name, props.issuer);
  }
}

/**
 * `prepared` with the client secret read from its `clientSecretSource` (with the deployer's AWS
 * settings) in place of check's stand-in, when there is one: called only where the credentials
 * are validated (a create, a repair, an update with something to validate), before anything is
 * written, so a source that is missing or unreadable fails there. Nothing else reads the source.
 */
async function withSourcedValue(
  prepared: PreparedDocument,
  inputs: CredentialInputs,
  sm: store.SecretStore['client'],
): Promise<PreparedDocument> {
  if (inputs.clientSecretSource === undefined) return prepared;
  const { value } = await store.readSourcedClientSecret(sm, inputs.name, inputs.clientSecretSource);
  const issuer = withSourcedClientSecret(prepared.issuer, value);
  return { ...prepared, issuer, clientDocument: { ...prepared.clientDocument, issuer } };
}

/** The inputs the engine hands over, validated once: typed, with the issuer parsed for the issuers. */
function asInputs(props: Record<string, unknown>): { inputs: CredentialInputs; issuer: IssuerConfig } {
  const { credential, failures } = checkInputs(props);
  if (failures.length > 0 || credential === undefined) {
    const name = typeof props.name === 'string' ? props.name : '?';
    throw new InvalidConfigurationError(
      `Credential "${name}": invalid inputs:\n  - ${failures.map((f) => `${f.property}: ${f.reason}`).join('\n  - ')}`,
      { credential: name, field: failures[0]?.property },
    );
  }
  return credential;
}

function outputsOf(
  inputs: CredentialInputs,
  arns: { clientSecretArn: string; tokenSecretArn: string },
  keys: PublicKeyOutputs,
): CredentialOutputs {
  return {
    ...inputs,
    tokenSecretArn: arns.tokenSecretArn,
    clientSecretArn: arns.clientSecretArn,
    ...(keys.publicKeyPem ? { publicKeyPem: keys.publicKeyPem } : {}),
    ...(keys.publicJwks ? { publicJwks: keys.publicJwks } : {}),
  };
}

/**
 * `create`: obtain the first token before writing anything, then write both secrets. Bad
 * credentials fail here and leave nothing behind.
 */
export function create(
  props: Record<string, unknown>,
  seams: ProviderSeams = {},
): Promise<{ id: string; outs: CredentialOutputs }> {
  return explained(props, (settings) => createCredential(props, settings, seams));
}

async function createCredential(
  props: Record<string, unknown>,
  settings: Partial<AwsSettings>,
  seams: ProviderSeams,
): Promise<{ id: string; outs: CredentialOutputs }> {
  const sm = secretsManager(seams, settings);
  const { inputs, issuer } = asInputs(props);
  const prepared = await withSourcedValue(await prepareClientDocument(inputs, issuer, seams), inputs, sm);
  const { clientDocument, keys } = prepared;
  const where = { client: sm, prefix: inputs.prefix };
  const owner = inputs.owner === undefined ? undefined : ownerTagValue(inputs.owner);
  if (viaRotator(inputs, prepared.issuer)) {
    // The document first, then the rotator writes the first token from it; a refusal undoes both.
    const arns = await store.createCredentialSecrets(
      where,
      { name: inputs.name, clientDocument, tags: inputs.tags, kmsKeyId: inputs.kmsKeyId, owner },
      { firstToken: async () => void (await rotatorWritesToken(inputs, settings, seams)) },
    );
    return { id: `${inputs.prefix}${inputs.name}`, outs: outputsOf(inputs, arns, keys) };
  }
  // A token secret this create adopts or restores may hold a later generation (the rotator may
  // have refreshed it since): the first token follows it, so generations never go back. Described
  // while the issuer answers.
  const listing = store.describeTokenListing(where, inputs.name);
  const [record] = await Promise.all([
    firstTokenRecord(inputs, prepared, seams, async () => (await listing)?.generation ?? 0),
    listing,
  ]);
  const arns = await store.createCredentialSecrets(where, {
    name: inputs.name,
    clientDocument,
    token: record,
    tags: inputs.tags,
    kmsKeyId: inputs.kmsKeyId,
    owner,
  });
  return { id: `${inputs.prefix}${inputs.name}`, outs: outputsOf(inputs, arns, keys) };
}

/**
 * `update`: new credentials (a new issuer kind included) are validated against the issuer before
 * they replace the old ones; then a fresh token and the client secret are written. Running it
 * again with the same inputs changes nothing but the token, and finishes what a failed run left
 * undone (see {@link tokenBehindClient}). A credential one of whose secrets `read` found gone is
 * made whole again: the missing secret is created beside the surviving one, which is kept.
 */
export function update(
  olds: Record<string, unknown>,
  props: Record<string, unknown>,
  seams: ProviderSeams = {},
): Promise<{ outs: CredentialOutputs }> {
  return explained(props, (settings) => updateCredential(olds, props, settings, seams));
}

async function updateCredential(
  olds: Record<string, unknown>,
  props: Record<string, unknown>,
  settings: Partial<AwsSettings>,
  seams: ProviderSeams,
): Promise<{ outs: CredentialOutputs }> {
  const sm = secretsManager(seams, settings);
  const { inputs, issuer: declaredIssuer } = asInputs(props);
  const where = { client: sm, prefix: inputs.prefix };
  if (props.aws !== undefined && !sameValue(recordedSettings(olds), settings))
    await assertSameSecrets(where, olds, inputs.name, settings);
  if (olds.tokenSecretArn === '' || olds.clientSecretArn === '')
    return repair(olds, inputs, declaredIssuer, where, seams);
  // As stored: what changed is judged on the declaration, so the source is not read for it. A
  // stored value that is no longer a client document (edited by hand) is replaced by the declared
  // one, validated first; unless it may hold the signing key the provider generated, whose public
  // half is registered with the service: that one is never replaced unseen, and the error stands.
  const current = await store.readClientSecret(where, inputs.name, { resolveSource: false }).catch((e: unknown) => {
    if (e instanceof InvalidConfigurationError && !generatesSigningKey(declaredIssuer)) return undefined;
    throw e;
  });
  const declared = await prepareClientDocument(
    inputs,
    declaredIssuer,
    seams,
    current && storedPrivateKey(current.document),
  );
  const { issuer, keys, clientDocument: newDocument } = declared;

  const materialChange =
    current === undefined ||
    !sameValue(current.document.issuer, store.declaredIssuerOf(newDocument)) ||
    !sameValue(current.document.clientSecretSource, inputs.clientSecretSource) ||
    !sameValue(current.document.policy ?? {}, inputs.policy ?? {}) ||
    !sameValue(olds.rotatorFunctionName, inputs.rotatorFunctionName);
  const listing = await store.describeTokenListing(where, inputs.name);
  const validates = materialChange || tokenBehindClient(listing, current?.versionId);
  // The credentials are validated against the issuer: only now is the client secret read from its source.
  const prepared = validates ? await withSourcedValue(declared, inputs, sm) : declared;
  if (viaRotator(inputs, issuer) && validates) {
    // The rotator reads the document itself: write it first, ask for a token from it, and put the
    // old one back when the rotator could not get one, so the working credential stays in service.
    if (materialChange) await store.updateClientDocument(where, inputs.name, prepared.clientDocument);
    try {
      await rotatorWritesToken(inputs, settings, seams);
    } catch (e) {
      if (materialChange && current) await store.updateClientDocument(where, inputs.name, current.document);
      throw e;
    }
  } else if (validates) {
    // Validate first: a wrong new secret must leave the old secret and token untouched.
    const record = await firstTokenRecord(inputs, prepared, seams, () =>
      previousGeneration(where, inputs.name, listing),
    );
    if (materialChange) {
      // The token first, then the client document and its version tag on the token secret: a
      // token secret tagged with the current client version therefore holds a token written
      // for that document, and a run that failed in between is finished by the next one.
      await store.putToken(where, record);
      await store.updateClientDocument(where, inputs.name, prepared.clientDocument);
    } else {
      // An earlier run wrote this document but failed before tagging its version: the rotator
      // would still see the old version (and keep a block left by the old credentials).
      await store.putToken(where, record, { clientVersion: current?.versionId });
    }
  }
  const tagsChanged = !sameValue(olds.tags, inputs.tags);
  const keyChanged = !sameValue(olds.kmsKeyId, inputs.kmsKeyId);
  if (tagsChanged || keyChanged) {
    await store.updateCredentialSettings(where, inputs.name, {
      tags: inputs.tags,
      previousTags: olds.tags as Record<string, string> | undefined,
      // Only a changed key re-keys the secrets.
      ...(keyChanged ? { kmsKeyId: inputs.kmsKeyId } : {}),
    });
  }
  const arns = { clientSecretArn: String(olds.clientSecretArn), tokenSecretArn: String(olds.tokenSecretArn) };
  return { outs: outputsOf(inputs, arns, keys) };
}

/**
 * A changed profile or role (or settings recorded for the first time) must reach the secrets the
 * state names: the same ARNs, so the same account and region. Anything else would write a
 * second credential elsewhere and leave the first behind.
 */
async function assertSameSecrets(
  where: store.SecretStore,
  olds: Record<string, unknown>,
  name: string,
  settings: Partial<AwsSettings>,
): Promise<void> {
  const state = await store.describeCredential(where, name);
  for (const [arn, found] of [
    [olds.clientSecretArn, state.client],
    [olds.tokenSecretArn, state.token],
  ] as const) {
    if (typeof arn !== 'string' || arn === '' || (found.exists && found.arn === arn)) continue;
    const other = found.exists ? `; they reach another secret of that name, ${found.arn}` : '';
    throw new InvalidConfigurationError(
      `Credential "${name}": its secret ${arn} is not reachable with the new AWS settings (${describeSettings(settings)})${other}. ` +
        'A new profile or role must reach the same account. To move the credential to another account, give it a new ' +
        'name or prefix (it is made there, then the old one deleted); otherwise set the previous profile or role back.',
      { credential: name, field: 'aws' },
    );
  }
}

/**
 * The token secret does not name the client document's current version: an earlier update wrote
 * the document, then failed to tag its version on the token secret (throttled, denied). Pulumi
 * kept the old inputs, so it runs the update again, and the document already matches them.
 */
function tokenBehindClient(listing: store.CredentialListing | undefined, clientVersion: string | undefined): boolean {
  return listing !== undefined && clientVersion !== undefined && listing.clientVersion !== clientVersion;
}

/**
 * `update` of a credential one of whose secrets is gone (or scheduled for deletion): validates
 * against the issuer first, then makes the missing secret (a pending one is restored) and writes
 * the surviving one in place. A failure undoes only what it made: the surviving secret, and the
 * generated signing key it may hold, stay.
 */
async function repair(
  olds: Record<string, unknown>,
  inputs: CredentialInputs,
  declaredIssuer: IssuerConfig,
  where: store.SecretStore,
  seams: ProviderSeams,
): Promise<{ outs: CredentialOutputs }> {
  const clientArn = olds.clientSecretArn === '' ? undefined : String(olds.clientSecretArn);
  const tokenArn = olds.tokenSecretArn === '' ? undefined : String(olds.tokenSecretArn);
  // The surviving client secret may hold a generated key whose public half is registered with
  // the service: keep it. An unreadable one is rewritten (with a new key when none is declared).
  const currentKey = clientArn
    ? await store.readClientSecret(where, inputs.name, { resolveSource: false }).then(
        ({ document }) => storedPrivateKey(document),
        () => undefined,
      )
    : undefined;
  const prepared = await withSourcedValue(
    await prepareClientDocument(inputs, declaredIssuer, seams, currentKey),
    inputs,
    where.client,
  );
  const { clientDocument, keys } = prepared;
  const owner = inputs.owner === undefined ? undefined : ownerTagValue(inputs.owner);
  const keep = { clientSecretArn: clientArn, tokenSecretArn: tokenArn };
  if (viaRotator(inputs, prepared.issuer)) {
    const settings = inputs.aws ?? {};
    const arns = await store.createCredentialSecrets(
      where,
      { name: inputs.name, clientDocument, tags: inputs.tags, kmsKeyId: inputs.kmsKeyId, owner },
      { keep, firstToken: async () => void (await rotatorWritesToken(inputs, settings, seams)) },
    );
    return { outs: outputsOf(inputs, arns, keys) };
  }
  const record = await firstTokenRecord(inputs, prepared, seams, async () => {
    // A token secret pending deletion still describes its last generation: the new token follows it.
    const listing = await store.describeTokenListing(where, inputs.name);
    return tokenArn ? previousGeneration(where, inputs.name, listing) : (listing?.generation ?? 0);
  });
  const arns = await store.createCredentialSecrets(
    where,
    { name: inputs.name, clientDocument, token: record, tags: inputs.tags, kmsKeyId: inputs.kmsKeyId, owner },
    { keep },
  );
  return { outs: outputsOf(inputs, arns, keys) };
}

/**
 * `read` (pulumi refresh): reports external deletion (both secrets gone or scheduled for
 * deletion → the resource is gone) and drift of the ARNs.
 */
export function read(
  id: string,
  props: Record<string, unknown>,
  seams: ProviderSeams = {},
): Promise<{ id?: string; props?: Record<string, unknown> }> {
  return explained(props, (settings) => readCredential(id, props, settings, seams));
}

async function readCredential(
  id: string,
  props: Record<string, unknown>,
  settings: Partial<AwsSettings>,
  seams: ProviderSeams,
): Promise<{ id?: string; props?: Record<string, unknown> }> {
  const name = String(props.name);
  const prefix = typeof props.prefix === 'string' ? props.prefix : DEFAULT_PREFIX;
  const sm = secretsManager(seams, settings);
  const state = await store.describeCredential({ client: sm, prefix }, name);
  const live = (s: { exists: boolean; deletedDate?: Date | undefined } | undefined) =>
    Boolean(s?.exists && !s.deletedDate);
  if (!live(state.client) && !live(state.token)) return {};
  const refreshed: Record<string, unknown> = {
    ...props,
    // A missing half shows as an empty ARN, which `diff` answers with a replacement.
    clientSecretArn: live(state.client) ? state.client.arn : '',
    tokenSecretArn: live(state.token) ? state.token.arn : '',
  };
  if (live(state.client)) {
    const drifted = await storedIfDrifted({ client: sm, prefix }, name, props);
    // The stored configuration differs from what Pulumi last wrote: report it, so the next `up`
    // shows the change and writes the declared configuration back (validated first).
    if (drifted?.issuer) refreshed.issuer = drifted.issuer;
    if (drifted && 'clientSecretSource' in drifted) refreshed.clientSecretSource = drifted.clientSecretSource;
  }
  return { id, props: refreshed };
}

/**
 * What of the stored client document differs from the declared inputs: the issuer block (a
 * generated key is not a difference) and the `clientSecretSource`. Both sides are compared as
 * declared: a client secret kept in a source is on neither, and the source is not read, so a
 * deployer who may not read it still sees drift, and its value never reaches the state.
 */
async function storedIfDrifted(
  where: store.SecretStore,
  name: string,
  props: Record<string, unknown>,
): Promise<{ issuer?: Record<string, unknown>; clientSecretSource?: unknown } | undefined> {
  let document: store.DeclaredClientDocument;
  try {
    document = (await store.readClientSecret(where, name, { resolveSource: false })).document;
  } catch (e) {
    // A stored value that is no longer a client document (edited by hand) is drift: an empty
    // issuer block in the state, so the next `up` writes the declared document back.
    if (e instanceof InvalidConfigurationError) return { issuer: {} };
    // Throttled past the client's retries, or denied: drift that could not be looked for is not
    // reported as none; the refresh fails and says why. A value gone since the describe is the
    // rotator's to report.
    if (!(e instanceof StoreError) || e.reason !== 'ResourceNotFoundException') throw e;
    return undefined;
  }
  let expected: Record<string, unknown>;
  try {
    const source = props.clientSecretSource ?? undefined;
    // A sourced issuer is parsed as check parses it, with a stand-in its declared form leaves out.
    const parsed = parseIssuerConfig(source ? withSourcedStandIn(props.issuer) : props.issuer, { credential: name });
    expected = { ...store.declaredIssuerOf({ issuer: parsed, clientSecretSource: source }) };
  } catch {
    // The state's own inputs no longer parse (written by another version): nothing to compare with.
    return undefined;
  }
  const drift: { issuer?: Record<string, unknown>; clientSecretSource?: unknown } = {};
  const comparable: Record<string, unknown> = { ...document.issuer };
  if (expected.privateKeyPem === undefined) delete comparable.privateKeyPem;
  if (!sameValue(comparable, expected)) drift.issuer = { ...document.issuer };
  if (!sameValue(document.clientSecretSource, props.clientSecretSource)) {
    drift.clientSecretSource = document.clientSecretSource;
  }
  return Object.keys(drift).length > 0 ? drift : undefined;
}

/** `delete`: removes both secrets (recovery window configurable; 0 deletes without recovery). */
export function remove(props: Record<string, unknown>, seams: ProviderSeams = {}): Promise<void> {
  return explained(props, (settings) => removeCredential(props, settings, seams));
}

async function removeCredential(
  props: Record<string, unknown>,
  settings: Partial<AwsSettings>,
  seams: ProviderSeams,
): Promise<void> {
  const name = String(props.name);
  const prefix = typeof props.prefix === 'string' ? props.prefix : DEFAULT_PREFIX;
  const days = typeof props.recoveryWindowInDays === 'number' ? props.recoveryWindowInDays : undefined;
  await store.deleteCredentialSecrets(
    { client: secretsManager(seams, settings), prefix },
    name,
    days === 0
      ? { forceDeleteWithoutRecovery: true }
      : { recoveryWindowInDays: days ?? store.MIN_RECOVERY_WINDOW_DAYS },
  );
}
