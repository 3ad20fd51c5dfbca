import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  StoreError,
  TokenExpiredError,
  TokenRotatorError,
} from '../../../core/errors';
import { InvalidTokenRecordError, type TokenRecord } from '../../../core/token';
import { TokenReader, type TokenReaderOptions } from '../../../reader/token-reader';
import { caught } from '../../helpers/caught';
import { frozenClock as frozenClockAt } from '../../helpers/clock';
import { tokenRecord as record } from '../../helpers/token-record';

const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const iso = (offsetSeconds: number) => new Date(T0 + offsetSeconds * 1000).toISOString();
const frozenClock = () => frozenClockAt(T0);

/** A Sirv-like record issued a minute ago: refresh at +15 min, expiry at +19 min. */
function tokenRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return record('sirv-prod', { at: T0 }, { accessToken: 'token-generation-1', scope: ['files:read'], ...overrides });
}

const secretValue = (record: TokenRecord) => ({ SecretString: JSON.stringify(record) });
const awsError = (name: string) => Object.assign(new Error(`${name} from the service`), { name, $metadata: {} });

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

function setup(options: Omit<TokenReaderOptions, 'client' | 'now'> = {}) {
  const client = new SecretsManagerClient({ region: 'us-east-1', credentials });
  const secrets = mockClient(client);
  const clock = frozenClock();
  const reader = new TokenReader({ ...options, client, now: clock.now });
  const reads = () => secrets.commandCalls(GetSecretValueCommand).length;
  return { reader, secrets, clock, reads };
}

/** A `fetch` that answers 401 to every token in `rejected` and 200 otherwise, recording each call. */
function apiFetch(rejected: Set<string>) {
  const calls: { url: string; authorization: string | null; body: unknown }[] = [];
  const impl = async (input: string | URL | Request, init?: RequestInit) => {
    const authorization = new Headers(init?.headers).get('authorization');
    calls.push({ url: String(input), authorization, body: init?.body });
    const token = authorization?.replace(/^Bearer /, '') ?? '';
    return new Response(rejected.has(token) ? '{"error":"invalid token"}' : '{"ok":true}', {
      status: rejected.has(token) ? 401 : 200,
    });
  };
  return { fetch: impl as typeof fetch, calls };
}

