/**
 * Pins the AWS calls of the rotator's handler against moto, counted by command with an SDK
 * middleware (counts are stable where times are not): an idle sweep, a refresh in a cold (client
 * documents read 20 per BatchGetSecretValue) and in a warm container, a changed client document, a failure and its recovery, and the migration of
 * a credential written before issue 14.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createCredentialSecrets,
  deleteCredentialSecrets,
  readToken,
  secretNames,
  TAG_KEYS,
  tokenVersionId,
  updateClientDocument,
} from '../../core/store';
import type { TokenRecord } from '../../core/token';
import { createHandler, type InvocationContext } from '../../lambda';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { secretsManagerClient } from '../helpers/aws';

const PREFIX = `calls-${randomUUID().slice(0, 8)}/`;
const COUNT = 12;
const CLIENT = { clientId: 'calls-client', clientSecret: 'calls-client-secret-7a1b' };
const LEGACY = 'legacy';
const names = Array.from({ length: COUNT }, (_, i) => `c${String(i).padStart(2, '0')}`);
const context: InvocationContext = { getRemainingTimeInMillis: () => 600_000, functionName: 'token-rotator' };

let sirv: SirvFake;
let client: SecretsManagerClient;
let counts: Map<string, number>;
let handler: ReturnType<typeof createHandler>;
let shiftMs = 0;
const now = () => new Date(Date.now() + shiftMs);

function countCommands(sm: SecretsManagerClient): Map<string, number> {
  const map = new Map<string, number>();
  sm.middlewareStack.add(
    (next, ctx) => async (args) => {
      const name = (ctx.commandName ?? 'unknown').replace(/Command$/, '');
      map.set(name, (map.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return map;
}

/** Runs one scheduled sweep and returns its calls by command. */
async function sweepCalls(): Promise<{ calls: Record<string, number>; summary: Record<string, unknown> }> {
  counts.clear();
  const summary = (await handler({ action: 'sweep' }, context)) as unknown as Record<string, unknown>;
  return { calls: Object.fromEntries(counts), summary };
}

function placeholder(name: string, issuedAt: Date): TokenRecord {
  return {
    version: 1,
    credential: name,
    issuer: 'json',
    accessToken: `placeholder-${name}`,
    tokenType: 'Bearer',
    issuedAt: issuedAt.toISOString(),
    expiresAt: new Date(issuedAt.getTime() + 1_200_000).toISOString(),
    refreshAfter: new Date(issuedAt.getTime() + 900_000).toISOString(),
    generation: 1,
  };
}

function clientDocument() {
  return {
    version: 1 as const,
    issuer: { kind: 'sirv', url: sirv.tokenUrl, allowInsecureHttp: true, ...CLIENT },
    policy: {},
  };
}

beforeAll(async () => {
  sirv = await startSirvFake({ clients: { [CLIENT.clientId]: CLIENT.clientSecret }, now });
  const setup = secretsManagerClient();
  const issuedAt = new Date();
  for (const name of names) {
    await createCredentialSecrets(
      { client: setup, prefix: PREFIX },
      { name, clientDocument: clientDocument(), token: placeholder(name, issuedAt) },
    );
  }
  client = secretsManagerClient();
  counts = countCommands(client);
  // EMF lines of the metrics go nowhere; the counts are what this file checks.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  handler = createHandler({
    secretsManager: client,
    now,
    random: () => 0.5,
    env: { TOKEN_ROTATOR_PREFIX: PREFIX, TOKEN_ROTATOR_BATCH_SIZE: '1000' },
    logger: new Logger({ serviceName: 'token-rotator', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'TokenRotator', serviceName: 'token-rotator' }),
  });
}, 60_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await sirv?.close();
  const setup = secretsManagerClient();
  for (const name of [...names, LEGACY]) {
    await deleteCredentialSecrets({ client: setup, prefix: PREFIX }, name, { forceDeleteWithoutRecovery: true });
  }
});

