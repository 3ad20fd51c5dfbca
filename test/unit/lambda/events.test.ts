/**
 * Refresh outcomes as EventBridge events: which outcome gives which event, 10 entries per
 * PutEvents in order, failures counted (never thrown), and no token, secret or upstream text in
 * any detail, through the real handler with planted values.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { KMSClient, KMSServiceException, SignCommand } from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RefreshResult } from '../../../core/rotator-protocol';
import { secretNames } from '../../../core/store';
import { createHandler, type InvocationContext, rotatorConfigFromEnv } from '../../../lambda';
import { EVENT_SOURCE, publishRefreshEvents, type RefreshOutcomeEvent, refreshEvents } from '../../../lambda/events';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import {
  at,
  clientIdOf,
  type IssuerAnswer,
  NOW,
  PLANTED_SECRET,
  PLANTED_TOKEN_PREFIX,
  PREFIX,
  sirvDocument,
  sirvIssuer,
  tokenRecord,
} from '../../helpers/fleet';
import { captureProcessOutput } from '../../helpers/process-output';

const eventBridge = mockClient(EventBridgeClient);
const BUS = 'platform-events';
const now = () => new Date(NOW.getTime());

const refreshed = (credential: string, generation = 2): RefreshResult => ({
  credential,
  ok: true,
  generation,
  expiresAt: at(1200).toISOString(),
  refreshAfter: at(900).toISOString(),
  secondsToExpiry: 1200,
});
const failed = (credential: string, code: string, transient: boolean, secondsToExpiry?: number): RefreshResult => ({
  credential,
  ok: false,
  error: { code, message: `Credential "${credential}": upstream said ${PLANTED_SECRET}`, transient },
  nextAttempt: transient ? at(120).toISOString() : undefined,
  secondsToExpiry,
  generation: secondsToExpiry === undefined ? undefined : 7,
  expiresAt: secondsToExpiry === undefined ? undefined : at(secondsToExpiry).toISOString(),
});

beforeEach(() => {
  eventBridge.reset();
});

describe('refreshEvents', () => {
  it('maps each outcome to its detail type, in result order, skipping not-due and deferred credentials', () => {
    // Act
    const events = refreshEvents([
      refreshed('ok'),
      {
        credential: 'fresh',
        ok: true,
        skipped: 'not-due',
        generation: 3,
        expiresAt: at(900).toISOString(),
        refreshAfter: at(600).toISOString(),
        secondsToExpiry: 900,
      },
      { credential: 'late', deferred: true },
      failed('rejected', 'InvalidCredentials', false, 600),
      failed('down', 'IssuerUnavailable', true, 300),
      failed('gone', 'IssuerUnavailable', true, -5),
      failed('bad-config', 'InvalidConfiguration', false),
      // Permanent but not blocking: retried with backoff, so not a rejection.
      Object.assign(failed('denied', 'StoreError', false, 600), { nextAttempt: at(120).toISOString() }),
    ]);
    // Assess
    expect(events.map((e) => [e.detail.credential, e.detailType])).toEqual([
      ['ok', 'Token Refreshed'],
      ['rejected', 'Credential Rejected'],
      ['down', 'Refresh Failing'],
      ['gone', 'Refresh Failing'],
      ['gone', 'Token Expired'],
      ['bad-config', 'Credential Rejected'],
      ['denied', 'Refresh Failing'],
    ]);
    expect(events[0]?.detail).toEqual({
      credential: 'ok',
      generation: 2,
      expiresAt: at(1200).toISOString(),
      refreshAfter: at(900).toISOString(),
      secondsToExpiry: 1200,
    });
    expect(events[2]?.detail).toEqual({
      credential: 'down',
      generation: 7,
      expiresAt: at(300).toISOString(),
      secondsToExpiry: 300,
      errorCode: 'IssuerUnavailable',
      nextAttempt: at(120).toISOString(),
    });
    expect(events.at(-1)?.detail).toMatchObject({ errorCode: 'StoreError', nextAttempt: at(120).toISOString() });
    expect(JSON.stringify(events)).not.toContain(PLANTED_SECRET);
  });
});

describe('refreshEvents of two rotators', () => {
  it("name the rotator's prefix and token secret in every detail, so two rotators' events on one bus differ", async () => {
    // Prepare: team-a/ and team-b/ each have a sirv-prod (names are unique only within a prefix).
    const results: RefreshResult[] = [
      refreshed('sirv-prod'),
      failed('sirv-prod', 'InvalidCredentials', false, -5),
      failed('sirv-prod', 'IssuerUnavailable', true, 300),
    ];
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    // Act
    for (const prefix of ['team-a/', 'team-b/']) {
      await publishRefreshEvents(refreshEvents(results, { prefix }), {
        eventBridge: eventBridge as unknown as EventBridgeClient,
        eventBusName: 'default',
        now,
      });
    }
    // Assess: the same entries but for the two added fields; every other field as before.
    const [a = [], b = []] = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(a.map((e) => e.DetailType)).toEqual([
      'Token Refreshed',
      'Credential Rejected',
      'Token Expired',
      'Refresh Failing',
    ]);
    const unmarked = refreshEvents(results).map((e) => e.detail);
    for (const [entries, prefix] of [
      [a, 'team-a/'],
      [b, 'team-b/'],
    ] as const) {
      const details = entries.map((e) => JSON.parse(e.Detail ?? '{}'));
      expect(details).toEqual(
        unmarked.map((d) => ({ ...d, prefix, tokenSecretName: secretNames('sirv-prod', prefix).token })),
      );
    }
    for (let i = 0; i < a.length; i++) expect(a[i]).not.toEqual(b[i]);
    expect(JSON.stringify([a, b])).not.toContain(PLANTED_SECRET);
  });
});

describe('publishRefreshEvents', () => {
  const many = (n: number): RefreshOutcomeEvent[] =>
    refreshEvents(Array.from({ length: n }, (_, i) => refreshed(`c-${i}`)));

  it('puts 10 entries per PutEvents, one call after the other, in order', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })),
    }));
    // Act
    const outcome = await publishRefreshEvents(many(23), {
      eventBridge: eventBridge as unknown as EventBridgeClient,
      eventBusName: BUS,
      now,
    });
    // Assess
    expect(outcome).toEqual({ published: 23, failed: 0 });
    const calls = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(calls.map((entries) => entries.length)).toEqual([10, 10, 3]);
    const credentials = calls.flat().map((e) => JSON.parse(e.Detail ?? '{}').credential);
    expect(credentials).toEqual(Array.from({ length: 23 }, (_, i) => `c-${i}`));
    expect(calls[0]?.[0]).toMatchObject({
      Source: EVENT_SOURCE,
      DetailType: 'Token Refreshed',
      EventBusName: BUS,
      Time: NOW,
    });
  });

  it('counts a failed call and refused entries instead of throwing, and keeps sending the rest', async () => {
    // Prepare: the first call fails outright, the second has two entries refused.
    eventBridge
      .on(PutEventsCommand)
      .rejectsOnce(new Error('ThrottlingException'))
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [{ ErrorCode: 'InternalFailure' }, { ErrorCode: 'InternalFailure' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [] });
    // Act
    const outcome = await publishRefreshEvents(many(25), {
      eventBridge: eventBridge as unknown as EventBridgeClient,
      eventBusName: BUS,
      now,
    });
    // Assess
    expect(outcome).toEqual({ published: 13, failed: 12 });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);
  });

  it('makes no call when there is nothing to say', async () => {
    await expect(
      publishRefreshEvents([], { eventBridge: eventBridge as unknown as EventBridgeClient, eventBusName: BUS, now }),
    ).resolves.toEqual({ published: 0, failed: 0 });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});

describe('handler with TOKEN_ROTATOR_EVENT_BUS', () => {
  const CONTEXT: InvocationContext = { getRemainingTimeInMillis: () => 600_000, functionName: 'token-rotator' };
  let sm: MemorySecrets;
  let lambdaMock: AwsClientStub<LambdaClient>;
  let output: string[];

  beforeEach(() => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    sm = memorySecrets();
    lambdaMock = mockClient(LambdaClient);
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
    output = captureProcessOutput();
  });

  afterEach(() => {
    vi.restoreAllMocks();
    sm.restore();
    lambdaMock.restore();
  });

  function sweepWith(answers: Record<string, IssuerAnswer>, env: Record<string, string> = {}) {
    for (const name of ['ok', 'rejected', 'down']) {
      sm.addCredential({ name, prefix: PREFIX, clientDocument: sirvDocument(name), token: tokenRecord(name, at(-30)) });
    }
    const handler = createHandler({
      secretsManager: sm.client,
      lambda: new LambdaClient({ region: 'us-east-1' }),
      eventBridge: new EventBridgeClient({ region: 'us-east-1' }),
      fetch: sirvIssuer({ answers }).fetch,
      now,
      random: () => 0,
      env: { TOKEN_ROTATOR_PREFIX: PREFIX, TOKEN_ROTATOR_EVENT_BUS: BUS, ...env },
    });
    return handler({ action: 'sweep' }, CONTEXT);
  }

  const answers: Record<string, IssuerAnswer> = {
    [clientIdOf('rejected')]: { kind: 'status', status: 401, body: { message: `bad secret ${PLANTED_SECRET}` } },
    [clientIdOf('down')]: { kind: 'status', status: 503, body: { message: `down ${PLANTED_SECRET}` } },
  };

  it('puts one event per outcome on the bus, with no token, secret or upstream text in any of them', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await sweepWith(answers);
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    const byCredential = Object.fromEntries(
      entries.map((e) => [JSON.parse(e.Detail ?? '{}').credential, [e.DetailType, JSON.parse(e.Detail ?? '{}')]]),
    );
    expect(byCredential.ok?.[0]).toBe('Token Refreshed');
    expect(byCredential.rejected).toEqual([
      'Credential Rejected',
      expect.objectContaining({ errorCode: 'InvalidCredentials' }),
    ]);
    expect(byCredential.down).toEqual([
      'Refresh Failing',
      expect.objectContaining({ errorCode: 'IssuerUnavailable', nextAttempt: expect.any(String) }),
    ]);
    const all = JSON.stringify(entries);
    expect(all).not.toContain(PLANTED_SECRET);
    expect(all).not.toContain(PLANTED_TOKEN_PREFIX);
    expect(all).not.toContain('bad secret');
  });

  it('refreshes and answers as usual when PutEvents fails, and counts the lost events as a metric', async () => {
    eventBridge.on(PutEventsCommand).rejects(new Error('AccessDeniedException'));
    const result = await sweepWith(answers);
    expect(result).toMatchObject({ refreshed: 1, failed: 2 });
    const stored = sm.secrets.get(secretNames('ok', PREFIX).token)?.value ?? '{}';
    expect(JSON.parse(stored).generation).toBeGreaterThan(tokenRecord('ok', at(-30)).generation);
    const emf = output
      .join('')
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(emf.some((line) => line.RefreshEventsFailed === 3)).toBe(true);
  });

  it('reports a throttled KMS Sign as Refresh Failing and keeps the old token of a KMS-signed credential', async () => {
    // Prepare
    const keyId = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const kms = mockClient(KMSClient);
    kms
      .on(SignCommand)
      .rejects(
        new KMSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      );
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const old = tokenRecord('upload', at(-30), { issuer: 'signed-jwt' });
    sm.addCredential({
      name: 'upload',
      prefix: PREFIX,
      clientDocument: { version: 1, issuer: { kind: 'upload', subject: 'user-xyz', kms: { keyId } }, policy: {} },
      token: old,
    });
    const handler = createHandler({
      secretsManager: sm.client,
      lambda: new LambdaClient({ region: 'us-east-1' }),
      eventBridge: new EventBridgeClient({ region: 'us-east-1' }),
      kms: new KMSClient({ region: 'us-east-1' }),
      now,
      random: () => 0,
      env: { TOKEN_ROTATOR_PREFIX: PREFIX, TOKEN_ROTATOR_EVENT_BUS: BUS },
    });
    // Act
    const result = await handler({ action: 'sweep' }, CONTEXT);
    // Assess
    expect(result).toMatchObject({
      refreshed: 0,
      failed: 1,
      failures: [{ credential: 'upload', code: 'IssuerUnavailable' }],
    });
    expect(kms.commandCalls(SignCommand)[0]?.args[0].input).toMatchObject({ KeyId: keyId, MessageType: 'RAW' });
    expect(JSON.parse(sm.secrets.get(secretNames('upload', PREFIX).token)?.value ?? '{}')).toEqual(old);
    const [entry] = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entry?.DetailType).toBe('Refresh Failing');
    expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({
      credential: 'upload',
      errorCode: 'IssuerUnavailable',
      generation: 7,
    });
    kms.restore();
  });

  it('refuses a bus value that is no name or ARN, naming the variable', () => {
    expect(() => rotatorConfigFromEnv({ TOKEN_ROTATOR_EVENT_BUS: 'my bus!' })).toThrow(/TOKEN_ROTATOR_EVENT_BUS/);
    expect(rotatorConfigFromEnv({ TOKEN_ROTATOR_EVENT_BUS: '' }).eventBusName).toBeUndefined();
    expect(rotatorConfigFromEnv({ TOKEN_ROTATOR_EVENT_BUS: BUS }).eventBusName).toBe(BUS);
  });

  it('puts no event when no bus is configured', async () => {
    await sweepWith(answers, { TOKEN_ROTATOR_EVENT_BUS: '' });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});

describe('refreshEvents over arbitrary outcomes (property)', () => {
  const KEYS = new Set([
    'credential',
    'generation',
    'expiresAt',
    'refreshAfter',
    'secondsToExpiry',
    'errorCode',
    'nextAttempt',
    'prefix',
    'tokenSecretName',
  ]);
  const result = fc.oneof(
    fc.record({
      credential: fc.string({ minLength: 1, maxLength: 16 }),
      ok: fc.constant(true as const),
      generation: fc.nat(),
      expiresAt: fc.constant(at(1200).toISOString()),
      refreshAfter: fc.constant(at(900).toISOString()),
      secondsToExpiry: fc.integer({ min: -86_400, max: 86_400 }),
    }),
    fc.record(
      {
        credential: fc.string({ minLength: 1, maxLength: 16 }),
        ok: fc.constant(false as const),
        error: fc.record({
          code: fc.constantFrom(
            'InvalidCredentials',
            'InvalidConfiguration',
            'IssuerUnavailable',
            'MalformedResponse',
            'StoreError',
          ),
          message: fc.string().map((s) => `${PLANTED_SECRET}${s}`),
          transient: fc.boolean(),
          retryAfterSeconds: fc.option(fc.nat(), { nil: undefined }),
        }),
        nextAttempt: fc.option(fc.constant(at(60).toISOString()), { nil: undefined }),
        secondsToExpiry: fc.option(fc.integer({ min: -86_400, max: 86_400 }), { nil: undefined }),
        generation: fc.option(fc.nat(), { nil: undefined }),
        expiresAt: fc.option(fc.constant(at(30).toISOString()), { nil: undefined }),
      },
      { requiredKeys: ['credential', 'ok', 'error'] },
    ),
  );

  it('never carries a message, keeps to the known fields, and gives each result its events in order', () => {
    fc.assert(
      fc.property(
        fc.array(result, { maxLength: 30 }),
        fc.option(fc.constantFrom(PREFIX, 'team-b/')),
        (results, prefix) => {
          const events = refreshEvents(results as RefreshResult[], prefix === null ? undefined : { prefix });
          expect(JSON.stringify(events)).not.toContain(PLANTED_SECRET);
          for (const e of events) for (const key of Object.keys(e.detail)) expect(KEYS.has(key)).toBe(true);
          for (const e of events) {
            expect(e.detail.prefix).toBe(prefix ?? undefined);
            expect(e.detail.tokenSecretName).toBe(
              prefix === null ? undefined : `${prefix}${e.detail.credential}/token`,
            );
          }
          // One outcome event per result, plus Token Expired right after a failure with an expired token.
          const expected = results.flatMap((r) =>
            r.ok
              ? ['Token Refreshed']
              : [
                  // Only the two blocking codes are rejections; whatever is retried is Refresh Failing.
                  ['InvalidCredentials', 'InvalidConfiguration'].includes(r.error.code)
                    ? 'Credential Rejected'
                    : 'Refresh Failing',
                  ...(r.secondsToExpiry !== undefined && r.secondsToExpiry <= 0 ? ['Token Expired'] : []),
                ],
          );
          expect(events.map((e) => e.detailType)).toEqual(expected);
        },
      ),
    );
  });
});