describe('TokenReader.getToken', () => {
  it('reads PREFIX NAME/token and returns the parsed record', async () => {
    const { reader, secrets } = setup();
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));

    const record = await reader.getToken('sirv-prod');

    expect(record.accessToken).toBe('token-generation-1');
    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'token-rotator/sirv-prod/token',
    });
  });

  it('uses the configured prefix', async () => {
    const { reader, secrets } = setup({ prefix: 'team-a/' });
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));

    await reader.getToken('sirv-prod');

    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input.SecretId).toBe('team-a/sirv-prod/token');
  });

  it('reads the secret once for any number of calls before refreshAfter', async () => {
    const { reader, secrets, clock, reads } = setup();
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));

    for (let i = 0; i < 50; i++) {
      await reader.getToken('sirv-prod');
      clock.advance(16); // 50 × 16 s = 800 s, still before refreshAfter (+840 s)
    }

    expect(reads()).toBe(1);
  });

  it('reads again once refreshAfter has come, and serves the new generation', async () => {
    const { reader, secrets, clock, reads } = setup();
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce(secretValue(tokenRecord()))
      .resolves(
        secretValue(
          tokenRecord({
            accessToken: 'token-generation-2',
            generation: 2,
            issuedAt: iso(830),
            refreshAfter: iso(1730),
            expiresAt: iso(2030),
          }),
        ),
      );
    await reader.getToken('sirv-prod');

    clock.set(839);
    expect((await reader.getToken('sirv-prod')).generation).toBe(1);
    clock.set(840);
    expect((await reader.getToken('sirv-prod')).generation).toBe(2);
    await reader.getToken('sirv-prod');

    expect(reads()).toBe(2);
  });

  it('never returns a token past its expiresAt, even while the secret still holds it', async () => {
    const { reader, secrets, clock } = setup();
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));
    await reader.getToken('sirv-prod');

    clock.set(1140);
    const error = await caught(reader.getToken('sirv-prod'));

    expect(error).toBeInstanceOf(TokenExpiredError);
    expect((error as TokenExpiredError).code).toBe('TokenExpired');
    expect((error as TokenExpiredError).credential).toBe('sirv-prod');
    expect((error as Error).message).toContain('"sirv-prod"');
    expect((error as Error).message).toContain('RefreshFailed');
    expect((error as Error).message).not.toContain('token-generation-1');
  });

  it('throws TokenExpiredError when the first read already finds an expired token', async () => {
    const { reader, secrets } = setup();
    secrets
      .on(GetSecretValueCommand)
      .resolves(secretValue(tokenRecord({ issuedAt: iso(-1300), refreshAfter: iso(-400), expiresAt: iso(-100) })));

    await expect(reader.getToken('sirv-prod')).rejects.toBeInstanceOf(TokenExpiredError);
  });

  it('throws TokenExpiredError, with the read failure as cause, when the token expires during an outage', async () => {
    const { reader, secrets, clock } = setup();
    secrets.on(GetSecretValueCommand).resolvesOnce(secretValue(tokenRecord())).rejects(awsError('ThrottlingException'));
    await reader.getToken('sirv-prod');

    clock.set(1141);
    const error = await caught(reader.getToken('sirv-prod'));

    expect(error).toBeInstanceOf(TokenExpiredError);
    expect((error as Error).cause).toBeInstanceOf(StoreError);
  });

  it('shares one read among 100 concurrent callers', async () => {
    const { reader, secrets, reads } = setup();
    let release: (value: { SecretString: string }) => void = () => undefined;
    secrets.on(GetSecretValueCommand).callsFake(
      () =>
        new Promise((resolve) => {
          release = resolve;
        }),
    );

    const callers = Array.from({ length: 100 }, () => reader.getToken('sirv-prod'));
    await vi.waitFor(() => expect(reads()).toBe(1));
    release(secretValue(tokenRecord()));
    const records = await Promise.all(callers);

    expect(reads()).toBe(1);
    expect(new Set(records.map((r) => r.accessToken))).toEqual(new Set(['token-generation-1']));
  });

  it('shares one failed read among concurrent callers too', async () => {
    const { reader, secrets, reads } = setup();
    secrets.on(GetSecretValueCommand).rejects(awsError('ResourceNotFoundException'));

    const results = await Promise.allSettled(Array.from({ length: 20 }, () => reader.getToken('sirv-prod')));

    expect(reads()).toBe(1);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
  });

  describe('stale-while-error', () => {
    it('keeps serving the cached token when a re-read is throttled, and retries only after the back-off', async () => {
      const onError = vi.fn();
      const { reader, secrets, clock, reads } = setup({ onError });
      secrets
        .on(GetSecretValueCommand)
        .resolvesOnce(secretValue(tokenRecord()))
        .rejectsOnce(awsError('ThrottlingException'))
        .resolves(
          secretValue(
            tokenRecord({
              accessToken: 'token-generation-2',
              generation: 2,
              refreshAfter: iso(2000),
              expiresAt: iso(2400),
            }),
          ),
        );
      await reader.getToken('sirv-prod');

      clock.set(900);
      expect((await reader.getToken('sirv-prod')).accessToken).toBe('token-generation-1');
      expect(reads()).toBe(2);
      expect(onError).toHaveBeenCalledOnce();
      expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(StoreError);
      expect(onError.mock.calls[0]?.[1]).toBe('sirv-prod');

      for (let i = 0; i < 10; i++) await reader.getToken('sirv-prod');
      clock.set(904);
      await reader.getToken('sirv-prod');
      expect(reads()).toBe(2);

      clock.set(905);
      expect((await reader.getToken('sirv-prod')).accessToken).toBe('token-generation-2');
      expect(reads()).toBe(3);
    });

    it('keeps serving the cached token when the secret now holds a malformed record', async () => {
      const { reader, secrets, clock } = setup();
      secrets
        .on(GetSecretValueCommand)
        .resolvesOnce(secretValue(tokenRecord()))
        .resolves({ SecretString: '{"version":1,"accessToken":"half-written"}' });
      await reader.getToken('sirv-prod');

      clock.set(900);

      expect((await reader.getToken('sirv-prod')).accessToken).toBe('token-generation-1');
    });

    it('keeps serving through a network failure until the token expires, then throws TokenExpiredError', async () => {
      const { reader, secrets, clock, reads } = setup();
      secrets.on(GetSecretValueCommand).resolvesOnce(secretValue(tokenRecord())).rejects(new Error('socket hang up'));
      await reader.getToken('sirv-prod');

      clock.set(1138);
      expect((await reader.getToken('sirv-prod')).accessToken).toBe('token-generation-1');
      clock.set(1140);
      await expect(reader.getToken('sirv-prod')).rejects.toBeInstanceOf(TokenExpiredError);
      // The back-off is capped at expiresAt: the first call after expiry tried to read once more.
      expect(reads()).toBe(3);
    });

    it('backs off after a failed read even when the cached token has expired', async () => {
      const { reader, secrets, clock, reads } = setup();
      secrets
        .on(GetSecretValueCommand)
        .resolvesOnce(secretValue(tokenRecord()))
        .rejects(awsError('ThrottlingException'));
      await reader.getToken('sirv-prod');

      clock.set(1200);
      await expect(reader.getToken('sirv-prod')).rejects.toBeInstanceOf(TokenExpiredError);
      await expect(reader.getToken('sirv-prod')).rejects.toBeInstanceOf(TokenExpiredError);
      expect(reads()).toBe(2);
      clock.set(1205);
      await expect(reader.getToken('sirv-prod')).rejects.toBeInstanceOf(TokenExpiredError);
      expect(reads()).toBe(3);
    });

    it('an observer that throws does not turn a served token into a failure', async () => {
      const { reader, secrets, clock } = setup({
        onError: () => {
          throw new Error('logger down');
        },
      });
      secrets
        .on(GetSecretValueCommand)
        .resolvesOnce(secretValue(tokenRecord()))
        .rejects(awsError('ThrottlingException'));
      await reader.getToken('sirv-prod');
      clock.set(900);

      await expect(reader.getToken('sirv-prod')).resolves.toMatchObject({ generation: 1 });
    });
  });

  describe('when the rotator is behind', () => {
    it('serves the same generation past refreshAfter and re-reads after the recheck interval, not on every call', async () => {
      const { reader, secrets, clock, reads } = setup();
      secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));
      await reader.getToken('sirv-prod');

      clock.set(840);
      await reader.getToken('sirv-prod');
      expect(reads()).toBe(2);
      for (let i = 0; i < 20; i++) {
        clock.advance(1);
        await reader.getToken('sirv-prod');
      }
      expect(reads()).toBe(2);

      clock.set(870);
      await reader.getToken('sirv-prod');
      expect(reads()).toBe(3);
    });

    it('honours a custom recheck interval', async () => {
      const { reader, secrets, clock, reads } = setup({ recheckSeconds: 10 });
      secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));
      await reader.getToken('sirv-prod');
      clock.set(840);
      await reader.getToken('sirv-prod');

      clock.set(850);
      await reader.getToken('sirv-prod');

      expect(reads()).toBe(3);
    });
  });

  it('does not step back to an older generation while the newer one is valid', async () => {
    const { reader, secrets, clock } = setup();
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce(secretValue(tokenRecord({ generation: 5, accessToken: 'token-generation-5' })))
      .resolves(secretValue(tokenRecord({ generation: 4, accessToken: 'token-generation-4' })));
    await reader.getToken('sirv-prod');

    clock.set(840);

    expect((await reader.getToken('sirv-prod')).generation).toBe(5);
  });

  it('reports what to fix when the secret does not exist, without retrying on every call', async () => {
    const { reader, secrets, clock, reads } = setup();
    secrets.on(GetSecretValueCommand).rejects(awsError('ResourceNotFoundException'));

    const error = await caught(reader.getToken('sirv-prod'));
    await expect(reader.getToken('sirv-prod')).rejects.toBe(error);
    clock.advance(5);
    await expect(reader.getToken('sirv-prod')).rejects.toBeInstanceOf(StoreError);

    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'StoreError', transient: false, reason: 'not-found', credential: 'sirv-prod' });
    expect((error as Error).message).toContain('token-rotator/sirv-prod/token');
    expect(reads()).toBe(2);
  });

  it('names the read policy when access is denied', async () => {
    const { reader, secrets } = setup();
    secrets.on(GetSecretValueCommand).rejects(awsError('AccessDeniedException'));

    await expect(reader.getToken('sirv-prod')).rejects.toThrow(/readPolicy/);
  });

  it('treats throttling as transient', async () => {
    const { reader, secrets } = setup();
    secrets.on(GetSecretValueCommand).rejects(awsError('ThrottlingException'));

    await expect(reader.getToken('sirv-prod')).rejects.toMatchObject({ code: 'StoreError', transient: true });
  });

  it('rejects a malformed record without quoting it', async () => {
    const { reader, secrets } = setup();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"accessToken":"leaky-token-value"}' });

    const error = await caught(reader.getToken('sirv-prod'));

    expect(error).toBeInstanceOf(InvalidTokenRecordError);
    expect((error as Error).message).not.toContain('leaky-token-value');
  });

  it('rejects a binary secret', async () => {
    const { reader, secrets } = setup();
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });

    await expect(reader.getToken('sirv-prod')).rejects.toBeInstanceOf(InvalidTokenRecordError);
  });

  it('reads again after invalidate(name), and after invalidate() for every credential', async () => {
    const { reader, secrets, reads } = setup();
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));
    await reader.getToken('sirv-prod');

    reader.invalidate('sirv-prod');
    await reader.getToken('sirv-prod');
    reader.invalidate();
    await reader.getToken('sirv-prod');

    expect(reads()).toBe(3);
  });

  it('keeps one cache entry per credential', async () => {
    const { reader, secrets, reads } = setup();
    secrets.on(GetSecretValueCommand).callsFake(({ SecretId }: { SecretId: string }) => {
      const credential = SecretId.split('/')[1] ?? '';
      return secretValue(tokenRecord({ credential, accessToken: `token-of-${credential}` }));
    });

    expect(await reader.getAccessToken('a')).toBe('token-of-a');
    expect(await reader.getAccessToken('b')).toBe('token-of-b');
    expect(await reader.getAccessToken('a')).toBe('token-of-a');
    expect(reads()).toBe(2);
  });

  it('gives the Authorization header value with the canonical Bearer scheme', async () => {
    const { reader, secrets } = setup();
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord({ tokenType: 'bearer' })));

    expect(await reader.getAuthorizationHeader('sirv-prod')).toBe('Bearer token-generation-1');
  });

  it('rejects a credential name that cannot name a secret, before reading', async () => {
    const { reader, reads } = setup();

    await expect(reader.getToken('')).rejects.toMatchObject({ code: 'InvalidConfiguration', field: 'name' });
    await expect(reader.getToken('has space')).rejects.toBeInstanceOf(InvalidConfigurationError);
    // The same rule as the provider and the store: no slash (that belongs to the prefix), at most 64.
    await expect(reader.getToken('team/sirv-prod')).rejects.toThrow(/1-64 letters, digits and _\+=\.@-/);
    await expect(reader.getToken('x'.repeat(65))).rejects.toBeInstanceOf(InvalidConfigurationError);
    expect(reads()).toBe(0);
  });

  it('rejects options that make no sense', () => {
    expect(() => new TokenReader({ retrySeconds: -1 })).toThrow(InvalidConfigurationError);
    expect(() => new TokenReader({ rotator: { functionName: '' } })).toThrow(/rotator\.functionName/);
  });
});

