/**
 * The rotator handler against moto and the issuer fakes on loopback, through simulated time:
 * 200 credentials of every kind, ticks of 60 s over about three token lifetimes.
 *
 * The simulated clock (the handler's, the fakes' and the token records') starts a day before the
 * wall clock: moto stamps a client secret's LastChangedDate with the wall clock, and a rejected
 * credential is unblocked only by a client secret changed after its failure was recorded.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSigningKey } from '../../core/issuers';
import type { IssuerConfigInput } from '../../core/issuers/config';
import {
  type ClientDocumentInput,
  createCredentialSecrets,
  deleteCredentialSecrets,
  listCredentials,
  readToken,
  updateClientDocument,
} from '../../core/store';
import type { TokenRecord } from '../../core/token';
import { createHandler, type InvocationContext } from '../../lambda';
import { type AsposeFake, startAsposeFake } from '../../local-stack/fakes/aspose';
import { type HeaderJwtFake, startHeaderJwtFake } from '../../local-stack/fakes/header-jwt';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { secretsManagerClient } from '../helpers/aws';
import { tokenRecord } from '../helpers/token-record';

const PREFIX = `it-rotator-${randomUUID().slice(0, 8)}/`;
const TICK_SECONDS = 60;
const TICKS = 17;
// 8-minute tokens are refreshed about every 5.5 minutes, inside Secrets Manager's 10-minute write
// budget: fine for a simulation of a quarter of an hour, so the policy says it accepts that.
const LIFETIME_SECONDS = 480;
const POLICY = { allowFrequentWrites: true };
const CONTEXT: InvocationContext = { getRemainingTimeInMillis: () => 900_000, functionName: 'token-rotator' };

/** Whole seconds, a day before the wall clock (see the file comment). */
const START_MS = Math.floor((Date.now() - 86_400_000) / 1000) * 1000;
let simMs = START_MS;
const now = () => new Date(simMs);
const tickTime = (tick: number) => START_MS + tick * TICK_SECONDS * 1000;

/** A seeded generator, so a run's jitter can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

type Group = 'sirv' | 'json' | 'header-jwt' | 'aspose' | 'oauth2' | 'upload' | 'signed-jwt' | 'limited';

interface Credential {
  name: string;
  group: Group;
  clientId: string;
  /** Tick of the first refresh. */
  stagger: number;
}

/** What the rotator wrote at one tick. */
interface Write {
  tick: number;
  record: TokenRecord;
}

const REVOKED = 'aspose-000';
const LIMITED = 'limited-000';

let client: SecretsManagerClient;
let sirv: SirvFake;
let limitedFake: SirvFake;
let headerJwt: HeaderJwtFake;
let aspose: AsposeFake;
const sirvClients: Record<string, string> = {};
const limitedClients: Record<string, string> = {};
const headerClients: Record<string, string> = {};
const asposeClients: Record<string, string> = {};
const credentials: Credential[] = [];
const documents = new Map<string, ClientDocumentInput>();
const initial = new Map<string, TokenRecord>();
const writes = new Map<string, Write[]>();
const commandsPerTick: Map<string, number>[] = [];
const issuerRequestsPerTick: Map<string, number>[] = [];
let currentCommands = new Map<string, number>();
let handler: ReturnType<typeof createHandler>;
let tick = -1;

const GROUPS: [Group, number][] = [
  ['sirv', 50],
  ['json', 20],
  ['header-jwt', 40],
  ['aspose', 30],
  ['oauth2', 20],
  ['upload', 20],
  ['signed-jwt', 19],
  ['limited', 1],
];

function issuerOf(c: Credential, secret: string, privateKeyPem: string): ClientDocumentInput['issuer'] {
  const common = { clientId: c.clientId, clientSecret: secret, allowInsecureHttp: true };
  switch (c.group) {
    case 'sirv':
      return { kind: 'sirv', url: sirv.tokenUrl, ...common };
    case 'limited':
      return { kind: 'sirv', url: limitedFake.tokenUrl, ...common };
    case 'json':
      return { kind: 'json', url: sirv.tokenUrl, ...common };
    case 'header-jwt':
      return { kind: 'header-jwt', url: headerJwt.tokenUrl, method: c.stagger % 2 ? 'POST' : 'GET', ...common };
    case 'aspose':
      return { kind: 'aspose', tokenUrl: aspose.tokenUrl, ...common };
    case 'oauth2':
      return { kind: 'oauth2', tokenUrl: aspose.tokenUrl, ...common };
    case 'upload':
      return { kind: 'upload', subject: c.name, privateKeyPem, ttlSeconds: LIFETIME_SECONDS };
    case 'signed-jwt':
      return { kind: 'signed-jwt', subject: c.name, privateKeyPem, ttlSeconds: LIFETIME_SECONDS };
  }
}

