/**
 * core/store against a real moto server (started by test/support/global-setup.ts). Every test
 * works under its own prefix, so tests share the server without seeing each other's secrets.
 *
 * moto 5.2.5 deviations from AWS found while writing these (the store codes to AWS's documented
 * behaviour, so none of them is exercised on purpose):
 * - CreateSecret on a name scheduled for deletion fails with ResourceExistsException (AWS:
 *   InvalidRequestException). The store describes first and restores, so both work.
 * - ListSecrets ignores SortBy/SortOrder and lists in creation order; the store pairs /client and
 *   /token entries whatever the order.
 * - DeleteSecret with ForceDeleteWithoutRecovery on a missing secret answers success; with a
 *   recovery window it fails with ResourceNotFoundException. The store accepts both as deleted.
 * - UpdateSecret with only a KmsKeyId adds no version (as AWS documents).
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidCredentialsError } from '../../core/errors';
import { parseIssuerConfig } from '../../core/issuers/config';
import {
  type ClientDocumentInput,
  createCredentialSecrets,
  deleteCredentialSecrets,
  describeCredential,
  listCredentials,
  putToken,
  readClientSecret,
  readToken,
  recordFailure,
  type SecretStore,
  secretNames,
  TAG_KEYS,
} from '../../core/store';
import type { TokenRecord } from '../../core/token';
import { decodeTokenVersion, encodeTokenVersion } from '../../core/token-version';
import { secretsManagerClient } from '../helpers/aws';
import { caught } from '../helpers/caught';
import { tokenRecord } from '../helpers/token-record';

const CLIENT_SECRET = 'integration-client-secret';

function aRecord(credential: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return tokenRecord(
    credential,
    { at: new Date('2025-03-01T12:00:00.000Z'), issued: 0, refresh: 900, expires: 1200 },
    { accessToken: `token-of-${credential}-${randomUUID()}`, ...overrides },
  );
}

function aClientDocument(): ClientDocumentInput {
  return { version: 1, issuer: { kind: 'sirv', clientId: 'id', clientSecret: CLIENT_SECRET }, policy: {} };
}

/** Counts every command the client sends, by name, as the SDK sees it. */
function countCommands(client: SecretsManagerClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return counts;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function inBatches<T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += limit) await Promise.all(items.slice(i, i + limit).map(task));
}

let client: SecretsManagerClient;
let store: SecretStore;

beforeEach(() => {
  client = secretsManagerClient();
  store = { client, prefix: `it-${randomUUID().slice(0, 8)}/` };
});

afterEach(() => {
  client.destroy();
});

