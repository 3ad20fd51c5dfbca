/**
 * Concurrency against moto: two sweeps at once over the same due credentials (two rotator
 * instances, one clock), and a sweep running while the provider's `update` rotates client
 * secrets. Nothing may be lost or corrupted: every token secret parses as a record, generations
 * only go up, every stored token was issued by the fake, and the tags agree with the record.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueTokenRecord } from '../../core/issue';
import { parseIssuerConfig } from '../../core/issuers/config';
import { resolvePolicy } from '../../core/policy';
import {
  type ClientDocumentInput,
  createCredentialSecrets,
  deleteCredentialSecrets,
  describeCredential,
  describeTokenListing,
  listCredentials,
  readClientSecret,
  readToken,
  TAG_KEYS,
} from '../../core/store';
import type { TokenRecord } from '../../core/token';
import { CODE_VERSION } from '../../core/version';
import { createHandler, dueVerdict, type InvocationContext, type TargetedResult } from '../../lambda';
import { type HeaderJwtFake, startHeaderJwtFake } from '../../local-stack/fakes/header-jwt';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { update } from '../../provider/runtime';
import { secretsManagerClient } from '../helpers/aws';
import { frozenClock } from '../helpers/clock';
import { recordingFetch, recordTokenWrites, seededRandom, type TokenWrite } from '../helpers/sdk-faults';

const PREFIX = `concurrency-${Date.now().toString(36)}/`;
const LIFETIME = 1200;
const CONTEXT: InvocationContext = { getRemainingTimeInMillis: () => 900_000, functionName: 'token-rotator' };
// A day before the wall clock: moto stamps LastChangedDate with the wall clock (see soak.test.ts).
const clock = frozenClock(new Date(Math.floor((Date.now() - 86_400_000) / 1000) * 1000));

interface Credential {
  name: string;
  clientId: string;
  doc: ClientDocumentInput;
  initial: TokenRecord;
}

/** The fakes' clock: the simulation's, minus `issuerLag` while first tokens are issued in the past. */
let issuerLagMs = 0;
const issuerNow = () => new Date(clock.now().getTime() - issuerLagMs);
let sirv: SirvFake;
let header: HeaderJwtFake;
let clean: SecretsManagerClient;
const sirvClients: Record<string, string> = {};
const headerClients: Record<string, string> = {};
const { fetch: issuerFetch, issued } = recordingFetch();
const created: string[] = [];

/** A credential whose first token, really issued, is already due. */
async function dueCredential(name: string, kind: 'sirv' | 'header-jwt'): Promise<Credential> {
  const clientId = `${PREFIX}${name}`;
  const secret = `concurrency-secret-${name}`;
  (kind === 'sirv' ? sirvClients : headerClients)[clientId] = secret;
  const issuer = parseIssuerConfig(
    kind === 'sirv'
      ? { kind, url: sirv.tokenUrl, allowInsecureHttp: true, clientId, clientSecret: secret }
      : { kind, url: header.tokenUrl, allowInsecureHttp: true, clientId, clientSecret: secret, method: 'POST' },
  );
  const doc: ClientDocumentInput = { version: 1, issuer, policy: {} };
  // Issued 1000 s ago (the fakes' clock too): refreshAfter, at most 900 s after issue, has passed.
  issuerLagMs = 1000_000;
  const initial = await issueTokenRecord(
    { credential: name, issuer, policy: resolvePolicy({}), previousGeneration: 4, random: seededRandom(name.length) },
    { credential: name, fetch: issuerFetch, now: issuerNow },
  ).finally(() => {
    issuerLagMs = 0;
  });
  // The fakes mint at their own clock: a token issued "then" must not outlive one issued now.
  expect(Date.parse(initial.refreshAfter)).toBeLessThan(clock.now().getTime());
  await createCredentialSecrets({ client: clean, prefix: PREFIX }, { name, clientDocument: doc, token: initial });
  created.push(name);
  return { name, clientId, doc, initial };
}

