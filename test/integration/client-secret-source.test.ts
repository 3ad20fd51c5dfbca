/**
 * A credential whose client secret lives in a Secrets Manager secret of the user's
 * (`clientSecretSource`), against moto and the Sirv fake: created through the provider, refreshed
 * by the rotator, the source rotated behind the issuer's back (picked up after the old secret is
 * rejected), a block lifted by a new source version, and a missing source refused at create with
 * nothing left behind. The client secret never shows in outputs, the client document, errors or logs.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidConfigurationError } from '../../core/errors';
import { describeTokenListing, readToken, secretNames } from '../../core/store';
import { createHandler, type InvocationContext } from '../../lambda';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { startForwardingProxy } from '../../local-stack/forwarding-proxy';
import { secretsManagerOperation } from '../../local-stack/throttling-proxy';
import { reveal, TokenRotatorProvider } from '../../plugin/provider';
import { CREDENTIAL_TOKEN } from '../../plugin/schema';
import { create, diff, read, update } from '../../provider/runtime';
import { motoEndpoint, secretsManagerClient } from '../helpers/aws';

const CLIENT_ID = 'ZcnZNfzwRhQExoHFoGpxWJ4p2R';
const FIRST = `planted-source-first-${randomUUID()}`;
const SECOND = `planted-source-second-${randomUUID()}`;
const THIRD = `planted-source-third-${randomUUID()}`;
const PLANTED = [FIRST, SECOND, THIRD];
const CONTEXT: InvocationContext = { getRemainingTimeInMillis: () => 900_000, functionName: 'token-rotator' };

/** A simulated clock shared by the provider, the rotator and the fake, starting at the wall clock. */
let simMs = Math.floor(Date.now() / 1000) * 1000;
const now = () => new Date(simMs);
const advance = (seconds: number) => {
  simMs += seconds * 1000;
};

let client: SecretsManagerClient;
let sirv: SirvFake;
let prefix: string;
let handler: ReturnType<typeof createHandler>;
/** Everything written to stdout and stderr while the rotator ran (its logs and metrics). */
let output = '';
const sirvClients: Record<string, string> = {};

