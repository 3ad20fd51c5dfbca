import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  BatchGetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerServiceException,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateSigningKey } from '../../../core/issuers';
import { MAX_REQUESTED_CREDENTIALS, targetedResultSchema, verdictFor } from '../../../core/rotator-protocol';
import { TAG_KEYS } from '../../../core/store';
import { createHandler, type HandlerDeps, type InvocationContext } from '../../../lambda';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import {
  at,
  clientIdOf,
  frozenClock,
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

const CONTEXT: InvocationContext = {
  getRemainingTimeInMillis: () => 600_000,
  functionName: 'token-rotator',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:token-rotator',
  awsRequestId: 'req-1',
};
const ENV = {
  TOKEN_ROTATOR_PREFIX: PREFIX,
  TOKEN_ROTATOR_BATCH_SIZE: '10',
  TOKEN_ROTATOR_CONCURRENCY: '4',
};

let sm: MemorySecrets;
let lambdaMock: AwsClientStub<LambdaClient>;
let output: string[];
let privateKeyPem: string;

beforeAll(async () => {
  ({ privateKeyPem } = await generateSigningKey());
});

beforeEach(() => {
  // The AWS SDK's Node version notice (emitted when the first client is built) is not a log line of ours.
  vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  sm = memorySecrets();
  lambdaMock = mockClient(LambdaClient);
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
  // Powertools writes logs and EMF through a Console bound to the process streams.
  output = captureProcessOutput();
});

afterEach(() => {
  vi.restoreAllMocks();
  sm.restore();
  lambdaMock.restore();
});

function addSirv(name: string, refreshAfter: Date = at(-30)): void {
  sm.addCredential({
    name,
    prefix: PREFIX,
    clientDocument: sirvDocument(name),
    token: tokenRecord(name, refreshAfter),
  });
}

const SOURCE = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:platform/sourced-AbCdEf';

/**
 * A credential whose client secret is kept in SOURCE (at version `s1`), blocked since the issuer
 * rejected that version ten minutes ago, its next look at the source a minute past.
 */
function addBlockedSourced(name: string): void {
  const { clientSecret: _inline, ...issuer } = sirvDocument(name).issuer as { clientSecret?: string };
  sm.addCredential({
    name,
    prefix: PREFIX,
    clientDocument: sirvDocument(name),
    token: tokenRecord(name, at(-30)),
    tokenTags: {
      [TAG_KEYS.failures]: '1',
      [TAG_KEYS.lastError]: 'InvalidCredentials',
      [TAG_KEYS.failedClientVersion]: `client-${name}-1`,
      [TAG_KEYS.failedSourceVersion]: 's1',
      [TAG_KEYS.failedAt]: String(Math.floor(at(-600).getTime() / 1000)),
      [TAG_KEYS.nextAttempt]: String(Math.floor(at(-60).getTime() / 1000)),
    },
  });
  const client = `${PREFIX}${name}/client`;
  const stored = sm.secrets.get(client);
  if (!stored) throw new Error(`no client secret for ${name}`);
  sm.secrets.set(client, {
    ...stored,
    value: JSON.stringify({ version: 1, issuer, policy: {}, clientSecretSource: { secretArn: SOURCE } }),
  });
  sm.secrets.set(SOURCE, {
    value: `${PLANTED_SECRET}-source`,
    tags: {},
    lastChangedDate: at(-3600),
    versions: 1,
    versionId: 's1',
  });
}

function handlerWith(answers: Record<string, IssuerAnswer> = {}, deps: HandlerDeps = {}) {
  const issuer = sirvIssuer({ answers });
  const handler = createHandler({
    secretsManager: sm.client,
    lambda: new LambdaClient({ region: 'us-east-1' }),
    fetch: issuer.fetch,
    now: () => new Date(NOW.getTime()),
    random: () => 0,
    env: ENV,
    ...deps,
  });
  return { handler, issuer };
}

/** Every line written to stdout or stderr, parsed as JSON (a line that is not JSON fails the test). */
function jsonLines(): Record<string, unknown>[] {
  return output
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not JSON: ${line}`);
      }
    });
}

function emf(): Record<string, unknown>[] {
  return jsonLines().filter((line) => '_aws' in line);
}

describe('handler event routing', () => {
  it('runs a sweep for {"action":"sweep"} and returns its summary without per-credential messages', async () => {
    addSirv('a');
    addSirv('b', at(3600));
    const { handler } = handlerWith({ [clientIdOf('a')]: { kind: 'status', status: 503 } });
    const result = await handler({ action: 'sweep' }, CONTEXT);
    expect(result).toMatchObject({
      listed: 2,
      due: 1,
      refreshed: 0,
      failed: 1,
      failures: [{ credential: 'a', code: 'IssuerUnavailable' }],
    });
    expect(result).not.toHaveProperty('results');
  });

  it("runs a sweep for EventBridge's own scheduled event", async () => {
    addSirv('a');
    const { handler, issuer } = handlerWith();
    const result = await handler(
      { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {}, time: NOW.toISOString() },
      CONTEXT,
    );
    expect(result).toMatchObject({ listed: 1, refreshed: 1 });
    expect(issuer.calls).toHaveLength(1);
  });

  it('answers a targeted refresh with one result per credential, forcing when asked', async () => {
    addSirv('due');
    // Due in 200 s, written 700 s ago: past the forced-refresh floor.
    addSirv('fresh', at(200));
    const { handler } = handlerWith();
    const plain = await handler({ credentials: ['due', 'fresh'] }, CONTEXT);
    expect(plain).toEqual({
      results: [
        expect.objectContaining({ credential: 'due', ok: true, generation: 8 }),
        expect.objectContaining({ credential: 'fresh', ok: true, skipped: 'not-due' }),
      ],
    });
    const forced = await handler({ credentials: ['fresh'], force: true }, CONTEXT);
    expect(forced).toEqual({ results: [expect.objectContaining({ credential: 'fresh', ok: true, generation: 8 })] });
  });

  it('refreshes a credential named twice in one targeted request only once', async () => {
    addSirv('due');
    const { handler, issuer } = handlerWith();
    const result = await handler({ credentials: ['due', 'due'] }, CONTEXT);
    expect(result).toEqual({ results: [expect.objectContaining({ credential: 'due', ok: true, generation: 8 })] });
    expect(issuer.calls).toHaveLength(1);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
  });

  it('reports a missing credential in a targeted refresh as a failed result, not a thrown error', async () => {
    const { handler } = handlerWith();
    const result = await handler({ credentials: ['ghost'] }, CONTEXT);
    expect(result).toEqual({
      results: [
        expect.objectContaining({
          credential: 'ghost',
          ok: false,
          error: expect.objectContaining({ code: 'StoreError' }),
        }),
      ],
    });
  });

  it('refreshes a fan-out batch and answers with a summary', async () => {
    addSirv('a');
    addSirv('b');
    const { handler, issuer } = handlerWith();
    const result = await handler({ action: 'refresh-batch', credentials: ['a', 'b'] }, CONTEXT);
    expect(result).toMatchObject({ refreshed: 2, failed: 0, failures: [] });
    expect(issuer.calls).toHaveLength(2);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('refuses any event carrying issuer configuration, claims or a URL: it signs and fetches only what its client documents say', async () => {
    // The signing oracle and the fetch proxy an "issue" event would be, for any invoker.
    const { handler, issuer } = handlerWith();
    for (const event of [
      { action: 'issue', credential: 'new-one', issuer: sirvDocument('new-one').issuer },
      {
        action: 'issue',
        credential: 'admin',
        issuer: { kind: 'upload', subject: 'admin', kms: { keyId: 'alias/upload' }, ttlSeconds: 31_622_400 },
      },
      { credentials: ['a'], issuer: { kind: 'sirv', url: 'https://internal.example/' } },
      { credentials: ['a'], claims: { sub: 'admin' } },
    ]) {
      await expect(handler(event, CONTEXT), JSON.stringify(event)).rejects.toThrow(/unrecognised event/);
    }
    expect(issuer.calls).toHaveLength(0);
    expect(sm.mock.calls()).toHaveLength(0);
  });

  it.each([
    ['an unknown action', { action: 'rotate-everything' }],
    ['an empty credential list', { credentials: [] }],
    ['a credential name with a slash', { credentials: ['../other/x'] }],
    ['an extra field', { credentials: ['a'], force: true, dryRun: true }],
    ['null', null],
    ['a string', 'sweep'],
  ])('throws a clear error for %s', async (_what, event) => {
    const { handler } = handlerWith();
    await expect(handler(event, CONTEXT)).rejects.toThrow(/token-rotator: unrecognised event; expected/);
  });
});

describe('handler fan-out batches', () => {
  /** The Secrets Manager calls since the last reset, by command. */
  function callsByCommand(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of sm.mock.calls()) {
      const command = c.args[0].constructor.name.replace(/Command$/, '');
      counts[command] = (counts[command] ?? 0) + 1;
    }
    return counts;
  }

  /** Runs a sweep of twelve due credentials in batches of ten: c10 and c11 are handed off. */
  async function sweepHandingOff(sweeper: ReturnType<typeof handlerWith>['handler']) {
    lambdaMock.resetHistory();
    await sweeper({ action: 'sweep' }, CONTEXT);
    const invokes = lambdaMock.commandCalls(InvokeCommand);
    expect(invokes).toHaveLength(1);
    const event = JSON.parse(new TextDecoder().decode(invokes[0]?.args[0].input.Payload as Uint8Array));
    expect(event.credentials).toEqual(['c10', 'c11']);
    return event;
  }

  const names = Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`);

  it('refreshes a batch of names, describing each token secret: client read, describe and put when cold, describe and put when warm', async () => {
    // Prepare: one container sweeps, another (a fresh one) takes the batch.
    for (const name of names) addSirv(name);
    const clock = frozenClock();
    const issuer = sirvIssuer();
    const sweeper = handlerWith({}, { now: clock.now, fetch: issuer.fetch }).handler;
    const batch = handlerWith({}, { now: clock.now, fetch: issuer.fetch }).handler;

    // Act: cold.
    const cold = await sweepHandingOff(sweeper);
    expect(Object.keys(cold).sort()).toEqual(['action', 'credentials', 'writesPerSecond']);
    sm.mock.resetHistory();
    const coldResult = await batch(cold, CONTEXT);

    // Assess: each client document read alone (a batch has no listing to batch the reads by).
    expect(coldResult).toMatchObject({ refreshed: 2, failed: 0 });
    expect(callsByCommand()).toEqual({ DescribeSecret: 2, GetSecretValue: 2, PutSecretValue: 2 });

    // Act: warm, one refresh interval on.
    clock.advance(1000);
    const warm = await sweepHandingOff(sweeper);
    sm.mock.resetHistory();
    const warmResult = await batch(warm, CONTEXT);

    // Assess
    expect(warmResult).toMatchObject({ refreshed: 2, failed: 0 });
    expect(callsByCommand()).toEqual({ DescribeSecret: 2, PutSecretValue: 2 });
  });

  it('writes nothing for a batch delivered twice or late: the second delivery finds the tokens refreshed', async () => {
    for (const name of names) addSirv(name);
    const clock = frozenClock();
    const issuer = sirvIssuer();
    const { handler } = handlerWith({}, { now: clock.now, fetch: issuer.fetch });
    const event = await sweepHandingOff(handler);
    // Another container takes each delivery.
    const first = await handlerWith({}, { now: clock.now, fetch: issuer.fetch }).handler(event, CONTEXT);
    clock.advance(12);
    sm.mock.resetHistory();
    const again = await handlerWith({}, { now: clock.now, fetch: issuer.fetch }).handler(event, CONTEXT);
    expect(first).toMatchObject({ refreshed: 2 });
    expect(again).toMatchObject({ refreshed: 0, skipped: 2, failed: 0 });
    expect(callsByCommand()).toEqual({ DescribeSecret: 2 });
    expect(issuer.calls).toHaveLength(12);
  });

  it('refuses a batch event that carries listings or any state besides names and a write rate', async () => {
    const { handler } = handlerWith();
    const listing = { versionId: 'v-1', clientVersion: 'c-1' };
    for (const event of [
      { action: 'refresh-batch', credentials: ['a'], listedAt: 1_800_000_000, listings: { a: listing } },
      { action: 'refresh-batch', credentials: ['a'], generation: 0 },
    ]) {
      await expect(handler(event, CONTEXT)).rejects.toThrow(/unrecognised event/);
    }
    expect(sm.mock.calls()).toHaveLength(0);
  });
});