describe('TokenReader.fetch', () => {
  it('sends Authorization: <tokenType> <accessToken> and keeps the caller headers', async () => {
    const { reader, secrets } = setup();
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));
    const api = apiFetch(new Set());

    const response = await reader.fetch(
      'sirv-prod',
      'https://api.example.test/v2/account',
      { headers: { accept: 'application/json', authorization: 'Bearer caller-value' } },
      { fetch: api.fetch },
    );

    expect(response.status).toBe(200);
    expect(api.calls).toEqual([
      { url: 'https://api.example.test/v2/account', authorization: 'Bearer token-generation-1', body: undefined },
    ]);
  });

  it('uses the fetch given to the constructor', async () => {
    const api = apiFetch(new Set());
    const { reader, secrets } = setup({ fetch: api.fetch });
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));

    await reader.fetch('sirv-prod', 'https://api.example.test/');

    expect(api.calls).toHaveLength(1);
  });

  it('on a 401 re-reads the secret once, bypassing the cache, and retries once with the new token', async () => {
    const api = apiFetch(new Set(['token-generation-1']));
    const { reader, secrets, reads } = setup({ fetch: api.fetch });
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce(secretValue(tokenRecord()))
      .resolves(secretValue(tokenRecord({ accessToken: 'token-generation-2', generation: 2 })));

    const response = await reader.fetch('sirv-prod', 'https://api.example.test/', { method: 'POST', body: '{"a":1}' });

    expect(response.status).toBe(200);
    expect(reads()).toBe(2);
    expect(api.calls.map((c) => c.authorization)).toEqual(['Bearer token-generation-1', 'Bearer token-generation-2']);
    expect(api.calls.map((c) => c.body)).toEqual(['{"a":1}', '{"a":1}']);
  });

  it('returns the 401 without retrying when the re-read finds the same token', async () => {
    const api = apiFetch(new Set(['token-generation-1']));
    const { reader, secrets, reads } = setup({ fetch: api.fetch });
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));

    const response = await reader.fetch('sirv-prod', 'https://api.example.test/');

    expect(response.status).toBe(401);
    expect(reads()).toBe(2);
    expect(api.calls).toHaveLength(1);
  });

  it('does not loop when the new token is rejected too: two requests, two reads, then the 401', async () => {
    const api = apiFetch(new Set(['token-generation-1', 'token-generation-2', 'token-generation-3']));
    const { reader, secrets, reads } = setup({ fetch: api.fetch });
    let generation = 0;
    secrets.on(GetSecretValueCommand).callsFake(() => {
      generation += 1;
      return secretValue(tokenRecord({ accessToken: `token-generation-${generation}`, generation }));
    });

    const response = await reader.fetch('sirv-prod', 'https://api.example.test/');

    expect(response.status).toBe(401);
    expect(api.calls).toHaveLength(2);
    expect(reads()).toBe(2);
  });

  it('does not force a re-read on every 401 of a storm: at most one per back-off interval', async () => {
    const api = apiFetch(new Set(['token-generation-1']));
    const { reader, secrets, clock, reads } = setup({ fetch: api.fetch });
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));

    for (let i = 0; i < 10; i++) await reader.fetch('sirv-prod', 'https://api.example.test/');
    expect(reads()).toBe(2);
    clock.advance(5);
    await reader.fetch('sirv-prod', 'https://api.example.test/');

    expect(reads()).toBe(3);
  });

  it('hands each request it sends, and the token it carries, to prepareSend first', async () => {
    const api = apiFetch(new Set(['token-generation-1']));
    const { reader, secrets } = setup({ fetch: api.fetch });
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce(secretValue(tokenRecord()))
      .resolves(secretValue(tokenRecord({ accessToken: 'token-generation-2', generation: 2 })));
    const prepared: string[] = [];

    await reader.fetch(
      'sirv-prod',
      'https://api.example.test/',
      { method: 'POST', body: 'a' },
      {
        prepareSend: (init, accessToken) => {
          prepared.push(accessToken);
          return { ...init, body: `${String(init.body)}-${prepared.length}` };
        },
      },
    );

    expect(prepared).toEqual(['token-generation-1', 'token-generation-2']);
    expect(api.calls.map((c) => c.body)).toEqual(['a-1', 'a-2']);
  });

  it('never retries a request whose body is a stream', async () => {
    const api = apiFetch(new Set(['token-generation-1']));
    const { reader, secrets, reads } = setup({ fetch: api.fetch });
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce(secretValue(tokenRecord()))
      .resolves(secretValue(tokenRecord({ accessToken: 'token-generation-2', generation: 2 })));

    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('chunk'));
        controller.close();
      },
    });
    const response = await reader.fetch('sirv-prod', 'https://api.example.test/', { method: 'POST', body });

    expect(response.status).toBe(401);
    expect(api.calls).toHaveLength(1);
    expect(reads()).toBe(1);
  });

  it('does not send anything when no valid token can be read', async () => {
    const api = apiFetch(new Set());
    const { reader, secrets } = setup({ fetch: api.fetch });
    secrets
      .on(GetSecretValueCommand)
      .resolves(secretValue(tokenRecord({ issuedAt: iso(-1300), refreshAfter: iso(-400), expiresAt: iso(-1) })));

    await expect(reader.fetch('sirv-prod', 'https://api.example.test/')).rejects.toBeInstanceOf(TokenExpiredError);
    expect(api.calls).toHaveLength(0);
  });
});

