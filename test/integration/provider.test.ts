/**
 * The ProviderCredential provider's failure handling against moto, in the order the Pulumi
 * engine calls it (`diff`, then `update` or `create`/`delete`): a failed `pulumi up` keeps the
 * working credential, and a retried one finishes what the failed one left undone.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { privateKeyPemOf } from '../../core/issuers/config';
import {
  describeTokenListing,
  readClientSecret,
  readToken,
  recordFailure,
  secretNames,
  TAG_KEYS,
} from '../../core/store';
import { dueVerdict } from '../../lambda/plan';
import { create, diff, read, remove, update } from '../../provider/runtime';
import { secretsManagerClient } from '../helpers/aws';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const SIRV_ID = 'ZcnZNfzwRhQExoHFoGpxWJ4p2R';
const OLD_SECRET = 'planted-provider-it-old-0001';
const NEW_SECRET = 'planted-provider-it-new-0002';
const WRONG_SECRET = 'planted-provider-it-wrong-0003';

/** Answers like Sirv and like an OAuth2 token endpoint at once, with a new token each call. */
const accepting = (async () => {
  const token = `issued-${randomUUID()}`;
  return Response.json({ token, expiresIn: 1200, access_token: token, token_type: 'Bearer', expires_in: 1200 });
}) as unknown as typeof fetch;
const rejecting = (async () => Response.json({ error: 'invalid_client' }, { status: 401 })) as unknown as typeof fetch;

let client: SecretsManagerClient;
let prefix: string;

beforeEach(() => {
  client = secretsManagerClient();
  prefix = `it-provider-${randomUUID().slice(0, 8)}/`;
});
afterEach(() => client.destroy());

const seams = (fetch: typeof globalThis.fetch = accepting) => ({
  secretsManager: client,
  fetch,
  now: () => NOW,
  random: () => 0,
});

function sirv(name: string, secret: string): Record<string, unknown> {
  return { name, prefix, issuer: { kind: 'sirv', clientId: SIRV_ID, clientSecret: secret }, codeVersion: '0.1.0' };
}

function oauth2(name: string, secret: string): Record<string, unknown> {
  return {
    name,
    prefix,
    issuer: {
      kind: 'oauth2',
      tokenUrl: 'https://auth.example.test/oauth2/token',
      clientId: 'new',
      clientSecret: secret,
    },
    codeVersion: '0.1.0',
  };
}

function signed(name: string, kind: 'signed-jwt' | 'upload'): Record<string, unknown> {
  return { name, prefix, issuer: { kind, subject: 'svc', ttlSeconds: 3600 }, codeVersion: '0.1.0' };
}

/** What Pulumi does with a diff: an in-place update, or a replace (which this provider no longer asks for here). */
async function up(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  fetch: typeof globalThis.fetch = accepting,
): Promise<Record<string, unknown>> {
  const verdict = diff(olds, news);
  expect(verdict.replaces).toEqual([]);
  expect(verdict.deleteBeforeReplace).toBe(false);
  return { ...(await update(olds, news, seams(fetch))).outs };
}

const tokenValue = async (name: string) =>
  (await client.send(new GetSecretValueCommand({ SecretId: secretNames(name, prefix).token }))).SecretString;

