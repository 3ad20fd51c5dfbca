/**
 * TokenReader and the Sirv helper against the real moto server of the project's globalSetup and
 * the Sirv contract fake. Token records are written with CreateSecret / PutSecretValue directly
 * (not through core/store) so this test depends only on the secrets layout of DESIGN.md.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { StoreError, TokenExpiredError } from '../../core/errors';
import type { TokenRecord } from '../../core/token';
import { SIRV_SEED_CLIENT, type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { createProtectedUrl } from '../../reader/sirv';
import { TokenReader } from '../../reader/token-reader';
import { caught } from '../helpers/caught';
import { frozenClock } from '../helpers/clock';
import { tokenRecord as record } from '../helpers/token-record';

const endpoint = inject('motoEndpoint');
const region = process.env.AWS_REGION ?? 'us-east-1';
// Every run writes under its own prefix: the moto server is shared with other test files.
const prefix = `reader-it-${randomUUID().slice(0, 8)}/`;
const created: string[] = [];

function secretsClient(): SecretsManagerClient {
  if (!endpoint) throw new Error('No moto endpoint: run this file under the integration project (globalSetup).');
  return new SecretsManagerClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

const writer = secretsClient();

/** A reader client that counts its GetSecretValue calls with an SDK middleware. */
function countingClient(): { client: SecretsManagerClient; reads: () => number } {
  const client = secretsClient();
  let reads = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetSecretValueCommand') reads += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countGetSecretValue' },
  );
  return { client, reads: () => reads };
}

function tokenRecord(name: string, start: number, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return record(name, { at: start }, { accessToken: `token-of-${name}-generation-1`, ...overrides });
}

async function writeFirstToken(name: string, record: TokenRecord): Promise<void> {
  const secretName = `${prefix}${name}/token`;
  await writer.send(new CreateSecretCommand({ Name: secretName, SecretString: JSON.stringify(record) }));
  created.push(secretName);
}

async function writeToken(name: string, value: TokenRecord | string): Promise<void> {
  await writer.send(
    new PutSecretValueCommand({
      SecretId: `${prefix}${name}/token`,
      SecretString: typeof value === 'string' ? value : JSON.stringify(value),
    }),
  );
}

afterAll(async () => {
  await Promise.allSettled(
    created.map((name) => writer.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }))),
  );
});

const T0 = Date.parse('2026-11-22T12:00:00.000Z');

describe('TokenReader against Secrets Manager (moto)', () => {
  it('reads only when due: once before refreshAfter, again when it comes', async () => {
    await writeFirstToken('due', tokenRecord('due', T0));
    const { client, reads } = countingClient();
    const clock = frozenClock(T0);
    const reader = new TokenReader({ prefix, client, now: clock.now });

    for (let i = 0; i < 20; i++) expect((await reader.getToken('due')).generation).toBe(1);
    expect(reads()).toBe(1);

    await writeToken(
      'due',
      tokenRecord('due', T0, {
        accessToken: 'token-of-due-generation-2',
        generation: 2,
        issuedAt: new Date(T0 + 830_000).toISOString(),
        refreshAfter: new Date(T0 + 1_730_000).toISOString(),
        expiresAt: new Date(T0 + 2_030_000).toISOString(),
      }),
    );
    clock.set(839);
    expect((await reader.getToken('due')).generation).toBe(1);
    expect(reads()).toBe(1);

    clock.set(840);
    expect((await reader.getToken('due')).accessToken).toBe('token-of-due-generation-2');
    await reader.getToken('due');
    expect(reads()).toBe(2);
  });

  it('never returns an expired token, even while the secret still holds it', async () => {
    await writeFirstToken('expiring', tokenRecord('expiring', T0));
    const { client } = countingClient();
    const clock = frozenClock(T0);
    const reader = new TokenReader({ prefix, client, now: clock.now });
    await reader.getToken('expiring');

    clock.set(1140);
    const error = await caught(reader.getToken('expiring'));

    expect(error).toBeInstanceOf(TokenExpiredError);
    expect((error as Error).message).toContain('"expiring"');
  });

  it('works with no client given: the default one takes the standard AWS environment', async () => {
    await writeFirstToken('default-client', tokenRecord('default-client', T0));
    expect(process.env.AWS_ENDPOINT_URL).toBe(endpoint);
    const reader = new TokenReader({ prefix, now: frozenClock(T0).now });

    expect(await reader.getAccessToken('default-client')).toBe('token-of-default-client-generation-1');
  });

  it('shares one read among 100 concurrent callers', async () => {
    await writeFirstToken('crowd', tokenRecord('crowd', T0));
    const { client, reads } = countingClient();
    const reader = new TokenReader({ prefix, client, now: frozenClock(T0).now });

    const records = await Promise.all(Array.from({ length: 100 }, () => reader.getToken('crowd')));

    expect(reads()).toBe(1);
    expect(new Set(records.map((r) => r.generation))).toEqual(new Set([1]));
  });

  it('keeps serving the cached token while the secret is poisoned, then deleted, until it expires', async () => {
    await writeFirstToken('outage', tokenRecord('outage', T0));
    const { client, reads } = countingClient();
    const clock = frozenClock(T0);
    const errors: Error[] = [];
    const reader = new TokenReader({ prefix, client, now: clock.now, onError: (error) => errors.push(error) });
    await reader.getToken('outage');

    await writeToken('outage', '{"version":1,"accessToken":"half-written"');
    clock.set(840);
    expect((await reader.getToken('outage')).accessToken).toBe('token-of-outage-generation-1');
    expect(reads()).toBe(2);
    // Within the back-off: served from the cache, no read.
    clock.set(844);
    expect((await reader.getToken('outage')).generation).toBe(1);
    expect(reads()).toBe(2);

    await writer.send(new DeleteSecretCommand({ SecretId: `${prefix}outage/token`, ForceDeleteWithoutRecovery: true }));
    clock.set(845);
    expect((await reader.getToken('outage')).generation).toBe(1);
    expect(reads()).toBe(3);
    expect(errors.map((e) => e.name)).toEqual(['InvalidTokenRecordError', 'StoreError']);

    clock.set(1140);
    const error = await caught(reader.getToken('outage'));
    expect(error).toBeInstanceOf(TokenExpiredError);
    expect((error as Error).cause).toBeInstanceOf(StoreError);
  });
});