beforeAll(async () => {
  client = secretsManagerClient();
  prefix = `it-source-${randomUUID().slice(0, 8)}/`;
  sirv = await startSirvFake({ clients: sirvClients, now });
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      output += String(chunk);
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
  }
  handler = createHandler({
    secretsManager: client,
    now,
    random: () => 0.5,
    env: { TOKEN_ROTATOR_PREFIX: prefix },
    logger: new Logger({ serviceName: 'token-rotator', logLevel: 'DEBUG' }),
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await sirv?.close();
  client?.destroy();
});

const seams = () => ({ secretsManager: client, now, random: () => 0.5 });

function sourcedSirv(name: string, secretArn: string): Record<string, unknown> {
  return {
    name,
    prefix,
    issuer: { kind: 'sirv', clientId: CLIENT_ID, url: sirv.tokenUrl, allowInsecureHttp: true },
    clientSecretSource: { secretArn, jsonKey: 'clientSecret' },
    policy: { allowFrequentWrites: true },
    codeVersion: '0.1.0',
  };
}

async function sourceSecret(value: string): Promise<string> {
  const out = await client.send(
    new CreateSecretCommand({
      Name: `it-source-${randomUUID().slice(0, 8)}/sirv`,
      SecretString: JSON.stringify({ clientId: CLIENT_ID, clientSecret: value }),
    }),
  );
  return out.ARN ?? '';
}

const rotate = (secretArn: string, value: string) =>
  client.send(
    new PutSecretValueCommand({
      SecretId: secretArn,
      SecretString: JSON.stringify({ clientId: CLIENT_ID, clientSecret: value }),
    }),
  );

const sweep = async () => (await handler({ action: 'sweep' }, CONTEXT)) as unknown as Record<string, unknown>;
const secretsSent = () => sirv.requests.map((r) => (r.body as { clientSecret?: string } | undefined)?.clientSecret);

describe('a credential with a clientSecretSource', () => {
  it('is created, refreshed, follows a rotated source, and is unblocked by a new source version', async () => {
    sirvClients[CLIENT_ID] = FIRST;
    const secretArn = await sourceSecret(FIRST);
    const names = secretNames('sourced', prefix);

    // Create: the first token is obtained with the value read from the source.
    const { outs } = await create(sourcedSirv('sourced', secretArn), seams());
    expect((await readToken({ client, prefix }, 'sourced'))?.generation).toBe(1);
    expect(outs.clientSecretSource).toEqual({ secretArn, jsonKey: 'clientSecret' });
    const stored = (await client.send(new GetSecretValueCommand({ SecretId: names.client }))).SecretString ?? '';
    expect(JSON.parse(stored)).toMatchObject({ clientSecretSource: { secretArn }, issuer: { clientId: CLIENT_ID } });
    expect(JSON.parse(stored).issuer).not.toHaveProperty('clientSecret');

    // The rotator refreshes it (reading the source with its own client).
    advance(1000);
    await sweep();
    expect((await readToken({ client, prefix }, 'sourced'))?.generation).toBe(2);

    // The source is rotated and the issuer refuses the old secret: the cached document is
    // rejected, read again with the source's new version, and the refresh succeeds.
    await rotate(secretArn, SECOND);
    sirvClients[CLIENT_ID] = SECOND;
    advance(1000);
    await sweep();
    expect((await readToken({ client, prefix }, 'sourced'))?.generation).toBe(3);
    expect(secretsSent().slice(-2)).toEqual([FIRST, SECOND]);

    // The issuer now refuses the source's secret: blocked, with a recheck and the source version.
    sirvClients[CLIENT_ID] = THIRD;
    advance(1000);
    await sweep();
    const blocked = await describeTokenListing({ client, prefix }, 'sourced');
    expect(blocked).toMatchObject({ lastError: 'InvalidCredentials' });
    expect(blocked?.failedSourceVersion).toBeDefined();
    expect(blocked?.nextAttempt).toBeDefined();

    // At the recheck with the source unchanged, the issuer is not asked again, and the block is
    // held, not rejected anew: no failure counted, only the next look moved.
    const asked = sirv.requests.length;
    advance(3600);
    const held = await sweep();
    expect(held).toMatchObject({ due: 1, held: 1, failed: 0, rejected: 0, blocked: 1 });
    expect(sirv.requests.length).toBe(asked);
    const still = await describeTokenListing({ client, prefix }, 'sourced');
    expect(still).toMatchObject({ lastError: 'InvalidCredentials', failures: blocked?.failures });
    expect(still?.nextAttempt?.getTime()).toBeGreaterThan(blocked?.nextAttempt?.getTime() ?? Number.POSITIVE_INFINITY);

    // A new source version lifts the block at the next recheck.
    await rotate(secretArn, THIRD);
    advance(3600);
    await sweep();
    const lifted = await describeTokenListing({ client, prefix }, 'sourced');
    expect(lifted?.lastError).toBeUndefined();
    expect(lifted?.generation).toBe(4);
    expect(secretsSent().at(-1)).toBe(THIRD);

    // The client secret is nowhere but in the source and the issuer's requests (the rotator's
    // logs, at DEBUG, did speak of the credential and its rejection).
    expect(output).toMatch(/sourced/);
    expect(output).toMatch(/InvalidCredentials/);
    const everything = JSON.stringify(outs) + stored + output;
    for (const value of PLANTED) expect(everything).not.toContain(value);
  });

  it('whose source the rotator cannot read is retried after a backoff, not blocked for good', async () => {
    const name = 'unreadable';
    sirvClients[CLIENT_ID] = FIRST;
    const secretArn = await sourceSecret(FIRST);
    await create(sourcedSirv(name, secretArn), seams());
    // The source scheduled for deletion: GetSecretValue is refused until it is restored.
    await client.send(new DeleteSecretCommand({ SecretId: secretArn, RecoveryWindowInDays: 7 }));

    advance(1000);
    await sweep();
    const failed = await describeTokenListing({ client, prefix }, name);
    expect(failed).toMatchObject({ lastError: 'InvalidConfiguration', generation: 1 });
    expect(failed?.nextAttempt).toBeDefined();

    await client.send(new RestoreSecretCommand({ SecretId: secretArn }));
    advance(3600);
    await sweep();
    const after = await describeTokenListing({ client, prefix }, name);
    expect(after?.lastError).toBeUndefined();
    expect(after?.generation).toBe(2);
  });

  it('moves to another source by an update, even once the old source is gone, and refresh reports no value', async () => {
    const name = 'moving';
    sirvClients[CLIENT_ID] = FIRST;
    const first = await sourceSecret(FIRST);
    const props = sourcedSirv(name, first);
    const { id, outs } = await create(props, seams());

    // refresh: nothing drifted, and the value read from the source is not reported.
    const refreshed = await read(id, { ...props, ...outs }, seams());
    expect(refreshed.props?.issuer).toEqual(props.issuer);
    expect(refreshed.props?.clientSecretSource).toEqual(props.clientSecretSource);

    // The old source is deleted and the issuer now takes another secret, kept in a new source.
    await client.send(new DeleteSecretCommand({ SecretId: first, ForceDeleteWithoutRecovery: true }));
    sirvClients[CLIENT_ID] = SECOND;
    const second = await sourceSecret(SECOND);
    const news = sourcedSirv(name, second);
    expect(diff({ ...props, ...outs }, news)).toMatchObject({ changes: true, replaces: [] });

    const after = await update({ ...props, ...outs }, news, seams());

    expect(after.outs.clientSecretSource).toEqual({ secretArn: second, jsonKey: 'clientSecret' });
    const stored = (await client.send(new GetSecretValueCommand({ SecretId: secretNames(name, prefix).client })))
      .SecretString;
    expect(JSON.parse(stored ?? '{}').clientSecretSource).toEqual({ secretArn: second, jsonKey: 'clientSecret' });
    expect((await readToken({ client, prefix }, name))?.generation).toBe(2);
    const everything = JSON.stringify([outs, refreshed, after]) + stored;
    for (const value of PLANTED) expect(everything).not.toContain(value);
  });

  it('is refreshed and imported by a deployer who may not read its source: drift reported, the source not read', async () => {
    const name = 'not-readable';
    sirvClients[CLIENT_ID] = FIRST;
    const secretArn = await sourceSecret(FIRST);
    const props = sourcedSirv(name, secretArn);
    const { id, outs } = await create(props, seams());
    // The issuer block is edited by hand in the client document: drift a refresh must report.
    const names = secretNames(name, prefix);
    const document = JSON.parse(
      (await client.send(new GetSecretValueCommand({ SecretId: names.client }))).SecretString ?? '{}',
    );
    await client.send(
      new PutSecretValueCommand({
        SecretId: names.client,
        SecretString: JSON.stringify({ ...document, issuer: { ...document.issuer, clientId: 'EditedByHand' } }),
      }),
    );
    // The deployer reaches moto through a proxy that answers GetSecretValue on the source as IAM
    // does for an identity without that permission; everything else passes.
    const asked: string[] = [];
    const proxy = await startForwardingProxy({
      target: motoEndpoint(),
      name: 'denying proxy',
      handle: async (request, forward) => {
        const operation = secretsManagerOperation(request.headers['x-amz-target']);
        const secretId = operation === 'GetSecretValue' ? JSON.parse(request.body.toString()).SecretId : undefined;
        if (secretId !== secretArn) return forward();
        asked.push(secretId);
        return {
          status: 400,
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body: JSON.stringify({
            __type: 'AccessDeniedException',
            message: `User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretArn}`,
          }),
        };
      },
    });
    const deployer = secretsManagerClient({ endpoint: proxy.endpoint });
    try {
      const refreshed = await read(id, { ...props, ...outs }, { ...seams(), secretsManager: deployer });

      // pulumi import through the plugin, whose clients take their endpoint from the environment.
      vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', proxy.endpoint);
      const imported = await new TokenRotatorProvider('0.1.0')
        .read(id, `urn:pulumi:dev::platform::${CREDENTIAL_TOKEN}::${name}`, {})
        .finally(() => vi.unstubAllEnvs());

      expect(refreshed.props?.issuer).toEqual({ ...(props.issuer as object), clientId: 'EditedByHand' });
      expect(refreshed.props?.clientSecretSource).toEqual(props.clientSecretSource);
      expect(reveal(imported.inputs)).toMatchObject({
        name,
        prefix,
        issuer: { kind: 'sirv', clientId: 'EditedByHand' },
        clientSecretSource: props.clientSecretSource,
      });
      expect(asked).toEqual([]);
      // The proxy does refuse the source to this deployer.
      const refused = await deployer.send(new GetSecretValueCommand({ SecretId: secretArn })).catch((e: unknown) => e);
      expect((refused as Error).name).toBe('AccessDeniedException');
      const everything = JSON.stringify([outs, refreshed, reveal(imported)]);
      for (const value of PLANTED) expect(everything).not.toContain(value);
    } finally {
      deployer.destroy();
      await proxy.close();
    }
  });

  it('whose source does not exist fails create, naming the field and the IAM, and leaves nothing behind', async () => {
    const missing = `arn:aws:secretsmanager:us-east-1:123456789012:secret:it-missing-${randomUUID().slice(0, 8)}-AbCdEf`;

    const error = await create(sourcedSirv('missing', missing), seams()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe('clientSecretSource.secretArn');
    expect((error as Error).message).toMatch(/^Credential "missing": clientSecretSource\.secretArn: no secret arn:/);
    const left = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [`${prefix}missing`] }] }),
    );
    expect(left.SecretList ?? []).toEqual([]);
  });
});
