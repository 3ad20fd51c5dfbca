/**
 * Pins the AWS calls of the rotator's handler against moto, counted by command with an SDK
 * middleware (counts are stable where times are not): an idle sweep, a refresh in a cold (client
 * documents read 20 per BatchGetSecretValue) and in a warm container, a changed client document,
 * a failure and its recovery, and a listing that lags behind the writes (AWS: "ListSecrets might
 * not reflect changes from the last five minutes").
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCredentialSecrets, deleteCredentialSecrets, readToken, updateClientDocument } from '../../core/store';
import type { TokenRecord } from '../../core/token';
import { createHandler, type InvocationContext } from '../../lambda';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { secretsManagerClient } from '../helpers/aws';

const PREFIX = `calls-${randomUUID().slice(0, 8)}/`;
const COUNT = 12;
const CLIENT = { clientId: 'calls-client', clientSecret: 'calls-client-secret-7a1b' };
const names = Array.from({ length: COUNT }, (_, i) => `c${String(i).padStart(2, '0')}`);
const context: InvocationContext = { getRemainingTimeInMillis: () => 600_000, functionName: 'token-rotator' };

let sirv: SirvFake;
let client: SecretsManagerClient;
let counts: Map<string, number>;
let handler: ReturnType<typeof createHandler>;
/** When set, ListSecrets answers with the last answer it gave instead of asking moto. */
let replayListing = false;
let shiftMs = 0;
const now = () => new Date(Date.now() + shiftMs);

function countCommands(sm: SecretsManagerClient): Map<string, number> {
  const map = new Map<string, number>();
  let lastListing: unknown;
  sm.middlewareStack.add(
    (next, ctx) => async (args) => {
      if (ctx.commandName !== 'ListSecretsCommand') return next(args);
      if (replayListing && lastListing !== undefined) return lastListing as Awaited<ReturnType<typeof next>>;
      lastListing = await next(args);
      return lastListing as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: 'replayListing' },
  );
  sm.middlewareStack.add(
    (next, ctx) => async (args) => {
      const name = (ctx.commandName ?? 'unknown').replace(/Command$/, '');
      map.set(name, (map.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands', priority: 'high' },
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
    issuer: { kind: 'sirv' as const, url: sirv.tokenUrl, allowInsecureHttp: true, ...CLIENT },
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
  handler = newContainer();
}, 60_000);

/** A handler as a new Lambda container runs it: nothing cached, nothing remembered. */
function newContainer(): ReturnType<typeof createHandler> {
  return createHandler({
    secretsManager: client,
    now,
    random: () => 0.5,
    env: { TOKEN_ROTATOR_PREFIX: PREFIX, TOKEN_ROTATOR_BATCH_SIZE: '1000' },
    logger: new Logger({ serviceName: 'token-rotator', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'TokenRotator', serviceName: 'token-rotator' }),
  });
}

afterAll(async () => {
  vi.restoreAllMocks();
  await sirv?.close();
  const setup = secretsManagerClient();
  for (const name of names) {
    await deleteCredentialSecrets({ client: setup, prefix: PREFIX }, name, { forceDeleteWithoutRecovery: true });
  }
});

describe('AWS calls of the rotator on moto', () => {
  it('makes one ListSecrets page and reads no value on an idle sweep of 12 credentials (token secrets only)', async () => {
    const { calls, summary } = await sweepCalls();
    expect(summary).toMatchObject({ listed: COUNT, due: 0 });
    expect(calls).toEqual({ ListSecrets: 1 });
  });

  it('refreshes with a describe, a put and a share of one batch client read (20 per call) per credential in a cold container, no tag call', async () => {
    shiftMs += 16 * 60_000;
    const { calls, summary } = await sweepCalls();
    expect(summary).toMatchObject({ refreshed: COUNT, failed: 0 });
    // 12 client documents: one BatchGetSecretValue (up to 20 a call), no single read.
    expect(calls).toEqual({ ListSecrets: 1, BatchGetSecretValue: 1, DescribeSecret: COUNT, PutSecretValue: COUNT });
    const stored = await readToken({ client: secretsManagerClient(), prefix: PREFIX }, 'c00');
    expect(stored?.generation).toBe(2);
  });

  it('refreshes with 2 calls per credential in a warm container (describe, put), one of them a write: the client documents are cached', async () => {
    shiftMs += 16 * 60_000;
    const { calls, summary } = await sweepCalls();
    expect(summary).toMatchObject({ refreshed: COUNT, failed: 0 });
    expect(calls).toEqual({ ListSecrets: 1, DescribeSecret: COUNT, PutSecretValue: COUNT });
  });

  it('reads only the client document the provider changed (its token secret shows the new version)', async () => {
    await updateClientDocument({ client: secretsManagerClient(), prefix: PREFIX }, 'c03', clientDocument());
    shiftMs += 16 * 60_000;
    const { calls } = await sweepCalls();
    expect(calls).toEqual({ ListSecrets: 1, DescribeSecret: COUNT, GetSecretValue: 1, PutSecretValue: COUNT });
  });

  it('records a failure with one tag call, and clears it with one untag call on recovery', async () => {
    shiftMs += 16 * 60_000;
    sirv.injectFault({ status: 503 }, 1);
    const failed = await sweepCalls();
    expect(failed.summary).toMatchObject({ refreshed: COUNT - 1, failed: 1 });
    expect(failed.calls).toEqual({ ListSecrets: 1, DescribeSecret: COUNT, PutSecretValue: COUNT - 1, TagResource: 1 });

    // The backoff is at most ten minutes: one more sweep later, the failed one is due again.
    shiftMs += 11 * 60_000;
    const recovered = await sweepCalls();
    expect(recovered.summary).toMatchObject({ refreshed: 1, failed: 0 });
    expect(recovered.calls).toEqual({ ListSecrets: 1, DescribeSecret: 1, PutSecretValue: 1, UntagResource: 1 });
  });

  it('writes nothing and asks no issuer again when the listing still shows the tokens it replaced', async () => {
    // Prepare: everything is due; one sweep refreshes it all, and the listing then lags behind.
    shiftMs += 16 * 60_000;
    const refreshed = await sweepCalls();
    expect(refreshed.summary).toMatchObject({ refreshed: COUNT });
    const issued = sirv.requests.length;
    replayListing = true;
    try {
      // Act: the same container, a minute later, with the old listing: it remembers its own writes.
      shiftMs += 60_000;
      const sameContainer = await sweepCalls();
      // Act: a new container with the old listing: it describes each credential before any issuer call.
      handler = newContainer();
      const otherContainer = await sweepCalls();
      // Assess
      expect(sameContainer.summary).toMatchObject({ due: 0, refreshed: 0 });
      expect(sameContainer.calls).toEqual({ ListSecrets: 1 });
      expect(otherContainer.summary).toMatchObject({ due: COUNT, refreshed: 0, skipped: COUNT });
      expect(otherContainer.calls).toEqual({ ListSecrets: 1, BatchGetSecretValue: 1, DescribeSecret: COUNT });
      expect(sirv.requests.length).toBe(issued);
    } finally {
      replayListing = false;
    }
  });
});