function clientMapOf(group: Group): Record<string, string> | undefined {
  if (group === 'sirv' || group === 'json') return sirvClients;
  if (group === 'limited') return limitedClients;
  if (group === 'header-jwt') return headerClients;
  if (group === 'aspose' || group === 'oauth2') return asposeClients;
  return undefined;
}

/** The first token: issued so that it falls due at tick `stagger` (2…6) and not before. */
function firstToken(c: Credential): TokenRecord {
  const refreshAfter = tickTime(c.stagger) + 7_000;
  const issuedAt = refreshAfter - 0.75 * LIFETIME_SECONDS * 1000;
  return tokenRecord(
    c.name,
    { at: issuedAt, issued: 0, refresh: (refreshAfter - issuedAt) / 1000, expires: LIFETIME_SECONDS },
    { issuer: c.group, accessToken: `initial-${c.name}` },
  );
}

async function inBatches<T>(items: readonly T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

/** Requests each fake received since the last call, by client id. */
function takeIssuerRequests(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const fake of [sirv, limitedFake, headerJwt, aspose]) {
    const seen = (fake as unknown as { seen?: number }).seen ?? 0;
    for (const request of fake.requests.slice(seen)) {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const id = String(body.clientId ?? body.client_id ?? request.headers['client-id'] ?? '?');
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    (fake as unknown as { seen?: number }).seen = fake.requests.length;
  }
  return counts;
}

/** Runs the sweep of the next tick and records what it did. */
async function runTick(): Promise<Record<string, unknown>> {
  tick += 1;
  simMs = tickTime(tick);
  currentCommands = new Map();
  const result = (await handler({ action: 'sweep' }, CONTEXT)) as unknown as Record<string, unknown>;
  commandsPerTick[tick] = currentCommands;
  issuerRequestsPerTick[tick] = takeIssuerRequests();
  return result;
}

async function runTicksUntil(last: number): Promise<void> {
  while (tick < last) await runTick();
}

function requestsOf(c: Credential, ticks: number[]): number[] {
  return ticks.map((t) => issuerRequestsPerTick[t]?.get(c.clientId) ?? 0);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeAll(async () => {
  // EMF lines of 17 sweeps would drown the report; logs are silenced below.
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && chunk.includes('"_aws"')
      ? true
      : (write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write);

  client = secretsManagerClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '?';
      currentCommands.set(name, (currentCommands.get(name) ?? 0) + 1);
      const output = await next(args);
      if (name === 'PutSecretValueCommand') {
        const input = args.input as { SecretString?: string };
        const record = JSON.parse(input.SecretString ?? '{}') as TokenRecord;
        const list = writes.get(record.credential) ?? [];
        list.push({ tick, record });
        writes.set(record.credential, list);
      }
      return output;
    },
    { step: 'initialize', name: 'recordRotatorCommands' },
  );

  const fakeOptions = { now, lifetimeSeconds: LIFETIME_SECONDS };
  [sirv, limitedFake, headerJwt, aspose] = await Promise.all([
    startSirvFake({ ...fakeOptions, clients: sirvClients }),
    startSirvFake({ ...fakeOptions, clients: limitedClients }),
    startHeaderJwtFake({ ...fakeOptions, clients: headerClients }),
    startAsposeFake({ ...fakeOptions, clients: asposeClients }),
  ]);
  const { privateKeyPem } = await generateSigningKey();

  for (const [group, count] of GROUPS) {
    for (let i = 0; i < count; i++) {
      const name = `${group}-${String(i).padStart(3, '0')}`;
      credentials.push({ name, group, clientId: `${PREFIX}${name}`, stagger: 2 + (i % 5) });
    }
  }
  for (const c of credentials) {
    const secret = `secret-of-${c.name}-${randomUUID()}`;
    const clients = clientMapOf(c.group);
    if (clients) clients[c.clientId] = secret;
    documents.set(c.name, { version: 1, issuer: issuerOf(c, secret, privateKeyPem), policy: POLICY });
    initial.set(c.name, firstToken(c));
  }
  const setupClient = secretsManagerClient();
  await inBatches(credentials, 20, (c) =>
    createCredentialSecrets(
      { client: setupClient, prefix: PREFIX },
      {
        name: c.name,
        clientDocument: documents.get(c.name) as ClientDocumentInput,
        token: initial.get(c.name) as TokenRecord,
      },
    ),
  );

  // Revoked before any tick: its first due tick (2) meets a rejection.
  aspose.revokeClient((credentials.find((c) => c.name === REVOKED) as Credential).clientId);

  handler = createHandler({
    secretsManager: client,
    now,
    random: seeded(42),
    env: { TOKEN_ROTATOR_PREFIX: PREFIX, TOKEN_ROTATOR_CONCURRENCY: '16', TOKEN_ROTATOR_BATCH_SIZE: '1000' },
    logger: new Logger({ serviceName: 'token-rotator', logLevel: 'SILENT' }),
  });
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await Promise.all([sirv, limitedFake, headerJwt, aspose].map((f) => f?.close()));
  if (client) {
    const setupClient = secretsManagerClient();
    await inBatches(credentials, 25, (c) =>
      deleteCredentialSecrets({ client: setupClient, prefix: PREFIX }, c.name, { forceDeleteWithoutRecovery: true }),
    );
  }
}, 120_000);