describe('handler answers and the rotator protocol', () => {
  it('answers a targeted refresh (refreshed, skipped, failed) in the shape its callers parse', async () => {
    addSirv('due');
    addSirv('fresh', at(3600));
    addSirv('rejected');
    const { handler } = handlerWith({ [clientIdOf('rejected')]: { kind: 'status', status: 401 } });
    const answer = await handler({ credentials: ['due', 'fresh', 'rejected', 'ghost'] }, CONTEXT);
    const parsed = targetedResultSchema.parse(answer);
    expect(parsed.results.map((r) => ('ok' in r ? r.ok : 'deferred'))).toEqual([true, true, false, false]);
    expect(verdictFor(answer, 'rejected')).toEqual({ ok: false, code: 'InvalidCredentials' });
    expect(verdictFor(answer, 'due')).toEqual({ ok: true });
  });
});

describe('handler metrics', () => {
  it('publishes RefreshSucceeded, RefreshFailed, CredentialsRejected and the minimum SecondsToExpiry as EMF', async () => {
    // Prepare: three good, one unavailable, one rejected; an idle one expiring in 2 h.
    for (const name of ['ok1', 'ok2', 'ok3', 'down', 'revoked']) addSirv(name);
    addSirv('idle', at(5400));
    const { handler } = handlerWith({
      [clientIdOf('down')]: { kind: 'status', status: 503 },
      [clientIdOf('revoked')]: { kind: 'status', status: 401 },
    });
    // Act
    await handler({ action: 'sweep' }, CONTEXT);
    // Assess
    const blobs = emf();
    expect(blobs).toHaveLength(1);
    const blob = blobs[0] ?? {};
    expect(blob).toMatchObject({
      RefreshSucceeded: 3,
      RefreshFailed: 2,
      CredentialsRejected: 1,
      // The failed ones keep their old tokens, which expire 270 s from now.
      SecondsToExpiry: 270,
      service: 'token-rotator',
      // The rotator's own prefix (TOKEN_ROTATOR_PREFIX): its alarms watch its fleet only.
      prefix: PREFIX,
    });
    const aws = blob._aws as {
      CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
    };
    expect(aws.CloudWatchMetrics[0]?.Namespace).toBe('TokenRotator');
    expect(aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'prefix']]);
    expect(aws.CloudWatchMetrics[0]?.Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'RefreshSucceeded', Unit: 'Count' },
        { Name: 'RefreshFailed', Unit: 'Count' },
        { Name: 'CredentialsRejected', Unit: 'Count' },
        { Name: 'SecondsToExpiry', Unit: 'Seconds' },
      ]),
    );
  });

  it('keeps counting a rejected credential in CredentialsRejected while it stays blocked, so its alarm does not clear', async () => {
    // Prepare
    addSirv('ok');
    addSirv('revoked');
    const { handler } = handlerWith({ [clientIdOf('revoked')]: { kind: 'status', status: 401 } });
    // Act: the sweep that is refused, then the next one, which finds it blocked and does not retry it.
    await handler({ action: 'sweep' }, CONTEXT);
    await handler({ action: 'sweep' }, CONTEXT);
    // Assess
    const [first, second] = emf();
    expect(first).toMatchObject({ RefreshFailed: 1, CredentialsRejected: 1 });
    expect(second).toMatchObject({ RefreshFailed: 0, CredentialsRejected: 1 });
  });

  it('counts a sourced credential held at its recheck in CredentialsRejected, as a blocked one, with no failure and no issuer call', async () => {
    addSirv('ok');
    addBlockedSourced('sourced');
    const { handler, issuer } = handlerWith();

    const summary = await handler({ action: 'sweep' }, CONTEXT);

    expect(summary).toMatchObject({ due: 2, refreshed: 1, failed: 0, rejected: 0, held: 1, blocked: 1 });
    expect(emf()[0]).toMatchObject({ RefreshSucceeded: 1, RefreshFailed: 0, CredentialsRejected: 1 });
    expect(issuer.calls.map((c) => c.clientId)).toEqual([clientIdOf('ok')]);
    expect(sm.tokenTags('sourced', PREFIX)[TAG_KEYS.failures]).toBe('1');
  });

  it('counts a recheck left to the next sweep in CredentialsRejected, as a blocked one', async () => {
    addBlockedSourced('sourced');
    const { handler } = handlerWith();

    // Too little time left to start anything: the recheck is deferred.
    const summary = await handler({ action: 'sweep' }, { ...CONTEXT, getRemainingTimeInMillis: () => 1000 });

    expect(summary).toMatchObject({ due: 1, deferred: 1, held: 0, blocked: 1 });
    expect(emf()[0]).toMatchObject({ RefreshFailed: 0, CredentialsRejected: 1 });
  });

  it('answers a targeted refresh of a held credential as skipped, blocked, with its next look', async () => {
    addBlockedSourced('sourced');
    const { handler, issuer } = handlerWith();

    const answer = await handler({ credentials: ['sourced'] }, CONTEXT);

    expect(targetedResultSchema.parse(answer).results).toEqual([
      expect.objectContaining({
        credential: 'sourced',
        ok: true,
        skipped: 'blocked',
        nextAttempt: at(300).toISOString(),
      }),
    ]);
    expect(issuer.calls).toHaveLength(0);
    expect(emf()[0]).toMatchObject({ RefreshFailed: 0, CredentialsRejected: 1 });
  });

  it('reports the new expiry as SecondsToExpiry when every due token was refreshed', async () => {
    addSirv('a');
    addSirv('idle', at(5400));
    const { handler } = handlerWith();
    await handler({ action: 'sweep' }, CONTEXT);
    expect(emf()[0]).toMatchObject({
      RefreshSucceeded: 1,
      RefreshFailed: 0,
      CredentialsRejected: 0,
      SecondsToExpiry: 1200,
    });
  });

  it('publishes zero counts and no SecondsToExpiry for an empty fleet', async () => {
    const { handler } = handlerWith();
    await handler({ action: 'sweep' }, CONTEXT);
    const blob = emf()[0] ?? {};
    expect(blob).toMatchObject({ RefreshSucceeded: 0, RefreshFailed: 0, CredentialsRejected: 0 });
    expect(blob).not.toHaveProperty('SecondsToExpiry');
  });
});