async function tagsOf(secretId: string): Promise<Record<string, string>> {
  const out = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

describe('core/store on moto', () => {
  it('creates both secrets with the documented JSON and tags', async () => {
    // Prepare
    const record = aRecord('sirv-prod');
    const names = secretNames('sirv-prod', store.prefix);
    // Act
    const arns = await createCredentialSecrets(store, {
      name: 'sirv-prod',
      clientDocument: aClientDocument(),
      token: record,
      tags: { team: 'media' },
    });
    // Assess
    expect(arns.clientSecretArn).toContain(`:secret:${names.client}-`);
    expect(arns.tokenSecretArn).toContain(`:secret:${names.token}-`);
    const token = await client.send(new GetSecretValueCommand({ SecretId: names.token }));
    expect(JSON.parse(token.SecretString ?? '')).toEqual(record);
    const clientValue = await client.send(new GetSecretValueCommand({ SecretId: names.client }));
    // moto keeps the ClientRequestToken as the version id; it carries the token's state.
    expect(token.VersionId).toBe(encodeTokenVersion(record, clientValue.VersionId));
    expect(decodeTokenVersion(token.VersionId)).toMatchObject({
      generation: record.generation,
      refreshAfter: new Date(record.refreshAfter),
      expiresAt: new Date(record.expiresAt),
    });
    // Written as validated: the issuer parsed, its defaults filled in.
    expect(JSON.parse(clientValue.SecretString ?? '')).toEqual({
      ...aClientDocument(),
      issuer: parseIssuerConfig(aClientDocument().issuer),
    });
    expect(await tagsOf(names.client)).toEqual({ team: 'media', [TAG_KEYS.credential]: 'sirv-prod' });
    expect(await tagsOf(names.token)).toEqual({
      team: 'media',
      [TAG_KEYS.credential]: 'sirv-prod',
      [TAG_KEYS.clientVersion]: clientValue.VersionId,
    });
    await expect(readClientSecret(store, 'sirv-prod')).resolves.toMatchObject({ document: aClientDocument() });
    await expect(readToken(store, 'sirv-prod')).resolves.toEqual(record);
  });

  it('keeps one version when the same token is put twice', async () => {
    // Prepare
    const initial = aRecord('twice');
    await createCredentialSecrets(store, { name: 'twice', clientDocument: aClientDocument(), token: initial });
    const next = aRecord('twice', { generation: 2 });
    // Act
    const first = await putToken(store, next, { obtainedWith: 'c-1' });
    const second = await putToken(store, next, { obtainedWith: 'c-1' });
    // Assess
    expect(first).toBe(encodeTokenVersion(next, 'c-1'));
    expect(second).toBe(first);
    const versions = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: secretNames('twice', store.prefix).token }),
    );
    expect(versions.Versions).toHaveLength(2);
    expect(versions.Versions?.map((v) => v.VersionId)).toContain(first);
    await expect(readToken(store, 'twice')).resolves.toEqual(next);
  });

  it('lists 150 credentials over several pages from the token secrets alone', async () => {
    // Prepare
    const names = Array.from({ length: 150 }, (_, i) => `cred-${String(i).padStart(3, '0')}`);
    await inBatches(names, 15, (name) =>
      createCredentialSecrets(store, { name, clientDocument: aClientDocument(), token: aRecord(name) }),
    );
    const counts = countCommands(client);
    // Act
    const listings = await collect(listCredentials(store, { pageSize: 40 }));
    // Assess
    expect(listings.map((l) => l.name).sort()).toEqual(names);
    // 150 token secrets (the client secrets are filtered out on the server) at 40 a page: moto honours MaxResults.
    expect(counts.get('ListSecretsCommand')).toBe(4);
    expect([...counts.keys()]).toEqual(['ListSecretsCommand']);
    expect(counts.get('GetSecretValueCommand')).toBeUndefined();
    for (const listing of listings) {
      // From the version id in SecretVersionsToStages: no tag and no value needed.
      expect(listing).toMatchObject({ failures: 0, generation: 1, refreshAfter: new Date('2025-03-01T12:15:00.000Z') });
      expect(listing.clientVersion).toMatch(/.{32,}/);
    }
  });

  it('restores and reuses a credential whose secrets are scheduled for deletion', async () => {
    // Prepare
    const first = await createCredentialSecrets(store, {
      name: 'phoenix',
      clientDocument: aClientDocument(),
      token: aRecord('phoenix'),
    });
    await recordFailure(store, 'phoenix', { failures: 3, lastError: 'InvalidCredentials', failedAt: new Date() });
    await deleteCredentialSecrets(store, 'phoenix', { recoveryWindowInDays: 7 });
    expect(await collect(listCredentials(store))).toEqual([]);
    const again = aRecord('phoenix', { generation: 5 });
    // Act
    const second = await createCredentialSecrets(store, {
      name: 'phoenix',
      clientDocument: aClientDocument(),
      token: again,
    });
    // Assess
    expect(second).toEqual(first);
    const state = await describeCredential(store, 'phoenix');
    expect(state.client.deletedDate).toBeUndefined();
    expect(state.token.deletedDate).toBeUndefined();
    expect(state.token.tags[TAG_KEYS.failures]).toBeUndefined();
    expect(state.token.tags[TAG_KEYS.lastError]).toBeUndefined();
    expect(state.token.tags[TAG_KEYS.failedAt]).toBeUndefined();
    await expect(readToken(store, 'phoenix')).resolves.toEqual(again);
    expect(await collect(listCredentials(store))).toMatchObject([{ name: 'phoenix', failures: 0 }]);
  });

  it('makes a token secret without a value for the rotator to write first, and rolls everything back when it cannot', async () => {
    // Prepare: the first token comes from elsewhere (the rotator, asked by name).
    const names = secretNames('from-rotator', store.prefix);
    const first = aRecord('from-rotator');
    let seen: TokenRecord | undefined | 'unset' = 'unset';
    // Act
    await createCredentialSecrets(
      store,
      { name: 'from-rotator', clientDocument: aClientDocument() },
      {
        firstToken: async () => {
          seen = await readToken(store, 'from-rotator');
          await putToken(store, first, { obtainedWith: 'c-1' });
        },
      },
    );
    // Assess: the hook found both secrets there and no token yet; the listing shows its write.
    expect(seen).toBeUndefined();
    await expect(readToken(store, 'from-rotator')).resolves.toEqual(first);
    expect((await collect(listCredentials(store))).map((l) => l.name)).toContain('from-rotator');

    // Act: the issuer refuses the next one's first token.
    const refused = new InvalidCredentialsError('Credential "refused": the issuer rejected the client id.', {
      credential: 'refused',
    });
    const error = await caught(
      createCredentialSecrets(
        store,
        { name: 'refused', clientDocument: aClientDocument() },
        {
          firstToken: async () => {
            throw refused;
          },
        },
      ),
    );
    // Assess: the error as it was, and nothing left behind.
    expect(error).toBe(refused);
    const state = await describeCredential(store, 'refused');
    expect(state.client.exists).toBe(false);
    expect(state.token.exists).toBe(false);
    expect(names.token).toContain('from-rotator');
  });

  it('records a failure in tags and leaves the token value byte-identical', async () => {
    // Prepare
    await createCredentialSecrets(store, { name: 'flaky', clientDocument: aClientDocument(), token: aRecord('flaky') });
    const tokenName = secretNames('flaky', store.prefix).token;
    const before = await client.send(new GetSecretValueCommand({ SecretId: tokenName }));
    const nextAttempt = new Date('2025-03-01T12:10:00.000Z');
    // Act
    await recordFailure(store, 'flaky', { failures: 2, lastError: 'IssuerUnavailable', nextAttempt });
    // Assess
    const after = await client.send(new GetSecretValueCommand({ SecretId: tokenName }));
    expect(after.SecretString).toBe(before.SecretString);
    expect(after.VersionId).toBe(before.VersionId);
    expect(await collect(listCredentials(store))).toMatchObject([
      { name: 'flaky', failures: 2, lastError: 'IssuerUnavailable', nextAttempt },
    ]);
    // A successful write clears the failure again.
    await putToken(store, aRecord('flaky', { generation: 2 }));
    expect(await collect(listCredentials(store))).toMatchObject([
      { name: 'flaky', failures: 0, lastError: undefined, nextAttempt: undefined },
    ]);
  });

  it('removes both secrets, at once or into their recovery window', async () => {
    // Prepare
    for (const name of ['now', 'later']) {
      await createCredentialSecrets(store, { name, clientDocument: aClientDocument(), token: aRecord(name) });
    }
    // Act
    await deleteCredentialSecrets(store, 'now', { forceDeleteWithoutRecovery: true });
    await deleteCredentialSecrets(store, 'later');
    // Deleting again is not an error.
    await deleteCredentialSecrets(store, 'now', { forceDeleteWithoutRecovery: true });
    await deleteCredentialSecrets(store, 'later');
    // Assess
    const now = await describeCredential(store, 'now');
    expect([now.client.exists, now.token.exists]).toEqual([false, false]);
    const later = await describeCredential(store, 'later');
    expect(later.client.deletedDate).toBeInstanceOf(Date);
    expect(later.token.deletedDate).toBeInstanceOf(Date);
    expect(await collect(listCredentials(store))).toEqual([]);
    expect(await collect(listCredentials(store, { includePlannedDeletion: true }))).toMatchObject([
      { name: 'later', deletedDate: expect.any(Date) },
    ]);
  });

  it('leaves no secret behind when creating the token secret fails', async () => {
    // Prepare: the token secret's CreateSecret fails after the client secret was really created.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Name?: string };
        if (context.commandName === 'CreateSecretCommand' && input.Name?.endsWith('/token')) {
          throw Object.assign(new Error('injected'), {
            name: 'AccessDeniedException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failTokenCreate' },
    );
    // Act
    const attempt = createCredentialSecrets(store, {
      name: 'half',
      clientDocument: aClientDocument(),
      token: aRecord('half'),
    });
    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'StoreError', credential: 'half', transient: false });
    const state = await describeCredential(store, 'half');
    expect([state.client.exists, state.token.exists]).toEqual([false, false]);
  });

  it.each(['client', 'token'] as const)(
    'rolls back a %s secret whose CreateSecret went through but whose answer was lost',
    async (which) => {
      // Prepare: the request is carried out; its answer never arrives (a reset connection).
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { Name?: string };
          const result = await next(args);
          if (context.commandName === 'CreateSecretCommand' && input.Name?.endsWith(`/${which}`)) {
            throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
          }
          return result;
        },
        { step: 'initialize', name: 'loseCreateAnswer' },
      );
      const input = { name: 'lost', clientDocument: aClientDocument(), token: aRecord('lost') };
      // Act
      await expect(createCredentialSecrets(store, input)).rejects.toMatchObject({ code: 'StoreError' });
      // Assess: nothing left behind, so the next `pulumi up` can create the credential.
      const state = await describeCredential(store, 'lost');
      expect([state.client.exists, state.token.exists]).toEqual([false, false]);
      const retry = { ...store, client: secretsManagerClient() };
      await expect(createCredentialSecrets(retry, input)).resolves.toMatchObject({
        tokenSecretArn: expect.any(String),
      });
      retry.client.destroy();
    },
  );

  it('leaves alone a secret that someone else created under the name between the look and the create', async () => {
    // Prepare: another writer creates the token secret just before ours is sent.
    const other = secretsManagerClient();
    const names = secretNames('raced', store.prefix);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Name?: string };
        if (context.commandName === 'CreateSecretCommand' && input.Name === names.token) {
          await other.send(new CreateSecretCommand({ Name: names.token, SecretString: 'theirs' }));
        }
        return next(args);
      },
      { step: 'initialize', name: 'raceTokenCreate' },
    );
    // Act
    const attempt = createCredentialSecrets(store, {
      name: 'raced',
      clientDocument: aClientDocument(),
      token: aRecord('raced'),
    });
    // Assess: ours is undone, theirs is untouched.
    await expect(attempt).rejects.toMatchObject({ code: 'StoreError', reason: 'ResourceExistsException' });
    const state = await describeCredential(store, 'raced');
    expect([state.client.exists, state.token.exists]).toEqual([false, true]);
    const theirs = await other.send(new GetSecretValueCommand({ SecretId: names.token }));
    expect(theirs.SecretString).toBe('theirs');
    other.destroy();
  });

  it('puts a secret back into its recovery window when its RestoreSecret went through but the answer was lost', async () => {
    // Prepare: a credential scheduled for deletion; the token's restore is carried out, its answer lost.
    await createCredentialSecrets(store, { name: 'again', clientDocument: aClientDocument(), token: aRecord('again') });
    await deleteCredentialSecrets(store, 'again', { recoveryWindowInDays: 7 });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { SecretId?: string };
        const result = await next(args);
        if (context.commandName === 'RestoreSecretCommand' && input.SecretId?.endsWith('/token')) {
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
        }
        return result;
      },
      { step: 'initialize', name: 'loseRestoreAnswer' },
    );
    // Act
    await expect(
      createCredentialSecrets(store, { name: 'again', clientDocument: aClientDocument(), token: aRecord('again') }),
    ).rejects.toMatchObject({ code: 'StoreError' });
    // Assess: both are pending deletion again, recoverable as before.
    const state = await describeCredential(store, 'again');
    expect([state.client.deletedDate, state.token.deletedDate]).toEqual([expect.any(Date), expect.any(Date)]);
  });

  it('writes a kept live secret in place and keeps it when making the other one fails', async () => {
    // Prepare: the token secret is gone; its CreateSecret will be refused.
    const { clientSecretArn } = await createCredentialSecrets(store, {
      name: 'kept',
      clientDocument: aClientDocument(),
      token: aRecord('kept'),
    });
    await client.send(
      new DeleteSecretCommand({ SecretId: secretNames('kept', store.prefix).token, ForceDeleteWithoutRecovery: true }),
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'CreateSecretCommand') {
          throw Object.assign(new Error('injected'), {
            name: 'AccessDeniedException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failCreate' },
    );
    const rewritten: ClientDocumentInput = {
      ...aClientDocument(),
      issuer: { kind: 'sirv', clientId: 'id', clientSecret: 'rewritten' },
    };
    // Act
    const attempt = createCredentialSecrets(
      store,
      { name: 'kept', clientDocument: rewritten, token: aRecord('kept') },
      { keep: { clientSecretArn } },
    );
    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'StoreError', reason: 'AccessDeniedException' });
    const state = await describeCredential(store, 'kept');
    expect([state.client.exists, state.client.deletedDate, state.token.exists]).toEqual([true, undefined, false]);
    expect((await readClientSecret(store, 'kept')).document.issuer).toMatchObject({ clientSecret: 'rewritten' });
  });

  it('refuses to overwrite a live credential of the same name', async () => {
    await createCredentialSecrets(store, { name: 'taken', clientDocument: aClientDocument(), token: aRecord('taken') });
    const original = await readToken(store, 'taken');
    await expect(
      createCredentialSecrets(store, { name: 'taken', clientDocument: aClientDocument(), token: aRecord('taken') }),
    ).rejects.toMatchObject({ code: 'StoreError', reason: 'ResourceExistsException' });
    await expect(readToken(store, 'taken')).resolves.toEqual(original);
  });
});