describe('a change of issuer kind', () => {
  it('whose new credentials the issuer rejects fails and leaves the old token and client secret in service', async () => {
    const { outs } = await create(sirv('switch', OLD_SECRET), seams());
    const olds = { ...sirv('switch', OLD_SECRET), ...outs };
    const before = await tokenValue('switch');

    await expect(up(olds, oauth2('switch', WRONG_SECRET), rejecting)).rejects.toMatchObject({
      code: 'InvalidCredentials',
    });

    expect(await tokenValue('switch')).toBe(before);
    expect((await readClientSecret({ client, prefix }, 'switch')).document.issuer).toMatchObject({
      kind: 'sirv',
      clientSecret: OLD_SECRET,
    });
  });

  it('that the issuer accepts updates the same secrets in place with the next generation', async () => {
    const { outs } = await create(sirv('switch-ok', OLD_SECRET), seams());
    const olds = { ...sirv('switch-ok', OLD_SECRET), ...outs };

    const after = await up(olds, oauth2('switch-ok', NEW_SECRET));

    expect([after.tokenSecretArn, after.clientSecretArn]).toEqual([outs.tokenSecretArn, outs.clientSecretArn]);
    expect((await readClientSecret({ client, prefix }, 'switch-ok')).document.issuer).toMatchObject({ kind: 'oauth2' });
    expect((await readToken({ client, prefix }, 'switch-ok'))?.generation).toBe(2);
  });

  it('between signed-jwt kinds keeps the generated key and its public key; to another kind drops it', async () => {
    const { outs } = await create(signed('keyed', 'signed-jwt'), seams());
    const generated = privateKeyPemOf((await readClientSecret({ client, prefix }, 'keyed')).document.issuer);
    expect(generated).toMatch(/BEGIN PRIVATE KEY/);

    const asUpload = await up({ ...signed('keyed', 'signed-jwt'), ...outs }, signed('keyed', 'upload'));

    expect(asUpload.publicKeyPem).toBe(outs.publicKeyPem);
    expect((await readClientSecret({ client, prefix }, 'keyed')).document.issuer).toMatchObject({
      kind: 'upload',
      privateKeyPem: generated,
    });

    const asSirv = await up({ ...signed('keyed', 'upload'), ...asUpload }, sirv('keyed', NEW_SECRET));

    expect(asSirv.publicKeyPem).toBeUndefined();
    expect(privateKeyPemOf((await readClientSecret({ client, prefix }, 'keyed')).document.issuer)).toBeUndefined();
  });
});

describe('a credential one of whose secrets is gone', () => {
  async function withTokenGone(name: string, inputs: Record<string, unknown>) {
    const { outs } = await create(inputs, seams());
    await client.send(new DeleteSecretCommand({ SecretId: secretNames(name, prefix).token, RecoveryWindowInDays: 7 }));
    const refreshed = await read(`${prefix}${name}`, { ...inputs, ...outs }, seams());
    expect(refreshed.props?.tokenSecretArn).toBe('');
    return { outs, olds: refreshed.props ?? {} };
  }

  it('keeps the surviving client secret when the issuer rejects the credentials', async () => {
    const { olds } = await withTokenGone('half', sirv('half', OLD_SECRET));

    await expect(up(olds, sirv('half', WRONG_SECRET), rejecting)).rejects.toMatchObject({ code: 'InvalidCredentials' });

    const state = await client.send(new DescribeSecretCommand({ SecretId: secretNames('half', prefix).client }));
    expect(state.DeletedDate).toBeUndefined();
    expect((await readClientSecret({ client, prefix }, 'half')).document.issuer).toMatchObject({
      clientSecret: OLD_SECRET,
    });
  });

  it('is made whole in place, the surviving secret and its generated key kept', async () => {
    const { outs, olds } = await withTokenGone('half-key', signed('half-key', 'signed-jwt'));
    const generated = privateKeyPemOf((await readClientSecret({ client, prefix }, 'half-key')).document.issuer);

    const after = await up(olds, signed('half-key', 'signed-jwt'));

    expect(after.clientSecretArn).toBe(outs.clientSecretArn);
    expect(after.tokenSecretArn).toBe(outs.tokenSecretArn);
    expect(after.publicKeyPem).toBe(outs.publicKeyPem);
    expect(privateKeyPemOf((await readClientSecret({ client, prefix }, 'half-key')).document.issuer)).toBe(generated);
    const listing = await describeTokenListing({ client, prefix }, 'half-key');
    expect(listing?.deletedDate).toBeUndefined();
    // The restored token secret's last generation was 1: the new token follows it.
    expect((await readToken({ client, prefix }, 'half-key'))?.generation).toBe(2);
    expect(diff({ ...olds, ...after }, signed('half-key', 'signed-jwt')).changes).toBe(false);
  });
});

