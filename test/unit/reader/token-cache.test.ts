import { inspect } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StoreError, TokenRotatorError } from '../../../core/errors';
import type { TokenRecord } from '../../../core/token';
import { LruMap } from '../../../reader/lru-map';
import { TokenCache } from '../../../reader/token-cache';
import { TokenReader, type TokenReaderOptions } from '../../../reader/token-reader';
import { caught } from '../../helpers/caught';
import { frozenClock } from '../../helpers/clock';
import { tokenRecord } from '../../helpers/token-record';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

function newClient(): SecretsManagerClient {
  return new SecretsManagerClient({ region: 'us-east-1', credentials });
}

const notFound = () =>
  Object.assign(new Error("Secrets Manager can't find the specified secret."), {
    name: 'ResourceNotFoundException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    $response: { statusCode: 400, body: 'RAW-SDK-RESPONSE-BODY' },
  });

/**
 * A Secrets Manager where only `known` credentials exist (under any prefix), each answering
 * `token-of-NAME`, counting reads per secret.
 */
function secretsWith(secrets: AwsClientStub<SecretsManagerClient>, known: string[], at: Date) {
  const reads = new Map<string, number>();
  secrets.on(GetSecretValueCommand).callsFake(({ SecretId }: { SecretId: string }) => {
    reads.set(SecretId, (reads.get(SecretId) ?? 0) + 1);
    const name = SecretId.split('/').at(-2) ?? '';
    if (!known.includes(name)) throw notFound();
    const record: TokenRecord = tokenRecord(name, { at }, { accessToken: `token-of-${name}` });
    return { SecretString: JSON.stringify(record) };
  });
  return { readsOf: (secretId: string) => reads.get(secretId) ?? 0, total: () => secrets.calls().length };
}

function setup(known: string[], options: Omit<TokenReaderOptions, 'client' | 'now'> = {}) {
  const client = newClient();
  const secrets = mockClient(client);
  const clock = frozenClock();
  const reader = new TokenReader({ ...options, client, now: clock.now });
  return { client, reader, clock, ...secretsWith(secrets, known, clock.now()) };
}

describe('TokenCache', () => {
  it('keeps at most maxEntries tokens, forgetting the least recently used first', async () => {
    const cache = new TokenCache({ maxEntries: 2 });
    const { reader, readsOf } = setup(['a', 'b', 'c'], { cache });

    await reader.getToken('a');
    await reader.getToken('b');
    await reader.getToken('a'); // a is now more recent than b
    await reader.getToken('c'); // b goes

    expect(cache.size).toEqual({ tokens: 2, failures: 0 });
    await reader.getToken('a');
    await reader.getToken('c');
    expect(readsOf('token-rotator/a/token')).toBe(1);
    expect(readsOf('token-rotator/c/token')).toBe(1);
    await reader.getToken('b');
    expect(readsOf('token-rotator/b/token')).toBe(2);
  });

  it('never lets a flood of unknown names push a cached token out', async () => {
    const cache = new TokenCache({ maxEntries: 10 });
    const { reader, readsOf } = setup(['known'], { cache });
    await reader.getToken('known');

    for (let i = 0; i < 500; i++) await expect(reader.getToken(`tenant-${i}`)).rejects.toBeInstanceOf(StoreError);

    expect(cache.size).toEqual({ tokens: 1, failures: 10 });
    expect((await reader.getToken('known')).accessToken).toBe('token-of-known');
    expect(readsOf('token-rotator/known/token')).toBe(1);
  });

  it('remembers a failure only until its next read is due', async () => {
    const cache = new TokenCache();
    const { reader, clock, readsOf } = setup([], { cache, retrySeconds: 5 });

    await expect(reader.getToken('gone-1')).rejects.toBeInstanceOf(StoreError);
    await expect(reader.getToken('gone-1')).rejects.toBeInstanceOf(StoreError);
    expect(readsOf('token-rotator/gone-1/token')).toBe(1);
    expect(cache.size.failures).toBe(1);

    clock.advance(5);
    await expect(reader.getToken('gone-2')).rejects.toBeInstanceOf(StoreError);

    expect(cache.size.failures).toBe(1);
    await expect(reader.getToken('gone-1')).rejects.toBeInstanceOf(StoreError);
    expect(readsOf('token-rotator/gone-1/token')).toBe(2);
  });

  it('keeps of a failure only the classified error: nothing of the SDK error or its response', async () => {
    const { reader } = setup([]);

    const error = await caught(reader.getToken('tenant-1'));

    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).cause).toBeUndefined();
    expect(inspect(error, { depth: 8 })).not.toContain('RAW-SDK-RESPONSE-BODY');
    expect(Object.keys(error as object).sort()).toEqual(
      ['code', 'credential', 'name', 'reason', 'retryAfterSeconds', 'status', 'transient'].sort(),
    );
  });

  it('moves a name that was missing among the tokens once it can be read', async () => {
    const cache = new TokenCache();
    const known: string[] = [];
    const { reader, clock } = setup(known, { cache });
    await expect(reader.getToken('late')).rejects.toBeInstanceOf(StoreError);

    known.push('late');
    clock.advance(5);

    expect((await reader.getToken('late')).accessToken).toBe('token-of-late');
    expect(cache.size).toEqual({ tokens: 1, failures: 0 });
  });

  it('refuses a size that is not a whole number of at least 1', () => {
    expect(() => new TokenCache({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new TokenCache({ maxEntries: 1.5 })).toThrow(/maxEntries/);
    expect(new TokenCache().maxEntries).toBe(1000);
  });
});