function rotator(client: SecretsManagerClient, seed: number) {
  return createHandler({
    secretsManager: client,
    fetch: issuerFetch,
    now: clock.now,
    random: seededRandom(seed),
    env: { TOKEN_ROTATOR_PREFIX: PREFIX, TOKEN_ROTATOR_CONCURRENCY: '8', TOKEN_ROTATOR_BATCH_SIZE: '1000' },
    logger: new Logger({ serviceName: 'token-rotator', logLevel: 'SILENT' }),
    metrics: { addMetric: () => {}, publishStoredMetrics: () => {}, setDefaultDimensions: () => {} } as never,
  });
}

/** What must hold for every credential afterwards; returns the stored record. */
async function assertIntact(
  c: Credential,
  writes: readonly TokenWrite[],
  options: { noFailureTags?: boolean } = {},
): Promise<TokenRecord> {
  const stored = (await readToken({ client: clean, prefix: PREFIX }, c.name)) as TokenRecord;
  expect(stored, c.name).toBeDefined();
  expect(stored.credential).toBe(c.name);
  expect(stored.generation, c.name).toBeGreaterThan(c.initial.generation);
  expect(issued.has(stored.accessToken), `${c.name}: stored token was issued`).toBe(true);
  const mine = writes.filter((w) => w.record.credential === c.name);
  for (const w of mine) {
    expect(issued.has(w.record.accessToken), `${c.name}: written token was issued`).toBe(true);
    expect(w.record.generation, `${c.name}: generation only goes up`).toBeGreaterThan(c.initial.generation);
  }
  // Nothing older overwrote something newer.
  expect(stored.generation).toBe(Math.max(c.initial.generation, ...mine.map((w) => w.record.generation)));
  const { token } = await describeCredential({ client: clean, prefix: PREFIX }, c.name);
  // The state a sweep lists travels in the current version id: it must describe the stored record.
  const listed = await describeTokenListing({ client: clean, prefix: PREFIX }, c.name);
  expect(listed?.generation, `${c.name}: listed generation`).toBe(stored.generation);
  expect(listed?.refreshAfter?.getTime(), `${c.name}: listed refresh-after`).toBe(
    Math.floor(Date.parse(stored.refreshAfter) / 1000) * 1000,
  );
  expect(listed?.expiresAt?.getTime(), `${c.name}: listed expiry`).toBe(
    Math.floor(Date.parse(stored.expiresAt) / 1000) * 1000,
  );
  if (options.noFailureTags) {
    expect(token.tags[TAG_KEYS.lastError], `${c.name}: last-error tag`).toBeUndefined();
    expect(token.tags[TAG_KEYS.failures] ?? '0', `${c.name}: failures tag`).toBe('0');
  }
  return stored;
}

beforeAll(async () => {
  clean = secretsManagerClient();
  [sirv, header] = await Promise.all([
    startSirvFake({ now: issuerNow, lifetimeSeconds: LIFETIME, clients: sirvClients }),
    startHeaderJwtFake({ now: issuerNow, lifetimeSeconds: LIFETIME, clients: headerClients }),
  ]);
});

afterAll(async () => {
  await Promise.all([sirv?.close(), header?.close()]);
  for (const name of created) {
    await deleteCredentialSecrets({ client: clean, prefix: PREFIX }, name, { forceDeleteWithoutRecovery: true });
  }
}, 120_000);

describe('two sweeps at once over the same due credentials', () => {
  it('lose and corrupt nothing: valid records, rising generations, issued tokens, tags matching the record', async () => {
    // Prepare: 30 due credentials, two rotator instances with their own clients and jitter.
    const credentials: Credential[] = [];
    for (let i = 0; i < 30; i++) {
      credentials.push(await dueCredential(`both-${String(i).padStart(2, '0')}`, i % 3 === 0 ? 'header-jwt' : 'sirv'));
    }
    const writes: TokenWrite[] = [];
    const clientA = secretsManagerClient();
    const clientB = secretsManagerClient();
    recordTokenWrites(clientA, () => 0, writes);
    recordTokenWrites(clientB, () => 1, writes);

    // Act
    const [a, b] = (await Promise.all([
      rotator(clientA, 1)({ action: 'sweep' }, CONTEXT),
      rotator(clientB, 2)({ action: 'sweep' }, CONTEXT),
    ])) as { refreshed: number; skipped: number; failed: number }[];

    // Assess
    const doubled = credentials.filter((c) => writes.filter((w) => w.record.credential === c.name).length > 1);
    console.log('two sweeps:', JSON.stringify({ a, b, writes: writes.length, writtenByBoth: doubled.length }));
    expect((a?.failed ?? 0) + (b?.failed ?? 0)).toBe(0);
    // Both got the same token at the same instant: one write each, the loser's is a no-op.
    expect(writes.length).toBeLessThanOrEqual((a?.refreshed ?? 0) + (b?.refreshed ?? 0));
    for (const c of credentials) await assertIntact(c, writes, { noFailureTags: true });
    // Every credential was refreshed by at least one of them.
    expect(new Set(writes.map((w) => w.record.credential)).size).toBe(credentials.length);
  });
});