describe('rotator over simulated time (moto + issuer fakes)', () => {
  it('reads no secret value on idle sweeps, only ListSecrets pages', async () => {
    await runTicksUntil(1);
    for (const t of [0, 1]) {
      expect(commandsPerTick[t]?.get('GetSecretValueCommand') ?? 0).toBe(0);
      expect([...(commandsPerTick[t]?.keys() ?? [])]).toEqual(['ListSecretsCommand']);
      // 200 token secrets at 100 a page (client secrets are filtered out on the server).
      expect(commandsPerTick[t]?.get('ListSecretsCommand')).toBe(2);
    }
    expect(writes.size).toBe(0);
  });

  it('holds back a credential whose issuer answered 429 until its Retry-After has passed', async () => {
    // Prepare: the next request to the limited issuer (its first due tick, 2) gets a 429.
    const limited = credentials.find((c) => c.name === LIMITED) as Credential;
    limitedFake.injectFault({ status: 429, retryAfter: 300 }, 1);
    // Act
    await runTicksUntil(8);
    // Assess: one request at tick 2, none until 300 s later (tick 7), where it succeeds.
    expect(requestsOf(limited, range(2, 8))).toEqual([1, 0, 0, 0, 0, 1, 0]);
    expect(writes.get(LIMITED)?.map((w) => w.tick)).toEqual([7]);
  });

  it('stops retrying a rejected credential until its client secret changes, then recovers on the next tick', async () => {
    // The revoked credential was due at tick 2 (revoked before any tick ran, see below).
    const revoked = credentials.find((c) => c.name === REVOKED) as Credential;
    expect(requestsOf(revoked, range(2, 8))).toEqual([1, 0, 0, 0, 0, 0, 0]);
    await runTicksUntil(10);
    expect(requestsOf(revoked, range(9, 10))).toEqual([0, 0]);
    expect(writes.get(REVOKED)).toBeUndefined();
    // Act: a new client secret, as `pulumi up` with new credentials would write it.
    const secret = `rotated-secret-${randomUUID()}`;
    asposeClients[revoked.clientId] = secret;
    aspose.restoreClient(revoked.clientId);
    const doc = documents.get(REVOKED) as ClientDocumentInput;
    await updateClientDocument({ client: secretsManagerClient(), prefix: PREFIX }, REVOKED, {
      ...doc,
      issuer: { ...doc.issuer, clientSecret: secret } as IssuerConfigInput,
    });
    await runTick();
    // Assess
    expect(requestsOf(revoked, [11])).toEqual([1]);
    expect(writes.get(REVOKED)?.map((w) => w.tick)).toEqual([11]);
  });

  it('keeps refreshing the others on time while one issuer fails slowly, and the failed ones recover', async () => {
    // Prepare: every header-JWT request waits 100 ms and gets a 503, for two ticks.
    headerJwt.setFaultRate({ status503: 1 });
    headerJwt.setLatency(100);
    // Act
    await runTicksUntil(13);
    headerJwt.clearFaults();
    headerJwt.setLatency(0);
    // Assess: the others were written on those ticks (on their exact tick: see the next test);
    // header-JWT credentials were tried and written nothing.
    const groupOf = new Map(credentials.map((c) => [c.name, c.group]));
    const writtenAt = (t: number, header: boolean) =>
      [...writes.entries()].filter(
        ([name, list]) => (groupOf.get(name) === 'header-jwt') === header && list.some((w) => w.tick === t),
      ).length;
    for (const t of [12, 13]) {
      expect(writtenAt(t, false), `others written at tick ${t}`).toBeGreaterThan(20);
      expect(writtenAt(t, true), `header-jwt written at tick ${t}`).toBe(0);
    }
    const headerRequests = credentials
      .filter((c) => c.group === 'header-jwt')
      .reduce((sum, c) => sum + (issuerRequestsPerTick[12]?.get(c.clientId) ?? 0), 0);
    expect(headerRequests).toBeGreaterThan(0);
    // Recovery: within two more ticks every header-JWT credential is fresh again and untagged.
    await runTicksUntil(TICKS - 1);
    const listings = new Map<string, { lastError?: string | undefined; refreshAfter?: Date | undefined }>();
    for await (const l of listCredentials({ client: secretsManagerClient(), prefix: PREFIX })) listings.set(l.name, l);
    for (const c of credentials.filter((x) => x.group === 'header-jwt')) {
      expect(listings.get(c.name)?.lastError, c.name).toBeUndefined();
      expect(listings.get(c.name)?.refreshAfter?.getTime(), c.name).toBeGreaterThanOrEqual(tickTime(TICKS - 1));
    }
  });

  it('refreshes every healthy credential exactly once per due period, never earlier than refreshAfter − one tick', async () => {
    await runTicksUntil(TICKS - 1);
    const special = new Set([REVOKED, LIMITED]);
    const reader = secretsManagerClient();
    const lateOrEarly: string[] = [];
    let checkedWrites = 0;
    for (const c of credentials) {
      if (special.has(c.name)) continue;
      const done = writes.get(c.name) ?? [];
      // Header-JWT credentials failed for a while (next test); judge them only on "never early".
      const exact = c.group !== 'header-jwt';
      let current = initial.get(c.name) as TokenRecord;
      let expectedTick = 0;
      for (const write of done) {
        const refreshAfter = Date.parse(current.refreshAfter);
        expectedTick = range(0, TICKS).find((t) => refreshAfter < tickTime(t) + TICK_SECONDS * 1000) ?? -1;
        if (tickTime(write.tick) < refreshAfter - TICK_SECONDS * 1000)
          lateOrEarly.push(`${c.name}@${write.tick} early`);
        if (exact && write.tick !== expectedTick) lateOrEarly.push(`${c.name}@${write.tick} expected ${expectedTick}`);
        current = write.record;
        checkedWrites += 1;
      }
      // Nothing left due after the last tick: every due period got its refresh.
      expect(Date.parse(current.refreshAfter), c.name).toBeGreaterThanOrEqual(
        tickTime(TICKS - 1) + TICK_SECONDS * 1000,
      );
      const stored = await readToken({ client: reader, prefix: PREFIX }, c.name);
      expect(stored?.generation, c.name).toBe(current.generation);
      const ticks = done.map((w) => w.tick);
      expect(new Set(ticks).size, `${c.name} written twice in one tick`).toBe(ticks.length);
    }
    expect(lateOrEarly).toEqual([]);
    // 17 ticks of 5-tick periods starting at ticks 2…6: two or three refreshes each.
    expect(checkedWrites).toBeGreaterThan(400);
  });
});