describe('a retried update', () => {
  async function blocked(name: string) {
    const { outs } = await create(sirv(name, OLD_SECRET), seams());
    const before = await describeTokenListing({ client, prefix }, name);
    await recordFailure({ client, prefix }, name, {
      failures: 1,
      lastError: 'InvalidCredentials',
      failedAt: NOW,
      clientVersion: before?.clientVersion,
    });
    const listing = await describeTokenListing({ client, prefix }, name);
    if (!listing) throw new Error('no token secret listed');
    expect(dueVerdict(listing, NOW, 60).reason).toBe('blocked');
    return { ...sirv(name, OLD_SECRET), ...outs };
  }

  /** A client whose TagResource on the token secret fails (throttled past the SDK's retries). */
  function failingTokenTag(name: string): SecretsManagerClient {
    const failing = secretsManagerClient();
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { SecretId?: string };
        if (context.commandName === 'TagResourceCommand' && input.SecretId === secretNames(name, prefix).token) {
          throw Object.assign(new Error('Rate exceeded'), {
            name: 'ThrottlingException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failTokenTag' },
    );
    return failing;
  }

  it('after the client-version tag failed, tags the current client version and writes a token, lifting the block', async () => {
    const olds = await blocked('retry');
    const failing = failingTokenTag('retry');
    await expect(
      update(olds, sirv('retry', NEW_SECRET), { ...seams(), secretsManager: failing }),
    ).rejects.toMatchObject({ code: 'StoreError' });
    failing.destroy();
    const tokenAfterFailure = await readToken({ client, prefix }, 'retry');

    // Pulumi still holds the old state: the next `pulumi up` runs the same update again.
    await update(olds, sirv('retry', NEW_SECRET), seams());

    const names = secretNames('retry', prefix);
    const clientNow = await client.send(new DescribeSecretCommand({ SecretId: names.client }));
    const current = Object.entries(clientNow.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    const listing = await describeTokenListing({ client, prefix }, 'retry');
    if (!listing) throw new Error('no token secret listed');
    expect(listing.clientVersion, `${TAG_KEYS.clientVersion} on the token secret`).toBe(current);
    expect(dueVerdict(listing, NOW, 60).reason).not.toBe('blocked');
    const token = await readToken({ client, prefix }, 'retry');
    expect(token?.generation).toBe((tokenAfterFailure?.generation ?? 0) + 1);
  });

  it('that goes through the first time lifts the block, and running it again writes nothing', async () => {
    const olds = await blocked('once');
    await update(olds, sirv('once', NEW_SECRET), seams());
    const listing = await describeTokenListing({ client, prefix }, 'once');
    if (!listing) throw new Error('no token secret listed');
    expect(dueVerdict(listing, NOW, 60).reason).not.toBe('blocked');

    await update(olds, sirv('once', NEW_SECRET), seams(rejecting));

    expect((await describeTokenListing({ client, prefix }, 'once'))?.versionId).toBe(listing.versionId);
  });
});

describe('an update over a stored token value that is not a token record', () => {
  it('writes the new client document and a fresh token, the generation starting over', async () => {
    const { outs } = await create(sirv('corrupt', OLD_SECRET), seams());
    await recordFailure({ client, prefix }, 'corrupt', { failures: 1, lastError: 'InvalidCredentials', failedAt: NOW });
    await client.send(
      new PutSecretValueCommand({ SecretId: secretNames('corrupt', prefix).token, SecretString: '{"not":"a record"}' }),
    );

    await update({ ...sirv('corrupt', OLD_SECRET), ...outs }, sirv('corrupt', NEW_SECRET), seams());

    expect((await readClientSecret({ client, prefix }, 'corrupt')).document.issuer).toMatchObject({
      clientSecret: NEW_SECRET,
    });
    const token = await readToken({ client, prefix }, 'corrupt');
    expect(token?.accessToken).toMatch(/^issued-/);
    // The hand-written version id carries no generation: nothing is known to continue from.
    expect(token?.generation).toBe(1);
  });
});

describe('ProviderCredential AWS settings (moto)', () => {
  const names = (c: SecretsManagerClient, p: string) =>
    c
      .send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [p] }], MaxResults: 100 }))
      .then((out) => (out.SecretList ?? []).filter((s) => !s.DeletedDate).map((s) => s.ARN ?? ''));
  const regional = (region: string) => secretsManagerClient({ region });
  const noSeams = { fetch: accepting, now: () => NOW, random: () => 0 };

  it('writes, reads and deletes in the recorded region, whatever the shell says', async () => {
    // Prepare: the shell (this process) says us-east-1; the credential records eu-west-1.
    const props = { ...sirv('regional', OLD_SECRET), aws: { region: 'eu-west-1' } };
    const [east, west] = [regional('us-east-1'), regional('eu-west-1')];

    // Act
    const { outs } = await create(props, noSeams);
    const refreshed = await read(`${prefix}regional`, outs as unknown as Record<string, unknown>, noSeams);

    // Assess
    expect(outs.tokenSecretArn).toMatch(/^arn:aws:secretsmanager:eu-west-1:/);
    expect((await names(west, prefix)).sort()).toEqual([outs.clientSecretArn, outs.tokenSecretArn].sort());
    expect(await names(east, prefix)).toEqual([]);
    expect(refreshed.props?.tokenSecretArn).toBe(outs.tokenSecretArn);
    expect(refreshed.props?.aws).toEqual({ region: 'eu-west-1' });

    // Act: destroy, from the recorded settings only.
    await remove(outs as unknown as Record<string, unknown>, noSeams);
    expect(await names(west, prefix)).toEqual([]);
  });

  it('deletes a credential recorded before settings existed from the region its ARNs name', async () => {
    // Prepare: made in eu-central-1, state without `aws` (written by an older provider).
    const { outs } = await create({ ...sirv('unrecorded', OLD_SECRET), aws: { region: 'eu-central-1' } }, noSeams);
    const { aws: _recorded, ...unrecorded } = outs as unknown as Record<string, unknown>;

    // Act
    const verdict = diff(unrecorded, { ...sirv('unrecorded', OLD_SECRET), aws: { region: 'eu-central-1' } });
    await remove(unrecorded, noSeams);

    // Assess: same region, nothing to replace; the delete found the secrets where they are.
    expect(verdict.replaces).toEqual([]);
    expect(await names(regional('eu-central-1'), prefix)).toEqual([]);
  });

  it('assumes the stack role: the secrets land in the role account', async () => {
    // Prepare: moto answers AssumeRole with credentials of the role's account.
    const roleArn = 'arn:aws:iam::222233334444:role/platform-deployer';
    const props = { ...sirv('assumed', OLD_SECRET), aws: { region: 'us-east-1', assumeRoles: [{ roleArn }] } };

    // Act
    const { outs } = await create(props, noSeams);

    // Assess
    expect(outs.tokenSecretArn).toMatch(/^arn:aws:secretsmanager:us-east-1:222233334444:secret:/);
    expect(outs.clientSecretArn).toMatch(/:222233334444:/);
    await remove(outs as unknown as Record<string, unknown>, noSeams);
  });

  it('refuses a new profile that reaches other secrets, naming the settings and what to do', async () => {
    // Prepare: the same name exists in another region, as another account's would.
    const { outs } = await create({ ...sirv('moved', OLD_SECRET), aws: { region: 'us-east-1' } }, noSeams);
    const other = await create({ ...sirv('moved', OLD_SECRET), aws: { region: 'us-west-2' } }, noSeams);
    const olds = outs as unknown as Record<string, unknown>;

    // Act: settings that reach the us-west-2 pair while the state names the us-east-1 one.
    const failure = await update(
      { ...olds, aws: { region: 'us-west-2' } },
      { ...sirv('moved', OLD_SECRET), aws: { region: 'us-west-2', profile: 'other-account' } },
      { ...noSeams, secretsManager: regional('us-west-2') },
    ).catch((e: unknown) => e as Error);

    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error).message)).toMatch(
      /Credential "moved": its secret arn:aws:secretsmanager:us-east-1:\S+ is not reachable with the new AWS settings \(region us-west-2, profile "other-account"\).*new name or prefix/,
    );
    await remove(olds, noSeams);
    await remove(other.outs as unknown as Record<string, unknown>, noSeams);
  });
});