describe('TokenReader cache sharing', () => {
  it('readers given the same client share one cache, and one read', async () => {
    const client = newClient();
    const clock = frozenClock();
    const { total } = secretsWith(mockClient(client), ['sirv-prod'], clock.now());
    const first = new TokenReader({ client, now: clock.now });
    const second = new TokenReader({ client, now: clock.now });

    await Promise.all([first.getToken('sirv-prod'), second.getToken('sirv-prod')]);
    await second.getToken('sirv-prod');

    expect(total()).toBe(1);
  });

  it('a reader given a cache of its own reads for itself', async () => {
    const client = newClient();
    const clock = frozenClock();
    const { total } = secretsWith(mockClient(client), ['sirv-prod'], clock.now());
    const shared = new TokenReader({ client, now: clock.now });
    const own = new TokenReader({ client, now: clock.now, cache: new TokenCache() });

    await shared.getToken('sirv-prod');
    await own.getToken('sirv-prod');

    expect(total()).toBe(2);
  });

  it('keeps the credentials of two prefixes apart in one cache, and invalidate() forgets only its own', async () => {
    const client = newClient();
    const clock = frozenClock();
    const { readsOf } = secretsWith(mockClient(client), ['sirv-prod'], clock.now());
    const teamA = new TokenReader({ client, now: clock.now, prefix: 'team-a/' });
    const teamB = new TokenReader({ client, now: clock.now, prefix: 'team-b/' });
    await teamA.getToken('sirv-prod');
    await teamB.getToken('sirv-prod');

    teamA.invalidate();
    await teamA.getToken('sirv-prod');
    await teamB.getToken('sirv-prod');

    expect(readsOf('team-a/sirv-prod/token')).toBe(2);
    expect(readsOf('team-b/sirv-prod/token')).toBe(1);
  });
});

describe('LruMap', () => {
  it('behaves as a list ordered by last use, cut to its bound', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('peek' as const), key: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 9 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
        const map = new LruMap<number, string>(max);
        let model: number[] = []; // least recently used first
        for (const { kind, key } of ops) {
          const present = model.includes(key);
          if (kind === 'get') {
            expect(map.get(key)).toBe(present ? `v${key}` : undefined);
            if (present) model = [...model.filter((k) => k !== key), key];
          } else if (kind === 'peek') {
            expect(map.peek(key)).toBe(present ? `v${key}` : undefined);
          } else if (kind === 'set') {
            map.set(key, `v${key}`);
            model = [...model.filter((k) => k !== key), key].slice(-max);
          } else {
            expect(map.delete(key)).toBe(present);
            model = model.filter((k) => k !== key);
          }
          expect([...map.entries()].map(([k]) => k)).toEqual(model);
        }
      }),
    );
  });
});

describe('TokenReader memory under untrusted names', () => {
  it('whatever names are asked and whenever, keeps at most maxEntries of each kind and still serves the known one', async () => {
    const name = fc.oneof(
      fc.constantFrom('known', 'known-2'),
      fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/),
      fc.string({ maxLength: 80 }),
    );
    const step = fc.oneof(
      fc.record({ ask: name }),
      fc.record({ advance: fc.integer({ min: 0, max: 10 }) }),
      fc.record({ invalidate: fc.option(name, { nil: undefined }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 40 }), async (max, steps) => {
        const cache = new TokenCache({ maxEntries: max });
        const { reader, clock } = setup(['known', 'known-2'], { cache });
        for (const s of steps) {
          if ('ask' in s) {
            const result = await reader.getToken(s.ask).then(
              (record) => record,
              (error: unknown) => error,
            );
            if (s.ask === 'known' || s.ask === 'known-2') {
              expect(result).toMatchObject({ accessToken: `token-of-${s.ask}` });
            } else {
              expect(result).toBeInstanceOf(TokenRotatorError);
              expect(['StoreError', 'InvalidConfiguration']).toContain((result as TokenRotatorError).code);
            }
          } else if ('advance' in s) {
            clock.advance(s.advance);
          } else {
            reader.invalidate(s.invalidate);
          }
          expect(cache.size.tokens).toBeLessThanOrEqual(max);
          expect(cache.size.failures).toBeLessThanOrEqual(max);
        }
        expect((await reader.getToken('known')).accessToken).toBe('token-of-known');
      }),
      { numRuns: 100 },
    );
  });
});