describe('TokenReader read failures against Secrets Manager (moto): each names its cause', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /** The failure of reading `name` through `reader`, as a StoreError. */
  async function failureOf(reader: TokenReader, name: string): Promise<StoreError> {
    return caught(reader.getToken(name), StoreError);
  }

  it('the wrong region: not found, and the message names the region it looked in', async () => {
    await writeFirstToken('regional', tokenRecord('regional', T0));
    const elsewhere = region === 'eu-central-1' ? 'eu-west-3' : 'eu-central-1';
    const client = new SecretsManagerClient({
      region: elsewhere,
      endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });

    const error = await failureOf(new TokenReader({ prefix, client }), 'regional');

    expect(error).toMatchObject({ reason: 'not-found', transient: false, credential: 'regional' });
    expect(error.message).toContain(`"${prefix}regional/token" in region ${elsewhere}`);
    expect(error.message).toContain('AWS_REGION is the region the credential was deployed in');
    // The same reader in the right region finds it: the region was the only thing wrong.
    const rightRegion = new TokenReader({ prefix, client: secretsClient(), now: frozenClock(T0).now });
    expect((await rightRegion.getToken('regional')).generation).toBe(1);
  });

  it('the wrong prefix: not found, and the message names the prefix it used', async () => {
    await writeFirstToken('prefixed', tokenRecord('prefixed', T0));
    const wrong = `other-${prefix}`;

    const error = await failureOf(new TokenReader({ prefix: wrong, client: secretsClient() }), 'prefixed');

    expect(error).toMatchObject({ reason: 'not-found', transient: false });
    expect(error.message).toContain(`the prefix "${wrong}" is the one it was deployed with`);
  });

  it('a prefix no credential can have (no trailing slash) is refused before any read', () => {
    expect(() => new TokenReader({ prefix: prefix.slice(0, -1), client: secretsClient() })).toThrow(
      /prefix .* each ending with "\/"/,
    );
  });

  it('a secret that was never deployed: not found, naming the credential', async () => {
    const error = await failureOf(new TokenReader({ prefix, client: secretsClient() }), 'never-deployed');

    expect(error).toMatchObject({ reason: 'not-found', credential: 'never-deployed' });
    expect(error.message).toContain('that a credential "never-deployed" is deployed');
  });

  it('a secret scheduled for deletion: says so', async () => {
    await writeFirstToken('deleting', tokenRecord('deleting', T0));
    await writer.send(new DeleteSecretCommand({ SecretId: `${prefix}deleting/token`, RecoveryWindowInDays: 7 }));

    const error = await failureOf(new TokenReader({ prefix, client: secretsClient() }), 'deleting');

    expect(error).toMatchObject({ reason: 'invalid-request', transient: false });
    expect(error.message).toContain('scheduled for deletion');
  });

  it('no AWS credentials in the environment: says to configure them, with the endpoint still moto', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
      vi.stubEnv(name, undefined);
    }
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/token-rotator-test/config');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/token-rotator-test/credentials');
    const client = new SecretsManagerClient({ region, endpoint, maxAttempts: 1 });

    const error = await failureOf(new TokenReader({ prefix, client }), 'anything');

    expect(error).toMatchObject({ reason: 'no-aws-credentials', transient: false });
    expect(error.message).toContain('no AWS credentials were found');
  });
});