describe('ProviderCredential adoption of its own secrets (moto)', () => {
  const URN = 'urn:pulumi:dev::platform::pulumi-nodejs:dynamic/token-rotator:ProviderCredential::sirv-prod';
  const owned = (name: string, secret: string, owner = URN) => ({ ...sirv(name, secret), owner });

  it('adopts what a killed pulumi up left: same secrets, new value, owner tagged on both', async () => {
    // Prepare: an up that wrote both secrets and died before Pulumi recorded them.
    const orphan = await create(owned('adopted', OLD_SECRET), seams());

    // Act: the retried up creates again.
    const { outs } = await create(owned('adopted', NEW_SECRET), seams());

    // Assess
    expect(outs.clientSecretArn).toBe(orphan.outs.clientSecretArn);
    expect(outs.tokenSecretArn).toBe(orphan.outs.tokenSecretArn);
    expect((await readClientSecret({ client, prefix }, 'adopted')).document.issuer).toMatchObject({
      clientSecret: NEW_SECRET,
    });
    // The first token follows the orphan's generation: generations never go back.
    expect((await readToken({ client, prefix }, 'adopted'))?.generation).toBe(2);
    for (const id of [outs.clientSecretArn, outs.tokenSecretArn]) {
      const tags = (await client.send(new DescribeSecretCommand({ SecretId: id }))).Tags ?? [];
      expect(tags).toContainEqual({ Key: 'token-rotator:owner', Value: URN });
    }
  });

  it("refuses another resource's secrets with the command that takes them over", async () => {
    // Prepare
    await create(owned('taken', OLD_SECRET, `${URN}-other`), seams());

    // Act
    const failure = await create(owned('taken', NEW_SECRET), seams()).catch((e: unknown) => e as Error);

    // Assess
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toContain(
      `Credential "taken": "${prefix}taken/client" and "${prefix}taken/token" already exist in us-east-1 and are not this resource's (owner: ${URN}-other)`,
    );
    expect(message).toContain(
      `aws secretsmanager tag-resource --region us-east-1 --secret-id ${prefix}taken/client --tags '[{"Key":"token-rotator:owner","Value":"${URN}"}]'`,
    );
    expect(message).not.toContain(NEW_SECRET);
    expect(message).not.toContain(OLD_SECRET);
    expect((await readClientSecret({ client, prefix }, 'taken')).document.issuer).toMatchObject({
      clientSecret: OLD_SECRET,
    });
  });

  it('adopts them once tagged as the message says', async () => {
    // Prepare: secrets made by hand (no owner), then tagged as the refusal tells.
    await create(sirv('by-hand', OLD_SECRET), seams());
    const refusal = await create(owned('by-hand', NEW_SECRET), seams()).catch((e: unknown) => e as Error);
    expect(refusal).toBeInstanceOf(Error);
    for (const suffix of ['client', 'token']) {
      await client.send(
        new TagResourceCommand({
          SecretId: `${prefix}by-hand/${suffix}`,
          Tags: [{ Key: 'token-rotator:owner', Value: URN }],
        }),
      );
    }

    // Act
    const { outs } = await create(owned('by-hand', NEW_SECRET), seams());

    // Assess
    expect(outs.tokenSecretArn).toContain(`:secret:${prefix}by-hand/token-`);
    expect((await readClientSecret({ client, prefix }, 'by-hand')).document.issuer).toMatchObject({
      clientSecret: NEW_SECRET,
    });
  });
});