describe('handler logs', () => {
  it('writes structured JSON lines that never contain a client secret, a token or a private key', async () => {
    // Prepare: the secret is planted in every client document, the token in every issuer answer,
    // a private key in a signed-jwt document, and one issuer echoes the secret in its error body.
    for (const name of ['ok', 'down', 'revoked', 'echo']) addSirv(name);
    sm.addCredential({
      name: 'upload',
      prefix: PREFIX,
      clientDocument: {
        version: 1,
        issuer: { kind: 'upload', subject: 'account-1', privateKeyPem, ttlSeconds: 3600 },
        policy: {},
      },
      token: tokenRecord('upload', at(-30)),
    });
    const echo = `${PLANTED_SECRET}-echo`;
    const { handler } = handlerWith({
      [clientIdOf('down')]: { kind: 'status', status: 503, body: { error: `down, token=${PLANTED_TOKEN_PREFIX}x` } },
      [clientIdOf('revoked')]: {
        kind: 'status',
        status: 401,
        body: { message: `bad secret ${PLANTED_SECRET}-revoked` },
      },
      [clientIdOf('echo')]: {
        kind: 'status',
        status: 400,
        body: { message: `invalid body {"clientId":"${clientIdOf('echo')}","clientSecret":"${echo}"}`, raw: echo },
      },
    });
    // Act
    await handler({ action: 'sweep' }, CONTEXT);
    await handler({ credentials: ['ok', 'echo', 'upload'], force: true }, CONTEXT);
    await expect(handler({ action: 'nope', clientSecret: PLANTED_SECRET }, CONTEXT)).rejects.toThrow();
    // Assess
    const lines = jsonLines();
    const logs = lines.filter((l) => !('_aws' in l));
    expect(logs.length).toBeGreaterThan(6);
    expect(logs.map((l) => l.message)).toEqual(
      expect.arrayContaining(['Refreshed', 'Refresh failed', 'Sweep finished', 'Unrecognised event']),
    );
    for (const line of logs) expect(line).toMatchObject({ level: expect.any(String), service: 'token-rotator' });
    const text = output.join('');
    expect(text).not.toContain(PLANTED_SECRET);
    expect(text).not.toContain(PLANTED_TOKEN_PREFIX);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(privateKeyPem.split('\n')[1] ?? 'unreachable');
    // The refreshed upload token is a JWT: no JWT may appear either.
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });

  it('ends a sweep with "Sweep finished" and the counts `token-rotator sweep` reports, and the fan-out', async () => {
    addSirv('ok');
    addSirv('revoked');
    addSirv('idle', at(5400));
    const { handler } = handlerWith({ [clientIdOf('revoked')]: { kind: 'status', status: 401 } });
    await handler({ action: 'sweep' }, CONTEXT);
    output.length = 0;
    // The second sweep finds `revoked` blocked and `ok` fresh: nothing is due.
    await handler({ action: 'sweep' }, CONTEXT);
    expect(jsonLines().find((l) => l.message === 'Sweep finished')).toMatchObject({
      listed: 3,
      due: 0,
      refreshed: 0,
      failed: 0,
      rejected: 0,
      skipped: 0,
      held: 0,
      deferred: 0,
      blocked: 1,
      backingOff: 0,
      writeBudgetBreached: 0,
      minSecondsToExpiry: expect.any(Number),
      fannedOut: 0,
    });
  });

  it('emits WriteBudgetBreached and a warning when a vendor shortened its tokens, storing the token', async () => {
    addSirv('short');
    const { handler } = handlerWith({ [clientIdOf('short')]: { kind: 'token', lifetimeSeconds: 300 } });
    const summary = await handler({ action: 'sweep' }, CONTEXT);
    expect(summary).toMatchObject({ refreshed: 1, failed: 0, writeBudgetBreached: 1 });
    expect(emf()).toEqual([expect.objectContaining({ WriteBudgetBreached: 1, RefreshSucceeded: 1 })]);
    expect(jsonLines().find((l) => l.message === 'Write budget breached')).toMatchObject({ credential: 'short' });
  });

  it('counts a refresh whose tag call failed after the write as refreshed, and warns with the AWS error name only', async () => {
    // Prepare: an earlier failure is on record, so the good write is followed by an untag, which is refused.
    sm.addCredential({
      name: 'tagless',
      prefix: PREFIX,
      clientDocument: sirvDocument('tagless'),
      token: tokenRecord('tagless', at(-30)),
      tokenTags: { [TAG_KEYS.failures]: '1', [TAG_KEYS.lastError]: 'IssuerUnavailable' },
    });
    sm.mock.on(UntagResourceCommand).rejects(
      new SecretsManagerServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded for planted-role',
      }),
    );
    const { handler } = handlerWith();
    // Act
    const summary = await handler({ action: 'sweep' }, CONTEXT);
    // Assess
    expect(summary).toMatchObject({ refreshed: 1, failed: 0 });
    expect(emf()).toEqual([expect.objectContaining({ RefreshSucceeded: 1, RefreshFailed: 0 })]);
    const warning = jsonLines().find((l) => l.message === 'Tags not updated after a refresh');
    expect(warning).toMatchObject({ level: 'WARN', credential: 'tagless', reason: 'ThrottlingException' });
    expect(JSON.stringify(warning)).not.toContain('planted-role');
    expect(output.join('')).not.toContain(PLANTED_TOKEN_PREFIX);
  });

  it('warns of a batch read of client documents refused as a whole, without the AWS message, and still refreshes', async () => {
    // Prepare: a policy from before BatchGetSecretValue; the single reads still work.
    for (const name of ['p1', 'p2', 'p3']) addSirv(name);
    sm.mock.on(BatchGetSecretValueCommand).rejects(
      new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'User arn:aws:sts::123456789012:assumed-role/planted-role is not authorized',
      }),
    );
    const { handler } = handlerWith();
    // Act
    const summary = await handler({ action: 'sweep' }, CONTEXT);
    // Assess
    expect(summary).toMatchObject({ refreshed: 3, failed: 0 });
    const warning = jsonLines().find((l) => l.message === 'Batch read of client documents refused');
    expect(warning).toMatchObject({ level: 'WARN', credentials: 3, reason: 'AccessDeniedException' });
    expect(JSON.stringify(warning)).not.toContain('planted-role');
  });

  it('logs every failed refresh with its credential, code and next attempt', async () => {
    addSirv('down');
    const { handler } = handlerWith({ [clientIdOf('down')]: { kind: 'status', status: 503 } });
    await handler({ action: 'sweep' }, CONTEXT);
    const failed = jsonLines().find((l) => l.message === 'Refresh failed');
    expect(failed).toMatchObject({
      level: 'WARN',
      credential: 'down',
      code: 'IssuerUnavailable',
      nextAttempt: at(30).toISOString(),
    });
    // The error's own message survives Powertools (which drops a `message` key of the extras).
    expect(failed?.error).toEqual(expect.stringContaining('Credential "down"'));
  });
});

