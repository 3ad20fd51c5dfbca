import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidCredentialsError, IssuerUnavailableError, MalformedResponseError } from '../../../core/errors';
import { type IssueResult, issueViaLambda } from '../../../provider/lambda-issue';

let lambdaMock = mockClient(LambdaClient);
const SECRET = 'planted-client-secret-5b2e';
const event = {
  action: 'issue' as const,
  credential: 'vendor-prod',
  issuer: { kind: 'sirv', clientId: 'id', clientSecret: SECRET },
};
const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;

describe('issueViaLambda', () => {
  afterEach(() => {
    lambdaMock.restore();
    lambdaMock = mockClient(LambdaClient);
  });

  it('returns the token the rotator obtained, sending the issue event synchronously', async () => {
    // Prepare
    const answer: IssueResult = {
      ok: true,
      token: {
        accessToken: 'tok',
        tokenType: 'Bearer',
        issuedAt: '2026-11-22T12:00:00.000Z',
        expiresAt: '2026-11-22T12:20:00.000Z',
      },
    };
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload(answer) });

    // Act
    const token = await issueViaLambda(new LambdaClient({ region: 'us-east-1' }), 'rotator-fn', event);

    // Assess
    expect(token.accessToken).toBe('tok');
    expect(token.expiresAt.toISOString()).toBe('2026-11-22T12:20:00.000Z');
    const call = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(call?.FunctionName).toBe('rotator-fn');
    expect(call?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(call?.Payload as Uint8Array))).toEqual(event);
  });

  it('rethrows the classified error the rotator reported', async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payload({
        ok: false,
        error: { code: 'InvalidCredentials', message: 'Credential "vendor-prod": rejected (401).', status: 401 },
      }),
    });

    const failure = issueViaLambda(new LambdaClient({ region: 'us-east-1' }), 'rotator-fn', event);

    await expect(failure).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(failure).rejects.toMatchObject({ status: 401, credential: 'vendor-prod' });
  });

  it('reports a function error as the issuer being unavailable, naming the function and not the payload', async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({ errorType: 'TypeError', errorMessage: `boom ${SECRET}` }),
    });

    const failure = issueViaLambda(new LambdaClient({ region: 'us-east-1' }), 'rotator-fn', event);

    await expect(failure).rejects.toBeInstanceOf(IssuerUnavailableError);
    await expect(failure).rejects.toThrow(/rotator function "rotator-fn" failed \(Unhandled, TypeError\)/);
    await expect(failure).rejects.not.toThrow(SECRET);
  });

  it('gives up after the timeout with a clear message', async () => {
    // Prepare: a real client against a loopback server that accepts and never answers.
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer(() => {});
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = new LambdaClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });
    lambdaMock.restore();

    try {
      // Act
      const failure = issueViaLambda(client, 'rotator-fn', event, 200);

      // Assess
      await expect(failure).rejects.toBeInstanceOf(IssuerUnavailableError);
      await expect(failure).rejects.toMatchObject({ reason: 'timeout' });
      await expect(failure).rejects.toThrow(/did not answer within/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses an answer without a complete token', async () => {
    lambdaMock
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: payload({ ok: true, token: { tokenType: 'Bearer' } }) });

    await expect(issueViaLambda(new LambdaClient({ region: 'us-east-1' }), 'rotator-fn', event)).rejects.toBeInstanceOf(
      MalformedResponseError,
    );
  });
});