describe('AWS calls of the rotator on moto', () => {
  it('makes one ListSecrets page and reads no value on an idle sweep of 12 credentials (token secrets only)', async () => {
    const { calls, summary } = await sweepCalls();
    expect(summary).toMatchObject({ listed: COUNT, due: 0 });
    expect(calls).toEqual({ ListSecrets: 1 });
  });

  it('refreshes with a put and a share of one batch client read (20 per call) per credential in a cold container, no tag call', async () => {
    shiftMs += 16 * 60_000;
    const { calls, summary } = await sweepCalls();
    expect(summary).toMatchObject({ refreshed: COUNT, failed: 0 });
    // 12 client documents: one BatchGetSecretValue (up to 20 a call), no single read.
    expect(calls).toEqual({ ListSecrets: 1, BatchGetSecretValue: 1, PutSecretValue: COUNT });
    const stored = await readToken({ client: secretsManagerClient(), prefix: PREFIX }, 'c00');
    expect(stored?.generation).toBe(2);
  });

  it('refreshes with 1 call per credential in a warm container (the put): the client documents are cached', async () => {
    shiftMs += 16 * 60_000;
    const { calls, summary } = await sweepCalls();
    expect(summary).toMatchObject({ refreshed: COUNT, failed: 0 });
    expect(calls).toEqual({ ListSecrets: 1, PutSecretValue: COUNT });
  });

  it('reads only the client document the provider changed (its token secret shows the new version)', async () => {
    await updateClientDocument({ client: secretsManagerClient(), prefix: PREFIX }, 'c03', clientDocument());
    shiftMs += 16 * 60_000;
    const { calls } = await sweepCalls();
    expect(calls).toEqual({ ListSecrets: 1, GetSecretValue: 1, PutSecretValue: COUNT });
  });

  it('records a failure with one tag call, and clears it with one untag call on recovery', async () => {
    shiftMs += 16 * 60_000;
    sirv.injectFault({ status: 503 }, 1);
    const failed = await sweepCalls();
    expect(failed.summary).toMatchObject({ refreshed: COUNT - 1, failed: 1 });
    expect(failed.calls).toEqual({ ListSecrets: 1, PutSecretValue: COUNT - 1, TagResource: 1 });

    // The backoff is at most ten minutes: one more sweep later, the failed one is due again.
    shiftMs += 11 * 60_000;
    const recovered = await sweepCalls();
    expect(recovered.summary).toMatchObject({ refreshed: 1, failed: 0 });
    expect(recovered.calls).toEqual({ ListSecrets: 1, PutSecretValue: 1, UntagResource: 1 });
  });

  it('migrates a credential written before issue 14 with one-time calls, then refreshes it with one', async () => {
    // Prepare: the layout of earlier versions: UUID version id, refresh-after/expiry tags, no client version.
    const setup = secretsManagerClient();
    const secrets = secretNames(LEGACY, PREFIX);
    const record = placeholder(LEGACY, new Date(now().getTime() - 16 * 60_000));
    await setup.send(
      new CreateSecretCommand({
        Name: secrets.client,
        SecretString: JSON.stringify(clientDocument()),
        Tags: [{ Key: TAG_KEYS.credential, Value: LEGACY }],
      }),
    );
    await setup.send(
      new CreateSecretCommand({
        Name: secrets.token,
        SecretString: JSON.stringify(record),
        ClientRequestToken: tokenVersionId(record),
        Tags: [
          { Key: TAG_KEYS.credential, Value: LEGACY },
          { Key: TAG_KEYS.refreshAfter, Value: String(Date.parse(record.refreshAfter) / 1000) },
          { Key: TAG_KEYS.expiresAt, Value: String(Date.parse(record.expiresAt) / 1000) },
          { Key: TAG_KEYS.failures, Value: '0' },
        ],
      }),
    );

    // Act: due now (its refresh-after passed); the others are not.
    const first = await sweepCalls();

    // Assess: read the token (no state in its version id) and the client, put, tag the client
    // version, drop the legacy tags.
    expect(first.summary).toMatchObject({ listed: COUNT + 1, refreshed: 1 });
    expect(first.calls).toEqual({
      ListSecrets: 1,
      GetSecretValue: 2,
      PutSecretValue: 1,
      TagResource: 1,
      UntagResource: 1,
    });
    expect((await readToken({ client: setup, prefix: PREFIX }, LEGACY))?.generation).toBe(2);

    // Act: two schedule intervals past its new refresh-after, everything is due: one put each.
    shiftMs += 16 * 60_000;
    const second = await sweepCalls();
    expect(second.summary).toMatchObject({ refreshed: COUNT + 1 });
    expect(second.calls).toEqual({ ListSecrets: 1, PutSecretValue: COUNT + 1 });
  });
});