describe('createProtectedUrl against the Sirv contract fake', () => {
  let sirv: SirvFake;

  beforeAll(async () => {
    sirv = await startSirvFake();
  });

  afterAll(async () => {
    await sirv.close();
  });

  /** A real token from the fake's POST /v2/token, as the rotator would store it. */
  async function tokenFromFake(name: string, start: number, generation: number): Promise<TokenRecord> {
    const response = await fetch(sirv.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SIRV_SEED_CLIENT),
    });
    expect(response.status).toBe(200);
    const { token, expiresIn } = (await response.json()) as { token: string; expiresIn: number };
    return tokenRecord(name, start, {
      accessToken: token,
      generation,
      issuedAt: new Date(start).toISOString(),
      refreshAfter: new Date(start + expiresIn * 750).toISOString(),
      expiresAt: new Date(start + expiresIn * 1000).toISOString(),
    });
  }

  it('gets a JWT-protected URL with the token stored in Secrets Manager', async () => {
    const start = Date.now(); // the fake checks the token's exp against its own, real clock
    await writeFirstToken('sirv', await tokenFromFake('sirv', start, 1));
    const { client } = countingClient();
    const reader = new TokenReader({ prefix, client, now: frozenClock(start).now });
    const before = sirv.requests.length;

    const result = await createProtectedUrl(
      reader,
      'sirv',
      { filename: '/products/shoe.jpg', expiresIn: 300, alias: 'demo', insecureParams: { w: 600 } },
      { baseUrl: sirv.url },
    );

    expect(result.status).toBe(200);
    expect(result.url).toMatch(/^https:\/\/demo\.sirv\.com\/products\/shoe\.jpg\?w=600&jwt=eyJ/);
    const sent = sirv.requests.slice(before);
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v2/files/jwt']);
    expect(sent[0]?.headers['content-type']).toBe('application/json');
    expect(sent[0]?.headers.authorization).toMatch(/^Bearer eyJ/);
  });

  it('picks up a rotated token on a 401: re-reads the secret once and retries', async () => {
    const start = Date.now();
    await writeFirstToken('sirv-rotated', tokenRecord('sirv-rotated', start, { accessToken: 'revoked-token' }));
    const { client, reads } = countingClient();
    const reader = new TokenReader({ prefix, client, now: frozenClock(start).now });
    await reader.getToken('sirv-rotated');
    await writeToken('sirv-rotated', await tokenFromFake('sirv-rotated', start, 2));
    const before = sirv.requests.length;

    const result = await createProtectedUrl(
      reader,
      'sirv-rotated',
      { filename: '/a.jpg', expiresIn: 60 },
      { baseUrl: sirv.url },
    );

    expect(result.url).toMatch(/^https:\/\/demo\.sirv\.com\/a\.jpg\?jwt=/);
    expect(reads()).toBe(2);
    expect(sirv.requests.slice(before).map((r) => r.path)).toEqual(['/v2/files/jwt', '/v2/files/jwt']);
  });

  it('rejects an invalid request before anything is sent', async () => {
    const fresh = await startSirvFake();
    try {
      const { client, reads } = countingClient();
      const reader = new TokenReader({ prefix, client });

      await expect(
        createProtectedUrl(reader, 'sirv', { filename: 'no-leading-slash.jpg', expiresIn: 60 }, { baseUrl: fresh.url }),
      ).rejects.toMatchObject({ code: 'InvalidConfiguration', field: 'filename' });

      expect(fresh.requests).toEqual([]);
      expect(reads()).toBe(0);
    } finally {
      await fresh.close();
    }
  });
});