describe('TokenReader.fetch with an on-demand rotator', () => {
  let lambdaClient: LambdaClient;
  let lambda: AwsClientStub<LambdaClient>;

  beforeEach(() => {
    lambdaClient = new LambdaClient({ region: 'us-east-1', credentials });
    lambda = mockClient(lambdaClient);
  });

  const rotatorAnswer = (body: unknown, functionError?: string) => ({
    StatusCode: 200,
    Payload: new TextEncoder().encode(JSON.stringify(body)) as never,
    ...(functionError === undefined ? {} : { FunctionError: functionError }),
  });

  /** The secret holds generation 1 until the rotator "runs", then generation 2. */
  function rotatingSecret(secrets: ReturnType<typeof setup>['secrets']) {
    let current = tokenRecord();
    secrets.on(GetSecretValueCommand).callsFake(() => secretValue(current));
    lambda.on(InvokeCommand).callsFake(() => {
      current = tokenRecord({ accessToken: 'token-generation-2', generation: 2 });
      return rotatorAnswer({ results: [{ credential: 'sirv-prod', ok: true, generation: 2 }] });
    });
  }

  it('asks the rotator for a forced refresh of this credential when the re-read token is still rejected', async () => {
    const api = apiFetch(new Set(['token-generation-1']));
    const { reader, secrets, reads } = setup({
      fetch: api.fetch,
      rotator: { functionName: 'token-rotator-fn', client: lambdaClient },
    });
    rotatingSecret(secrets);

    const response = await reader.fetch('sirv-prod', 'https://api.example.test/');

    expect(response.status).toBe(200);
    const invokes = lambda.commandCalls(InvokeCommand);
    expect(invokes).toHaveLength(1);
    const input = invokes[0]?.args[0].input;
    expect(input?.FunctionName).toBe('token-rotator-fn');
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({
      credentials: ['sirv-prod'],
      force: true,
    });
    expect(reads()).toBe(3);
    expect(api.calls.map((c) => c.authorization)).toEqual(['Bearer token-generation-1', 'Bearer token-generation-2']);
  });

  it('invokes the rotator at most once per credential per minIntervalSeconds', async () => {
    const api = apiFetch(new Set(['token-generation-1', 'token-generation-2']));
    const { reader, secrets, clock } = setup({
      fetch: api.fetch,
      rotator: { functionName: 'token-rotator-fn', client: lambdaClient, minIntervalSeconds: 60 },
    });
    rotatingSecret(secrets);

    await reader.fetch('sirv-prod', 'https://api.example.test/');
    clock.advance(10);
    await reader.fetch('sirv-prod', 'https://api.example.test/');
    clock.advance(49);
    await reader.fetch('sirv-prod', 'https://api.example.test/');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);

    clock.advance(1);
    await reader.fetch('sirv-prod', 'https://api.example.test/');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(2);
  });

  it('keeps the rate limit across invalidate()', async () => {
    const api = apiFetch(new Set(['token-generation-1', 'token-generation-2']));
    const { reader, secrets } = setup({ fetch: api.fetch, rotator: { functionName: 'fn', client: lambdaClient } });
    rotatingSecret(secrets);

    await reader.fetch('sirv-prod', 'https://api.example.test/');
    reader.invalidate();
    await reader.fetch('sirv-prod', 'https://api.example.test/');

    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
  });

  it('shares one invocation among concurrent rejected requests', async () => {
    const api = apiFetch(new Set(['token-generation-1']));
    const { reader, secrets } = setup({ fetch: api.fetch, rotator: { functionName: 'fn', client: lambdaClient } });
    rotatingSecret(secrets);

    const responses = await Promise.all(
      Array.from({ length: 10 }, () => reader.fetch('sirv-prod', 'https://api.example.test/')),
    );

    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(responses.every((r) => r.status === 200)).toBe(true);
  });

  it('reports the rotator refusal to onError and returns the 401', async () => {
    const onError = vi.fn();
    const api = apiFetch(new Set(['token-generation-1']));
    const { reader, secrets } = setup({
      fetch: api.fetch,
      onError,
      rotator: { functionName: 'fn', client: lambdaClient },
    });
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));
    lambda
      .on(InvokeCommand)
      .resolves(
        rotatorAnswer({ results: [{ credential: 'sirv-prod', ok: false, error: { code: 'InvalidCredentials' } }] }),
      );

    const response = await reader.fetch('sirv-prod', 'https://api.example.test/');

    expect(response.status).toBe(401);
    expect(api.calls).toHaveLength(1);
    expect(onError).toHaveBeenCalledOnce();
    expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(InvalidCredentialsError);
  });

  it('reports a failed invocation (FunctionError) as a token-rotator error', async () => {
    const onError = vi.fn();
    const api = apiFetch(new Set(['token-generation-1']));
    const { reader, secrets } = setup({
      fetch: api.fetch,
      onError,
      rotator: { functionName: 'fn', client: lambdaClient },
    });
    secrets.on(GetSecretValueCommand).resolves(secretValue(tokenRecord()));
    lambda.on(InvokeCommand).resolves(rotatorAnswer({ errorMessage: 'boom' }, 'Unhandled'));

    const response = await reader.fetch('sirv-prod', 'https://api.example.test/');

    expect(response.status).toBe(401);
    expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(TokenRotatorError);
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'IssuerUnavailable', reason: 'rotator-failed' });
  });

  it('does not invoke the rotator when the retry with the re-read token succeeds', async () => {
    const api = apiFetch(new Set(['token-generation-1']));
    const { reader, secrets } = setup({ fetch: api.fetch, rotator: { functionName: 'fn', client: lambdaClient } });
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce(secretValue(tokenRecord()))
      .resolves(secretValue(tokenRecord({ accessToken: 'token-generation-2', generation: 2 })));

    await reader.fetch('sirv-prod', 'https://api.example.test/');

    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
