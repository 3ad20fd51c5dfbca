import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TAG_KEYS } from '../../../core/store';
import { ClientDocumentCache } from '../../../lambda/client-cache';
import { type SweepDeps, sweep } from '../../../lambda/sweep';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import {
  at,
  clientIdOf,
  frozenClock,
  type IssuerAnswer,
  NOW,
  PREFIX,
  sirvDocument,
  sirvIssuer,
  sweepDefaults,
  tokenRecord,
} from '../../helpers/fleet';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:token-rotator';

let sm: MemorySecrets;
let lambdaMock: AwsClientStub<LambdaClient>;

beforeEach(() => {
  sm = memorySecrets();
  lambdaMock = mockClient(LambdaClient);
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
});

afterEach(() => {
  sm.restore();
  lambdaMock.restore();
});

/** Credentials `c00`… each due `i` seconds after NOW − 600 (so `c00` is the most urgent). */
function fleet(count: number, refreshAfter: (i: number) => Date = (i) => at(-600 + i)): string[] {
  const names = Array.from({ length: count }, (_, i) => `c${String(i).padStart(2, '0')}`);
  names.forEach((name, i) => {
    sm.addCredential({
      name,
      prefix: PREFIX,
      clientDocument: sirvDocument(name),
      token: tokenRecord(name, refreshAfter(i)),
    });
  });
  return names;
}

function sweepDeps(overrides: Partial<SweepDeps> = {}): SweepDeps {
  return {
    ...sweepDefaults(sm.client),
    lambda: new LambdaClient({ region: 'us-east-1' }),
    functionName: FUNCTION_ARN,
    ...overrides,
  };
}

function writtenCredentials(): string[] {
  return sm.mock
    .commandCalls(PutSecretValueCommand)
    .map((c) => c.args[0].input.SecretId ?? '')
    .map((id) => id.slice(PREFIX.length, -'/token'.length))
    .sort();
}