describe('the request entry point', () => {
  it('refreshes the named credentials, forced within the floor, and takes nothing but names and force', async () => {
    addSirv('due');
    // Due in 200 s, written 700 s ago: past the forced-refresh floor.
    addSirv('fresh', at(200));
    const issuer = sirvIssuer();
    const requests = createHandler(
      { secretsManager: sm.client, fetch: issuer.fetch, now: () => new Date(NOW.getTime()), random: () => 0, env: ENV },
      { entry: 'requests' },
    );
    const answer = await requests({ credentials: ['due', 'fresh'], force: true }, CONTEXT);
    expect(answer).toEqual({
      results: [
        expect.objectContaining({ credential: 'due', ok: true, generation: 8 }),
        expect.objectContaining({ credential: 'fresh', ok: true, generation: 8 }),
      ],
    });
    // A second request a moment later meets the floor: nothing is written twice.
    const again = await requests({ credentials: ['fresh'], force: true }, CONTEXT);
    expect(again).toEqual({ results: [expect.objectContaining({ credential: 'fresh', skipped: 'floor' })] });
    for (const event of [
      { action: 'sweep' },
      { action: 'refresh-batch', credentials: ['due'], writesPerSecond: 50 },
      { action: 'issue', credential: 'due', issuer: { kind: 'sirv', clientId: 'x', clientSecret: 'y' } },
      { credentials: Array.from({ length: MAX_REQUESTED_CREDENTIALS + 1 }, (_, i) => `c${i}`) },
      { credentials: ['due'], force: true, overrideFloor: true },
    ]) {
      await expect(requests(event, CONTEXT), JSON.stringify(event)).rejects.toThrow(/unrecognised request/);
    }
    expect(issuer.calls).toHaveLength(2);
  });
});

describe('a storm of forced refreshes', () => {
  it('writes a token at most once per floor (600 s) however often readers ask, through either entry point', async () => {
    // Two readers behind an API that keeps answering 401 each ask once a minute, for an hour.
    addSirv('busy', at(200));
    const clock = frozenClock();
    const issuer = sirvIssuer();
    const deps = { secretsManager: sm.client, fetch: issuer.fetch, now: clock.now, random: () => 0, env: ENV };
    const rotator = createHandler(deps);
    const requests = createHandler(deps, { entry: 'requests' });
    for (let minute = 0; minute < 60; minute += 1) {
      clock.advance(60);
      await rotator({ credentials: ['busy'], force: true }, CONTEXT);
      await requests({ credentials: ['busy'], force: true }, CONTEXT);
    }
    // Six floors in an hour: at most one write each (120 requests asked for one each).
    const writes = sm.mock.commandCalls(PutSecretValueCommand).length;
    expect(writes).toBeGreaterThanOrEqual(5);
    expect(writes).toBeLessThanOrEqual(6);
    expect(issuer.calls).toHaveLength(writes);
  });
});
