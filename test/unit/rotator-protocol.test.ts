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

describe('the refresh-batch event', () => {
  it('names credentials and nothing that the rotator would trust: a carried listing or state is refused', () => {
    const refused: Record<string, unknown>[] = [
      { listedAt: 1_800_000_000, listings: { a: { versionId: 'tr1-0-x' } } },
      { generation: 0 },
      { issuer: { kind: 'sirv', clientId: 'x', clientSecret: 'y' } },
      { force: true },
    ];
    for (const extra of refused) {
      const event = { action: 'refresh-batch', credentials: ['a'], ...extra };
      expect(rotatorEventSchema.safeParse(event).success, JSON.stringify(event)).toBe(false);
    }
  });

  it(`names 1 to ${MAX_BATCH_CREDENTIALS} valid credential names`, () => {
    const credentials = Array.from({ length: MAX_BATCH_CREDENTIALS }, (_, i) => `c${i}`);
    expect(rotatorEventSchema.safeParse({ action: 'refresh-batch', credentials }).success).toBe(true);
    for (const names of [[], [...credentials, 'one-more'], ['a/b'], ['']]) {
      expect(rotatorEventSchema.safeParse({ action: 'refresh-batch', credentials: names }).success).toBe(false);
    }
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