describe('sweep', () => {
  it('never has more issuer requests in flight than its concurrency', async () => {
    // Prepare
    const names = fleet(20);
    const issuer = sirvIssuer({ holdTurns: 5 });
    // Act
    const summary = await sweep(sweepDeps({ fetch: issuer.fetch, concurrency: 3 }));
    // Assess
    expect(issuer.calls).toHaveLength(20);
    expect(issuer.peakInFlight).toBe(3);
    expect(summary).toMatchObject({ listed: 20, due: 20, refreshed: 20, failed: 0, deferred: 0 });
    expect(writtenCredentials()).toEqual(names);
  });

  it('refreshes only what falls due before the next tick', async () => {
    // Prepare: c00…c04 due within the minute, the rest later.
    fleet(10, (i) => at(i < 5 ? 30 + i : 61 + i));
    const issuer = sirvIssuer();
    // Act
    const summary = await sweep(sweepDeps({ fetch: issuer.fetch }));
    // Assess
    expect(summary).toMatchObject({ listed: 10, due: 5, refreshed: 5 });
    expect(writtenCredentials()).toEqual(['c00', 'c01', 'c02', 'c03', 'c04']);
  });

  it('reads no secret value when nothing is due', async () => {
    fleet(30, (i) => at(3600 + i));
    const issuer = sirvIssuer();
    const summary = await sweep(sweepDeps({ fetch: issuer.fetch }));
    expect(summary).toMatchObject({ listed: 30, due: 0, refreshed: 0 });
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sm.mock.commandCalls(ListSecretsCommand).length).toBeGreaterThan(0);
    expect(issuer.calls).toHaveLength(0);
  });

  it('starts nothing once the remaining time is below the reserve, reporting those credentials deferred', async () => {
    // Prepare
    const names = fleet(6);
    const issuer = sirvIssuer();
    // Act
    const summary = await sweep(sweepDeps({ fetch: issuer.fetch, remainingMs: () => 14_999, reserveMs: 15_000 }));
    // Assess
    expect(summary).toMatchObject({ due: 6, refreshed: 0, deferred: 6 });
    expect(summary.results).toEqual(names.map((credential) => ({ credential, deferred: true })));
    expect(issuer.calls).toHaveLength(0);
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.mock.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it('stops starting work when the time runs short mid-sweep, leaving the rest untouched', async () => {
    // Prepare: the clock of the invocation runs out after three refreshes have started.
    const names = fleet(8);
    const issuer = sirvIssuer();
    let checks = 0;
    const remainingMs = () => (++checks <= 3 ? 60_000 : 10_000);
    // Act
    const summary = await sweep(sweepDeps({ fetch: issuer.fetch, concurrency: 1, remainingMs }));
    // Assess
    expect(summary).toMatchObject({ refreshed: 3, deferred: 5 });
    expect(writtenCredentials()).toEqual(names.slice(0, 3));
    const deferred = summary.results.filter((r) => 'deferred' in r).map((r) => r.credential);
    expect(deferred).toEqual(names.slice(3));
    const touched = sm.mock
      .commandCalls(GetSecretValueCommand)
      .map((c) => c.args[0].input.SecretId)
      .filter((id) => deferred.some((name) => id?.startsWith(`${PREFIX}${name}/`)));
    expect(touched).toEqual([]);
  });

  it("starts nothing past 0.9 of the interval after listing, leaving the rest to the next tick's sweep", async () => {
    // Prepare: each issuer answer takes 10 s of the sweep's clock; one refresh at a time.
    const names = fleet(8);
    const issuer = sirvIssuer();
    let clock = NOW.getTime();
    const slowFetch: typeof fetch = async (input, init) => {
      clock += 10_000;
      return issuer.fetch(input, init);
    };
    // Act: a 60 s interval allows starts until 54 s after the listing: at 0, 10, … 50 s.
    const summary = await sweep(
      sweepDeps({ fetch: slowFetch, concurrency: 1, now: () => new Date(clock), writesPerSecond: undefined }),
    );
    // Assess: six started and were written; the last two were never touched.
    expect(summary).toMatchObject({ due: 8, refreshed: 6, deferred: 2 });
    expect(writtenCredentials()).toEqual(names.slice(0, 6));
    expect(summary.results.filter((r) => 'deferred' in r).map((r) => r.credential)).toEqual(names.slice(6));
    expect(issuer.calls).toHaveLength(6);
  });

  it('fans out every batch beyond the first to asynchronous invocations and refreshes the first here', async () => {
    // Prepare
    const names = fleet(35);
    const issuer = sirvIssuer();
    // Act
    const summary = await sweep(sweepDeps({ fetch: issuer.fetch, batchSize: 10 }));
    // Assess
    const invokes = lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(invokes).toHaveLength(3);
    for (const input of invokes) {
      expect(input.FunctionName).toBe(FUNCTION_ARN);
      expect(input.InvocationType).toBe('Event');
    }
    const payloads = invokes.map(
      (input) =>
        JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)) as { action: string; credentials: string[] },
    );
    // Names only: a batch delivered twice or late must not carry a state its refreshes would trust.
    expect(payloads.map((p) => Object.keys(p).sort())).toEqual(Array(3).fill(['action', 'credentials']));
    expect(payloads.map((p) => p.action)).toEqual(Array(3).fill('refresh-batch'));
    expect(payloads.map((p) => p.credentials.length)).toEqual([10, 10, 5]);
    expect(payloads.flatMap((p) => p.credentials)).toEqual(names.slice(10));
    // The ten most urgent stay here.
    expect(writtenCredentials()).toEqual(names.slice(0, 10));
    expect(issuer.calls.map((c) => c.clientId)).toEqual(names.slice(0, 10).map(clientIdOf));
    expect(summary).toMatchObject({ due: 35, refreshed: 10, fannedOut: 25 });
  });

  it('splits a batch whose names would pass the event bound over several invocations, each with its share of the write rate', async () => {
    // Prepare: 25 credentials to hand off in batches of 20 and 5, events of at most 160 bytes
    // (a few names each); the third event is refused.
    const names = fleet(45);
    lambdaMock
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 202 })
      .resolvesOnce({ StatusCode: 202 })
      .rejectsOnce(new Error('TooManyRequestsException'))
      .resolves({ StatusCode: 202 });

    // Act
    const summary = await sweep(
      sweepDeps({
        fetch: sirvIssuer().fetch,
        batchSize: 20,
        writesPerSecond: 3,
        sleep: async () => {},
        batchEventBytes: 160,
      }),
    );

    // Assess: every credential in exactly one event, each event within the bound and valid.
    const payloads = lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input.Payload as Uint8Array);
    for (const p of payloads) expect(p.length).toBeLessThanOrEqual(160);
    const events = payloads.map((p) => JSON.parse(new TextDecoder().decode(p)));
    // More events than the two batches, none mixing them.
    expect(events.length).toBeGreaterThan(3);
    expect(events.flatMap((e) => e.credentials)).toEqual(names.slice(20));
    expect(events.at(-1)?.credentials).toEqual(names.slice(40));
    // 3 writes/s over 45: each event carries 1/15 per second for each credential it holds.
    for (const e of events) expect(e.writesPerSecond).toBeCloseTo(e.credentials.length / 15, 9);
    // The refused event's credentials, and only those, stay due.
    const refused = events[2]?.credentials ?? [];
    expect(refused.length).toBeGreaterThan(0);
    expect(summary).toMatchObject({ refreshed: 20, fannedOut: 25 - refused.length, deferred: refused.length });
    expect(summary.results.filter((r) => 'deferred' in r).map((r) => r.credential)).toEqual(refused);
  });

  it('counts a failed hand-off without throwing, leaving those credentials due for the next tick', async () => {
    fleet(25);
    lambdaMock
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 202 })
      .rejectsOnce(new Error('AccessDeniedException'))
      .resolves({ StatusCode: 202 });
    const summary = await sweep(sweepDeps({ fetch: sirvIssuer().fetch, batchSize: 10 }));
    expect(summary).toMatchObject({ refreshed: 10, fannedOut: 10, deferred: 5 });
    // The batch whose invoke failed is reported, and stays due for the next tick.
    expect(summary.results.filter((r) => 'deferred' in r).map((r) => r.credential)).toEqual([
      'c20',
      'c21',
      'c22',
      'c23',
      'c24',
    ]);
  });

  it('reports batches nobody could take as deferred when it has no function to fan out to', async () => {
    fleet(25);

    const summary = await sweep(sweepDeps({ fetch: sirvIssuer().fetch, batchSize: 10, lambda: undefined }));

    expect(summary).toMatchObject({ due: 25, refreshed: 10, fannedOut: 0, deferred: 15 });
  });

  it('writes a clean credential with one PutSecretValue and no tag call, and reads no token value', async () => {
    fleet(3);

    await sweep(sweepDeps({ fetch: sirvIssuer().fetch }));

    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(3);
    expect(sm.mock.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(sm.mock.commandCalls(UntagResourceCommand)).toHaveLength(0);
    const reads = [
      ...sm.mock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId ?? ''),
      ...sm.mock.commandCalls(BatchGetSecretValueCommand).flatMap((c) => c.args[0].input.SecretIdList ?? []),
    ];
    expect(reads).toHaveLength(3);
    expect(reads.every((id) => id.endsWith('/client'))).toBe(true);
  });

  it('reads no client document a warm container has cached at the listed version: a describe and a write per refresh', async () => {
    // Prepare: one sweep fills the cache; the clock moves past every new refresh-after.
    const names = fleet(5);
    const clientCache = new ClientDocumentCache();
    // One vendor across both ticks: it hands out a new token each time (a repeated one is refused).
    const issuer = sirvIssuer();
    const clock = frozenClock();
    await sweep(sweepDeps({ fetch: issuer.fetch, clientCache, now: clock.now }));
    sm.mock.resetHistory();
    clock.advance(1000);

    // Act
    const summary = await sweep(sweepDeps({ fetch: issuer.fetch, clientCache, now: clock.now }));

    // Assess: one listing page, then for each credential its describe and its write.
    expect(summary).toMatchObject({ due: 5, refreshed: 5 });
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sm.mock.commandCalls(DescribeSecretCommand)).toHaveLength(5);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(5);
    expect(sm.mock.calls()).toHaveLength(1 + 2 * names.length);
  });

  it('reads the client document again when the listing shows a new client version', async () => {
    fleet(2);
    const clientCache = new ClientDocumentCache();
    // One vendor across both ticks: it hands out a new token each time (a repeated one is refused).
    const issuer = sirvIssuer();
    const clock = frozenClock();
    await sweep(sweepDeps({ fetch: issuer.fetch, clientCache, now: clock.now }));
    // The provider wrote c01's client document again and tagged its token secret with the new version.
    const client = sm.secrets.get(`${PREFIX}c01/client`);
    if (client) client.versionId = 'client-c01-2';
    const token = sm.secrets.get(`${PREFIX}c01/token`);
    if (token) token.tags[TAG_KEYS.clientVersion] = 'client-c01-2';
    sm.mock.resetHistory();
    clock.advance(1000);

    await sweep(sweepDeps({ fetch: issuer.fetch, clientCache, now: clock.now }));

    const reads = sm.mock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId);
    expect(reads).toEqual([`${PREFIX}c01/client`]);
  });

  it('hands out at most one interval of writes at its write rate, deferring the rest to the next tick', async () => {
    fleet(100);
    const summary = await sweep(sweepDeps({ fetch: sirvIssuer().fetch, writesPerSecond: 1, sleep: async () => {} }));
    // 1 write/s × 90 % of 60 s: the 54 most urgent now, 46 on the next tick.
    expect(summary).toMatchObject({ due: 100, refreshed: 54, deferred: 46, fannedOut: 0 });
    expect(writtenCredentials()).toEqual(Array.from({ length: 54 }, (_, i) => `c${String(i).padStart(2, '0')}`));
  });

  it("gives each fanned-out batch its share of the write rate in the invocation's payload", async () => {
    fleet(150);
    // 3 writes/s × 90 % of 60 s = 162 ≥ 150: all are taken.
    const summary = await sweep(
      sweepDeps({ fetch: sirvIssuer().fetch, batchSize: 100, writesPerSecond: 3, sleep: async () => {} }),
    );
    expect(summary).toMatchObject({ due: 150, refreshed: 100, fannedOut: 50 });
    const payload = JSON.parse(
      new TextDecoder().decode(lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array),
    );
    // 3 writes/s over 150 taken: 100 here at 2/s, 50 there at 1/s; both finish in one interval.
    expect(payload).toMatchObject({ action: 'refresh-batch', writesPerSecond: 1 });
    expect(payload.credentials).toHaveLength(50);
  });

  it('isolates each credential from the failures of the others', async () => {
    // Prepare
    const names = fleet(6);
    const answers: Record<string, IssuerAnswer> = {
      [clientIdOf('c01')]: { kind: 'status', status: 503 },
      [clientIdOf('c04')]: { kind: 'status', status: 401 },
    };
    const issuer = sirvIssuer({ answers });
    // Act
    const summary = await sweep(sweepDeps({ fetch: issuer.fetch }));
    // Assess
    expect(summary).toMatchObject({ refreshed: 4, failed: 2, rejected: 1 });
    expect(writtenCredentials()).toEqual(names.filter((n) => n !== 'c01' && n !== 'c04'));
  });

  it('counts as rejected every failure that blocks its credential, a refused request as well as refused credentials', async () => {
    // Prepare: 401 is InvalidCredentials, 400 and 404 InvalidConfiguration (both block), 503 is retried.
    fleet(5);
    const answers: Record<string, IssuerAnswer> = {
      [clientIdOf('c00')]: { kind: 'status', status: 401 },
      [clientIdOf('c01')]: { kind: 'status', status: 400 },
      [clientIdOf('c02')]: { kind: 'status', status: 404 },
      [clientIdOf('c03')]: { kind: 'status', status: 503 },
    };
    // Act
    const summary = await sweep(sweepDeps({ fetch: sirvIssuer({ answers }).fetch }));
    // Assess
    expect(summary).toMatchObject({ refreshed: 1, failed: 4, rejected: 3 });
  });

  it('reports the minimum seconds to expiry after the sweep: new tokens for those refreshed, none for those handed off', async () => {
    // Prepare: 12 due (the old tokens expire 300 s after their refresh-after), one idle expiring in 2 h.
    fleet(12);
    sm.addCredential({
      name: 'idle',
      prefix: PREFIX,
      clientDocument: sirvDocument('idle'),
      token: tokenRecord('idle', at(5400)),
    });
    // Act
    const summary = await sweep(sweepDeps({ fetch: sirvIssuer().fetch, batchSize: 10 }));
    // Assess: the handed-off c10, c11 (expiring in 310 s, 311 s) are their batch's to report.
    expect(summary.minSecondsToExpiry).toBe(1200);
  });

  it('keeps the old expiry of a credential whose refresh failed', async () => {
    fleet(3);
    const issuer = sirvIssuer({ answers: { [clientIdOf('c02')]: { kind: 'status', status: 500 } } });
    const summary = await sweep(sweepDeps({ fetch: issuer.fetch }));
    // c02's token was due at NOW − 598 s and expires 300 s later.
    expect(summary.minSecondsToExpiry).toBe(-298);
  });

  it('lists token secrets only: 120 credentials in two ListSecrets pages', async () => {
    const names = fleet(120);
    const summary = await sweep(sweepDeps({ fetch: sirvIssuer().fetch, batchSize: 200, concurrency: 16 }));
    expect(sm.mock.commandCalls(ListSecretsCommand)).toHaveLength(2);
    expect(summary).toMatchObject({ listed: 120, refreshed: 120 });
    expect(writtenCredentials()).toEqual([...names].sort());
  });
});

