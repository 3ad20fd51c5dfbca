/**
 * Faults on the AWS side for the reliability suite: Secrets Manager throttling injected inside
 * the SDK's own retry loop, a retry strategy that retries at once (simulated time has no room for
 * real back-off sleeps), a real SDK client whose transport is the in-memory double of the unit
 * tests, and a recorder of every token written.
 */
import * as secretsManagerSdk from '@aws-sdk/client-secrets-manager';
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import { parseTokenRecord, type TokenRecord } from '../../core/token';

/** A seeded generator (LCG): the same seed replays the same faults and jitter. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * The SDK's retry loop with no delay between attempts: up to `maxAttempts` attempts for
 * throttling and transient errors, none for client errors. The SDK's standard strategy would
 * sleep 100 ms–20 s of real time between attempts (more for throttling); the frozen clock of a
 * simulation has no use for that, and a soak of 1440 ticks cannot afford it.
 */
export function instantRetryStrategy(maxAttempts: number): RetryStrategyV2 {
  const token = (count: number): RetryToken => ({ getRetryCount: () => count, getRetryDelay: () => 0 });
  return {
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (previous: RetryToken, info: RetryErrorInfo) => {
      const next = previous.getRetryCount() + 1;
      if (next >= maxAttempts || info.errorType === 'CLIENT_ERROR') throw new Error('no retry left');
      return token(next);
    },
    recordSuccess: () => {},
  };
}

/** Client settings for a rotator client under simulated time: the instant retry, 3 attempts. */
export const SIMULATED_RETRY: SecretsManagerClientConfig = {
  maxAttempts: 3,
  retryStrategy: instantRetryStrategy(3),
};

/** What {@link injectThrottling} counted. */
export interface ThrottleCounts {
  /** Attempts answered with a ThrottlingException, by command. */
  throttled: Record<string, number>;
  /** Attempts that went through. */
  passed: number;
  readonly total: number;
}

/**
 * Throws Secrets Manager's `ThrottlingException` on a seeded fraction of the client's attempts.
 * The middleware sits at the end of the finalizeRequest step, inside the SDK's retry loop (and
 * above any transport), so the SDK retries each throttle as it would a real one; only a throttle
 * on every attempt reaches the caller.
 */
export function injectThrottling(
  client: SecretsManagerClient,
  options: { rate: number; random: () => number; enabled?: () => boolean },
): ThrottleCounts {
  const counts: ThrottleCounts = {
    throttled: {},
    passed: 0,
    get total() {
      return Object.values(this.throttled).reduce((a, b) => a + b, 0);
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if ((options.enabled?.() ?? true) && options.random() < options.rate) {
        const command = context.commandName ?? '?';
        counts.throttled[command] = (counts.throttled[command] ?? 0) + 1;
        throw Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      }
      counts.passed += 1;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'injectThrottling' },
  );
  return counts;
}

type CommandClass = new (input: unknown) => Parameters<SecretsManagerClient['send']>[0];

/**
 * A real SecretsManagerClient (its whole middleware stack: retries, throttling injected by
 * {@link injectThrottling}, recorders) whose transport is `backend`, the in-memory double of
 * local-stack/memory-secrets.ts. That double stubs `send` on the SDK's prototype, which would
 * skip every middleware; this client keeps the SDK's own `send` and hands each attempt to the
 * double at the bottom of the stack instead of sending an HTTP request.
 */
export function memoryBackedClient(backend: SecretsManagerClient, config: SecretsManagerClientConfig = {}) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    ...config,
  });
  // The smithy Client's send, one prototype above the one aws-sdk-client-mock stubs.
  const smithySend = Object.getPrototypeOf(SecretsManagerClient.prototype).send as (
    this: SecretsManagerClient,
    ...args: unknown[]
  ) => Promise<unknown>;
  Object.defineProperty(client, 'send', { value: (...args: unknown[]) => smithySend.call(client, ...args) });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const name = context.commandName ?? '';
      const Command = (secretsManagerSdk as unknown as Record<string, CommandClass>)[name];
      if (!Command) throw new Error(`memoryBackedClient: unknown command ${name}`);
      const output = (await backend.send(new Command(args.input))) as unknown as Record<string, unknown> | undefined;
      return { response: {}, output: { ...output, $metadata: {} } } as never;
    },
    { step: 'deserialize', priority: 'high', name: 'inMemorySecretsManager' },
  );
  return client;
}

/** One token written by a client: the record, the secret and when (the simulation's tick). */
export interface TokenWrite {
  tick: number;
  secretId: string;
  record: TokenRecord;
}

/**
 * Records every successful PutSecretValue of a token secret made through `client` (outermost
 * middleware: retried attempts count once), tagged with `tick()`.
 */
export function recordTokenWrites(client: SecretsManagerClient, tick: () => number, into: TokenWrite[] = []) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      if (context.commandName === 'PutSecretValueCommand') {
        const input = args.input as { SecretId?: string; SecretString?: string };
        if (input.SecretId?.endsWith('/token')) {
          into.push({ tick: tick(), secretId: input.SecretId, record: parseTokenRecord(input.SecretString ?? '') });
        }
      }
      return output;
    },
    { step: 'initialize', priority: 'high', name: 'recordTokenWrites' },
  );
  return into;
}

/** Counts the commands a client sends, by name (outermost: a retried command counts once). */
export function countCommands(client: SecretsManagerClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '?';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', priority: 'high', name: 'countCommands' },
  );
  return counts;
}

/** Secrets Manager commands that write something. */
export const WRITE_COMMANDS = [
  'CreateSecretCommand',
  'PutSecretValueCommand',
  'UpdateSecretCommand',
  'TagResourceCommand',
  'UntagResourceCommand',
  'RestoreSecretCommand',
  'DeleteSecretCommand',
] as const;

/** How many write commands a counter saw. */
export function writesIn(counts: Map<string, number>): number {
  return WRITE_COMMANDS.reduce((sum, name) => sum + (counts.get(name) ?? 0), 0);
}

/**
 * A `fetch` that remembers every access token an issuer handed out: a JSON body's `token` or
 * `access_token`, or a Bearer JWT in the `Authorization` response header.
 */
export function recordingFetch(issued: Set<string> = new Set()) {
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    if (response.ok) {
      const bearer = /^Bearer (\S+)$/i.exec(response.headers.get('authorization') ?? '')?.[1];
      if (bearer) issued.add(bearer);
      const text = await response.clone().text();
      try {
        const body = JSON.parse(text) as { token?: unknown; access_token?: unknown };
        for (const value of [body.token, body.access_token]) if (typeof value === 'string') issued.add(value);
      } catch {
        // Not JSON: nothing issued.
      }
    }
    return response;
  };
  return { fetch: fetchImpl as typeof fetch, issued };
}
