import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invokeRotator, MAX_BATCH_CREDENTIALS, rotatorEventSchema, verdictFor } from '../../core/rotator-protocol';

const payload = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)) as never;

let lambdaMock: AwsClientStub<LambdaClient>;
beforeEach(() => {
  lambdaMock = mockClient(LambdaClient);
});
afterEach(() => lambdaMock.restore());

describe('invokeRotator', () => {
  const client = () =>
    new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

  it('sends the event as a synchronous invocation and returns the parsed answer', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ results: [] }) });
    const reply = await invokeRotator(client(), 'rotator-fn', { credentials: ['sirv-prod'], force: true });
    expect(reply).toEqual({ kind: 'answer', payload: { results: [] } });
    const input = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('rotator-fn');
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({
      credentials: ['sirv-prod'],
      force: true,
    });
  });

  it('returns an answer that is not JSON as an undefined payload', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload('<html>') });
    await expect(invokeRotator(client(), 'fn', { credentials: ['a'] })).resolves.toEqual({
      kind: 'answer',
      payload: undefined,
    });
  });

  it("reports the function's own failure with its error type, cut to 64 characters", async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({ errorType: 'T'.repeat(100), errorMessage: 'boom' }),
    });
    await expect(invokeRotator(client(), 'fn', { credentials: ['a'] })).resolves.toEqual({
      kind: 'function-error',
      functionError: 'Unhandled',
      errorType: 'T'.repeat(64),
      errorMessage: 'boom',
    });
  });

  it('throws the SDK error of a failed invocation as it is', async () => {
    lambdaMock.on(InvokeCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(invokeRotator(client(), 'fn', { credentials: ['a'] })).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });
});

describe('the rotator event schema', () => {
  it('turns each accepted shape into one action', () => {
    expect(rotatorEventSchema.parse({ action: 'sweep' })).toEqual({ action: 'sweep' });
    expect(rotatorEventSchema.parse({ 'detail-type': 'Scheduled Event', source: 'aws.events' })).toEqual({
      action: 'sweep',
    });
    expect(rotatorEventSchema.parse({ credentials: ['a'] })).toEqual({
      action: 'refresh',
      credentials: ['a'],
      force: false,
    });
  });

  it("carries a fan-out batch's share of the write rate, bounded by the account's quota", () => {
    expect(rotatorEventSchema.parse({ action: 'refresh-batch', credentials: ['a'], writesPerSecond: 12.5 })).toEqual({
      action: 'refresh-batch',
      credentials: ['a'],
      writesPerSecond: 12.5,
    });
    for (const writesPerSecond of [0, -1, 51, '10']) {
      expect(
        rotatorEventSchema.safeParse({ action: 'refresh-batch', credentials: ['a'], writesPerSecond }).success,
      ).toBe(false);
    }
  });
});

describe('the refresh-batch listings', () => {
  const listing = {
    versionId: 'tr1-8-t5a2kg-t5a3c0-0123456789abcdef01234567',
    clientVersion: '3f1c9a2e-6b7d-4e21-9a0b-1c2d3e4f5a6b',
    failures: 2,
    lastError: 'IssuerUnavailable',
    nextAttempt: 1_800_000_000,
    failedAt: 1_799_999_000,
    failedClientVersion: 'c-0',
    legacyTags: true,
    writeBudget: 'breached',
  };
  const batch = (overrides: Record<string, unknown> = {}) => ({
    action: 'refresh-batch',
    credentials: ['a', 'b'],
    listedAt: 1_800_000_000,
    listings: { a: listing },
    ...overrides,
  });

  it('takes the listings of some of its credentials, with when they were listed', () => {
    expect(rotatorEventSchema.parse(batch())).toEqual(batch());
  });

  it('refuses listings that are not of its credentials, lack listedAt, or hold anything out of bounds', () => {
    const refused: Record<string, unknown>[] = [
      batch({ listedAt: undefined }),
      batch({ listedAt: 1.5 }),
      batch({ listings: { c: listing } }),
      batch({ listings: { a: { ...listing, token: 'a field the schema does not know' } } }),
      batch({ listings: { a: { ...listing, versionId: 'x'.repeat(65) } } }),
      batch({ listings: { a: { ...listing, versionId: 'with spaces' } } }),
      batch({ listings: { a: { ...listing, clientVersion: '' } } }),
      batch({ listings: { a: { ...listing, lastError: 'a message, not a code' } } }),
      batch({ listings: { a: { ...listing, failures: -1 } } }),
      batch({ listings: { a: { ...listing, failures: 1_000_000_001 } } }),
      batch({ listings: { a: { ...listing, nextAttempt: 1_000_000_000_000 } } }),
      batch({ listings: { a: { ...listing, failedAt: 12.5 } } }),
      batch({ listings: { a: { ...listing, legacyTags: false } } }),
      batch({ listings: { a: { ...listing, writeBudget: 'unknown' } } }),
      batch({ listings: { a: 'not a listing' } }),
    ];
    for (const event of refused) {
      expect(rotatorEventSchema.safeParse(event).success, JSON.stringify(event)).toBe(false);
    }
  });

  it('drops a "__proto__" listing without it ever becoming a prototype', () => {
    const parsed = rotatorEventSchema.parse(
      JSON.parse(
        '{"action":"refresh-batch","credentials":["a"],"listedAt":1800000000,"listings":{"__proto__":{"versionId":"v-1"}}}',
      ),
    );
    const listings = parsed.action === 'refresh-batch' ? parsed.listings : undefined;
    expect(listings).toEqual({});
    expect(Object.getPrototypeOf(listings)).toBe(Object.prototype);
  });

  it(`refuses more than ${MAX_BATCH_CREDENTIALS} listings`, () => {
    const credentials = Array.from({ length: MAX_BATCH_CREDENTIALS }, (_, i) => `c${i}`);
    const listings = Object.fromEntries([...credentials, 'one-more'].map((n) => [n, { versionId: 'v-1' }] as const));
    expect(rotatorEventSchema.safeParse(batch({ credentials, listings })).success).toBe(false);
    const { 'one-more': _, ...fitting } = listings;
    expect(rotatorEventSchema.safeParse(batch({ credentials, listings: fitting })).success).toBe(true);
  });
});

describe('verdictFor', () => {
  it('reads the verdict of one credential and tolerates fields it does not use', () => {
    const answer = {
      results: [
        { credential: 'a', ok: true, generation: 2 },
        { credential: 'b', ok: false, error: { code: 'InvalidCredentials' } },
        { credential: 'c', ok: false, error: 'IssuerUnavailable' },
        { credential: 'd', ok: false },
      ],
    };
    expect(verdictFor(answer, 'a')).toEqual({ ok: true });
    expect(verdictFor(answer, 'b')).toEqual({ ok: false, code: 'InvalidCredentials' });
    expect(verdictFor(answer, 'c')).toEqual({ ok: false, code: 'IssuerUnavailable' });
    expect(verdictFor(answer, 'd')).toEqual({ ok: false, code: undefined });
  });

  it('says nothing for a credential the answer leaves out, or an answer of another shape', () => {
    expect(verdictFor({ results: [{ credential: 'a', ok: true }] }, 'b')).toBeUndefined();
    expect(verdictFor({ ok: true }, 'a')).toBeUndefined();
    expect(verdictFor(undefined, 'a')).toBeUndefined();
  });
});