describe('sweep: cold client documents read in batches', () => {
  /** The store client, holding each BatchGetSecretValue a few turns and noting the most in flight. */
  function batchObserved() {
    const seen = { inFlight: 0, peak: 0 };
    const client = Object.create(sm.client) as SecretsManagerClient;
    const send = sm.client.send.bind(sm.client) as (command: unknown) => Promise<unknown>;
    client.send = (async (command: unknown) => {
      if (!(command instanceof BatchGetSecretValueCommand)) return send(command);
      seen.inFlight += 1;
      seen.peak = Math.max(seen.peak, seen.inFlight);
      try {
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        return await send(command);
      } finally {
        seen.inFlight -= 1;
      }
    }) as SecretsManagerClient['send'];
    return { client, seen };
  }

  const accessDenied = () =>
    new SecretsManagerServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'not authorized to perform: secretsmanager:BatchGetSecretValue',
    });

  it('refreshes 45 cold credentials with 3 BatchGetSecretValue, 45 DescribeSecret and 45 PutSecretValue, no GetSecretValue, 2 batches at most in flight', async () => {
    // Prepare
    const names = fleet(45);
    const { client, seen } = batchObserved();
    const clientCache = new ClientDocumentCache();
    // Act
    const summary = await sweep(sweepDeps({ fetch: sirvIssuer().fetch, secretsManager: client, clientCache }));
    // Assess
    expect(summary).toMatchObject({ due: 45, refreshed: 45, failed: 0 });
    const batches = sm.mock.commandCalls(BatchGetSecretValueCommand).map((c) => c.args[0].input.SecretIdList ?? []);
    expect(batches.map((b) => b.length)).toEqual([20, 20, 5]);
    expect(batches.flat().sort()).toEqual(names.map((n) => `${PREFIX}${n}/client`));
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(45);
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sm.mock.calls()).toHaveLength(1 + 3 + 2 * 45);
    expect(seen.peak).toBe(2);
    // What the batches read is cached: the next tick reads nothing.
    expect(clientCache.size).toBe(45);
  });

  it('batches only the documents not cached at the listed version', async () => {
    // Prepare: a warm cache, then two client documents change.
    fleet(5);
    const clientCache = new ClientDocumentCache();
    const issuer = sirvIssuer();
    const clock = frozenClock();
    await sweep(sweepDeps({ fetch: issuer.fetch, clientCache, now: clock.now }));
    for (const name of ['c01', 'c03']) {
      const secret = sm.secrets.get(`${PREFIX}${name}/client`);
      if (secret) secret.versionId = `client-${name}-2`;
      const token = sm.secrets.get(`${PREFIX}${name}/token`);
      if (token) token.tags[TAG_KEYS.clientVersion] = `client-${name}-2`;
    }
    sm.mock.resetHistory();
    clock.advance(1000);
    // Act
    const summary = await sweep(sweepDeps({ fetch: issuer.fetch, clientCache, now: clock.now }));
    // Assess
    expect(summary).toMatchObject({ refreshed: 5 });
    const batches = sm.mock.commandCalls(BatchGetSecretValueCommand).map((c) => c.args[0].input.SecretIdList);
    expect(batches).toEqual([[`${PREFIX}c01/client`, `${PREFIX}c03/client`]]);
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(clientCache.get('c01', 'client-c01-2')?.versionId).toBe('client-c01-2');
  });

  /**
   * Five due credentials: c01's client secret is gone, c02's is not JSON, c03's is not a client
   * document. Returns the sweep's results.
   */
  async function brokenFleetSweep(prepare: () => void = () => undefined, extra: Partial<SweepDeps> = {}) {
    fleet(5);
    sm.secrets.delete(`${PREFIX}c01/client`);
    const c02 = sm.secrets.get(`${PREFIX}c02/client`);
    if (c02) c02.value = '{not json';
    const c03 = sm.secrets.get(`${PREFIX}c03/client`);
    if (c03) c03.value = JSON.stringify({ version: 2, issuer: {} });
    prepare();
    const summary = await sweep(sweepDeps({ fetch: sirvIssuer().fetch, ...extra }));
    return summary.results;
  }

  it('reports a batch read refused as a whole (how many credentials, the AWS error name) and reads each alone', async () => {
    // Prepare
    const refusals: unknown[] = [];
    // Act
    const results = await brokenFleetSweep(() => sm.mock.on(BatchGetSecretValueCommand).rejects(accessDenied()), {
      onBatchReadRefused: (refusal) => refusals.push(refusal),
    });
    // Assess: told once, without the AWS message; every document then read alone.
    expect(refusals).toEqual([{ credentials: 5, reason: 'AccessDeniedException' }]);
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(5);
    expect(results.filter((r) => 'ok' in r && r.ok)).toHaveLength(2);
  });

  it('reads alone whatever a refused batch was for even when reporting the refusal throws', async () => {
    // Act
    const results = await brokenFleetSweep(() => sm.mock.on(BatchGetSecretValueCommand).rejects(accessDenied()), {
      onBatchReadRefused: () => {
        throw new Error('reporting failed');
      },
    });
    // Assess
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(5);
    expect(results.filter((r) => 'ok' in r && r.ok)).toHaveLength(2);
  });

  it('reports nothing when the batch read succeeds', async () => {
    const refusals: unknown[] = [];
    await brokenFleetSweep(undefined, { onBatchReadRefused: (refusal) => refusals.push(refusal) });
    expect(refusals).toEqual([]);
  });

  it('falls back to single reads for secrets the batch reports errors for, with the results of single reads throughout', async () => {
    // Prepare: what the same fleet gives when every document is read alone (the batch refused).
    const alone = await brokenFleetSweep(() => sm.mock.on(BatchGetSecretValueCommand).rejects(accessDenied()));
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(5);
    sm.restore();
    sm = memorySecrets();

    // Act
    const batched = await brokenFleetSweep();

    // Assess: one batch; the missing secret (an error entry) read alone and classified as before;
    // the invalid documents fail with the same error without a read of their own.
    expect(sm.mock.commandCalls(BatchGetSecretValueCommand)).toHaveLength(1);
    expect(sm.mock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      `${PREFIX}c01/client`,
    ]);
    expect(batched).toEqual(alone);
    const byName = new Map(batched.map((r) => [r.credential, r]));
    expect(byName.get('c00')).toMatchObject({ ok: true });
    expect(byName.get('c01')).toMatchObject({ ok: false, error: { code: 'StoreError' } });
    expect(byName.get('c02')).toMatchObject({ ok: false, error: { code: 'InvalidConfiguration' } });
    expect(byName.get('c03')).toMatchObject({ ok: false, error: { code: 'InvalidConfiguration' } });
    expect(byName.get('c04')).toMatchObject({ ok: true });
  });

  it('reads alone a document whose batch entry is an error though the secret is there (a per-secret AccessDenied)', async () => {
    // Prepare: the batch answers c02 with an error entry; its own read succeeds.
    fleet(4);
    sm.mock.on(BatchGetSecretValueCommand).callsFake(async (input: { SecretIdList?: string[] }) => {
      const ids = input.SecretIdList ?? [];
      const values = ids
        .filter((id) => !id.includes('c02'))
        .map((id) => {
          const secret = sm.secrets.get(id);
          return { Name: id, SecretString: secret?.value, VersionId: secret?.versionId };
        });
      return {
        SecretValues: values,
        Errors: [{ SecretId: `${PREFIX}c02/client`, ErrorCode: 'AccessDeniedException', Message: 'denied' }],
      };
    });
    // Act
    const summary = await sweep(sweepDeps({ fetch: sirvIssuer().fetch }));
    // Assess
    expect(summary).toMatchObject({ due: 4, refreshed: 4, failed: 0 });
    expect(sm.mock.commandCalls(BatchGetSecretValueCommand)).toHaveLength(1);
    expect(sm.mock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      `${PREFIX}c02/client`,
    ]);
  });

  it('never fails a refresh because the batch call failed as a whole (an older policy without the permission)', async () => {
    // Prepare
    const names = fleet(25);
    sm.mock.on(BatchGetSecretValueCommand).rejects(accessDenied());
    // Act
    const summary = await sweep(sweepDeps({ fetch: sirvIssuer().fetch }));
    // Assess: both batches refused, every document read alone.
    expect(summary).toMatchObject({ due: 25, refreshed: 25, failed: 0 });
    expect(sm.mock.commandCalls(BatchGetSecretValueCommand)).toHaveLength(2);
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(25);
    expect(writtenCredentials()).toEqual(names);
  });

  it('keeps the single read for a lone cold credential', async () => {
    fleet(1);
    await sweep(sweepDeps({ fetch: sirvIssuer().fetch }));
    expect(sm.mock.commandCalls(BatchGetSecretValueCommand)).toHaveLength(0);
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });
});