describe('a sweep while the provider rotates client secrets', () => {
  it('keeps every record valid, ends with the new secret, and leaves nothing blocked', async () => {
    // Prepare: 10 due credentials; the vendor has rotated their secrets (only the new one works).
    const credentials: Credential[] = [];
    for (let i = 0; i < 10; i++) credentials.push(await dueCredential(`rotating-${i}`, 'sirv'));
    const arns = new Map(
      await Promise.all(
        credentials.map(
          async (c) => [c.name, await describeCredential({ client: clean, prefix: PREFIX }, c.name)] as const,
        ),
      ),
    );
    const inputsOf = (c: Credential, secret: string) => ({
      name: c.name,
      prefix: PREFIX,
      issuer: { ...c.doc.issuer, clientSecret: secret },
      policy: {},
      codeVersion: CODE_VERSION,
    });
    for (const c of credentials) sirvClients[c.clientId] = `rotated-secret-${c.name}`;
    const writes: TokenWrite[] = [];
    const rotatorClient = secretsManagerClient();
    const providerClient = secretsManagerClient();
    recordTokenWrites(rotatorClient, () => 0, writes);
    recordTokenWrites(providerClient, () => 1, writes);

    // Act: one sweep and ten provider updates, all at once.
    const [sweep] = await Promise.all([
      rotator(rotatorClient, 3)({ action: 'sweep' }, CONTEXT),
      ...credentials.map((c) =>
        update(
          {
            ...inputsOf(c, String(secretOf(c.doc.issuer))),
            clientSecretArn: arns.get(c.name)?.client.arn,
            tokenSecretArn: arns.get(c.name)?.token.arn,
          },
          inputsOf(c, `rotated-secret-${c.name}`),
          { secretsManager: providerClient, fetch: issuerFetch, now: clock.now, random: seededRandom(4) },
        ),
      ),
    ]);

    // Assess
    console.log('sweep during rotation:', JSON.stringify(sweep));
    for (const c of credentials) {
      await assertIntact(c, writes);
      const { document: doc } = await readClientSecret({ client: clean, prefix: PREFIX }, c.name);
      expect(secretOf(doc.issuer)).toBe(`rotated-secret-${c.name}`);
    }
    // A rejection recorded by the sweep (it used the old secret) is lifted by the newer client secret.
    clock.advance(60);
    for await (const listing of listCredentials({ client: clean, prefix: PREFIX })) {
      if (!listing.name.startsWith('rotating-')) continue;
      expect(dueVerdict(listing, clock.now(), 60).reason, listing.name).not.toBe('blocked');
    }
    // And the rotator refreshes with the new secret.
    const forcedClient = secretsManagerClient();
    recordTokenWrites(forcedClient, () => 2, writes);
    const forced = (await rotator(forcedClient, 5)(
      { credentials: credentials.map((c) => c.name), force: true },
      CONTEXT,
    )) as TargetedResult;
    expect(forced.results.map((r) => ('ok' in r ? r.ok : false))).toEqual(credentials.map(() => true));
    for (const c of credentials) await assertIntact(c, writes, { noFailureTags: true });
  });
});

function secretOf(issuer: object): unknown {
  return 'clientSecret' in issuer ? issuer.clientSecret : undefined;
}
