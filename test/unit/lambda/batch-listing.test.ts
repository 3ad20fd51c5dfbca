import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BatchListing,
  MAX_BATCH_CREDENTIALS,
  MAX_BATCH_PAYLOAD_BYTES,
  rotatorEventSchema,
} from '../../../core/rotator-protocol';
import { type CredentialListing, listCredentials, TAG_KEYS } from '../../../core/store';
import { encodeTokenVersion } from '../../../core/token-version';
import { batchEvents, fromBatchListing, toBatchListing } from '../../../lambda/batch-listing';
import { ClientDocumentCache } from '../../../lambda/client-cache';
import { type RefreshDeps, refreshCredential } from '../../../lambda/refresh';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import { at, clientIdOf, type IssuerAnswer, NOW, PREFIX, sirvDocument, sirvIssuer, tokenRecord } from './fleet';

const NAME = 'sirv-prod';
const epoch = (d: Date) => String(Math.floor(d.getTime() / 1000));
const decode = (payload: Uint8Array) => JSON.parse(new TextDecoder().decode(payload));

let sm: MemorySecrets | undefined;
afterEach(() => {
  sm?.restore();
  sm = undefined;
});

/** One credential as a scenario stores it, and how the issuer answers it. */
interface Scenario {
  tokenTags?: Record<string, string>;
  refreshAfter?: Date;
  legacy?: boolean;
  answer?: IssuerAnswer;
  /** A warm container: the client document is cached at the listed version. */
  warm?: boolean;
  /** Changes the store after the sweep listed it, before the refresh runs. */
  afterListing?: (store: MemorySecrets) => void;
}

/** Sets the scenario up on a fresh store and returns its listing as the sweep reads it. */
async function stage(s: Scenario) {
  sm?.restore();
  sm = memorySecrets();
  sm.addCredential({
    name: NAME,
    prefix: PREFIX,
    clientDocument: sirvDocument(NAME),
    token: tokenRecord(NAME, s.refreshAfter ?? at(-30)),
    tokenTags: s.tokenTags,
    legacy: s.legacy,
  });
  const listings: CredentialListing[] = [];
  for await (const l of listCredentials({ client: sm.client, prefix: PREFIX })) listings.push(l);
  const clientCache = new ClientDocumentCache();
  if (s.warm) clientCache.set(NAME, { document: sirvDocument(NAME), versionId: `client-${NAME}-1` });
  const deps: RefreshDeps = {
    secretsManager: sm.client,
    prefix: PREFIX,
    fetch: sirvIssuer(s.answer ? { answers: { [clientIdOf(NAME)]: s.answer } } : {}).fetch,
    now: () => new Date(NOW.getTime()),
    random: () => 0.5,
    lookaheadSeconds: 60,
    clientCache,
  };
  s.afterListing?.(sm);
  sm.mock.resetHistory();
  const [listing] = listings;
  if (!listing) throw new Error('nothing listed');
  return { listing, deps, store: sm };
}

/** The refresh with `listing` given as is (the sweep's own batch) or as a fan-out batch carries it. */
async function refreshWith(s: Scenario, carried: boolean) {
  const { listing, deps, store } = await stage(s);
  const wire = toBatchListing(listing);
  if (carried && !wire) throw new Error('the listing could not be carried');
  const given = carried && wire ? fromBatchListing(NAME, JSON.parse(JSON.stringify(wire))) : listing;
  const result = await refreshCredential(NAME, deps, { listing: given });
  const calls = store.mock.calls().map((c) => [c.args[0].constructor.name, c.args[0].input]);
  return { result, calls, tags: store.tokenTags(NAME, PREFIX) };
}

const SCENARIOS: Record<string, Scenario> = {
  'a clean due credential, cold': {},
  'a clean due credential, warm': { warm: true },
  'a due credential recovering from failures': {
    tokenTags: {
      [TAG_KEYS.failures]: '2',
      [TAG_KEYS.lastError]: 'IssuerUnavailable',
      [TAG_KEYS.nextAttempt]: epoch(at(-10)),
      [TAG_KEYS.failedAt]: epoch(at(-100)),
    },
  },
  'a credential failing again (backoff grows from the listed count)': {
    tokenTags: { [TAG_KEYS.failures]: '3', [TAG_KEYS.lastError]: 'IssuerUnavailable' },
    answer: { kind: 'status', status: 503 },
  },
  'a rejected credential whose client version changed, rejected again': {
    tokenTags: {
      [TAG_KEYS.failures]: '1',
      [TAG_KEYS.lastError]: 'InvalidCredentials',
      [TAG_KEYS.failedClientVersion]: 'client-sirv-prod-0',
      [TAG_KEYS.failedAt]: epoch(at(-100)),
    },
    answer: { kind: 'status', status: 401 },
  },
  'a token written before issue 14': { legacy: true },
  'a write budget breached before, met now': { tokenTags: { [TAG_KEYS.writeBudget]: 'breached' } },
  'a write budget breached now': { answer: { kind: 'token', lifetimeSeconds: 120 } },
  'a token someone else refreshed after the sweep listed it': {
    afterListing: (store) => {
      // A forced refresh (CLI, an on-demand reader) wrote generation 8, due only in ten minutes.
      const secret = store.secrets.get(`${PREFIX}${NAME}/token`);
      if (!secret) throw new Error('no token secret');
      const fresh = tokenRecord(NAME, at(600), { generation: 8, accessToken: 'someone-elses-token' });
      secret.value = JSON.stringify(fresh);
      secret.versionId = encodeTokenVersion(fresh);
    },
  },
  'a fresh token behind failure tags (skipped, tags repaired)': {
    refreshAfter: at(600),
    tokenTags: { [TAG_KEYS.failures]: '1', [TAG_KEYS.lastError]: 'StoreError' },
  },
};

describe('listings carried by a fan-out batch', () => {
  it.each(Object.entries(SCENARIOS))(
    '%s: the refresh makes the same calls and answers the same as with the sweep listing',
    async (_, s) => {
      // Act
      const local = await refreshWith(s, false);
      const carried = await refreshWith(s, true);
      // Assess: identical, call by call (input included), result and resulting tags.
      expect(carried.calls).toEqual(local.calls);
      expect(carried.result).toEqual(local.result);
      expect(carried.tags).toEqual(local.tags);
      expect(carried.calls.map(([command]) => command)).not.toContain('DescribeSecretCommand');
    },
  );

  it('refreshes once more, as the sweep itself would, a token someone else refreshed after the listing: a valid token at the listed generation + 1', async () => {
    // The listing said generation 7 and due; generation 8 was written meanwhile. Neither the
    // sweep's own batch nor a fanned-out one reads the token again: both get a new token and
    // write it as generation 8, over the other writer's (valid, and the same generation count).
    const { result, calls } = await refreshWith(
      SCENARIOS['a token someone else refreshed after the sweep listed it'] ?? {},
      true,
    );
    expect(result).toMatchObject({ ok: true, generation: 8, secondsToExpiry: 1200 });
    expect(calls.map(([command]) => command)).toEqual(['GetSecretValueCommand', 'PutSecretValueCommand']);
    const stored = JSON.parse(sm?.secrets.get(`${PREFIX}${NAME}/token`)?.value ?? '{}');
    expect(stored).toMatchObject({ generation: 8, expiresAt: at(1200).toISOString() });
    expect(stored.accessToken).not.toBe('someone-elses-token');
  });

  it('carries only what a refresh reads: the version id, the client version and the failure tags', async () => {
    const { listing } = await stage(SCENARIOS['a due credential recovering from failures'] ?? {});
    expect(toBatchListing(listing)).toEqual({
      versionId: listing.versionId,
      clientVersion: `client-${NAME}-1`,
      failures: 2,
      lastError: 'IssuerUnavailable',
      nextAttempt: Math.floor(at(-10).getTime() / 1000),
      failedAt: Math.floor(at(-100).getTime() / 1000),
    });
    // A clean one: two ids and nothing else.
    const clean = await stage({});
    expect(Object.keys(toBatchListing(clean.listing) ?? {}).sort()).toEqual(['clientVersion', 'versionId']);
  });

  it('does not carry a listing with a value outside the batch schema (it goes by name and is described)', () => {
    const base: CredentialListing = { name: NAME, tokenSecretArn: 'arn', failures: 0, versionId: 'v-1234' };
    for (const odd of [
      { versionId: 'has spaces in it' },
      { versionId: 'x'.repeat(65) },
      { clientVersion: 'ünïcode' },
      { lastError: 'Not a code: a message from somewhere' },
      { writeBudget: 'maybe' },
      { failures: 2_000_000_000 },
    ]) {
      expect(toBatchListing({ ...base, ...odd }), JSON.stringify(odd)).toBeUndefined();
    }
    const [event] = batchEvents([NAME, 'other'], new Map([[NAME, { ...base, versionId: 'has spaces' }]]), {
      listedAt: NOW,
      share: () => undefined,
    });
    expect(decode(event?.payload ?? new Uint8Array())).toEqual({
      action: 'refresh-batch',
      credentials: [NAME, 'other'],
    });
  });
});

/** A listing with every carried field at its longest: the largest entry a batch can carry. */
function largestListing(name: string): CredentialListing {
  return {
    name,
    tokenSecretArn: 'arn',
    versionId: `v${'9'.repeat(63)}`,
    clientVersion: `c${'9'.repeat(63)}`,
    failedClientVersion: `f${'9'.repeat(63)}`,
    failures: 999_999_999,
    lastError: 'E'.repeat(64),
    nextAttempt: new Date(999_999_999_999_000),
    failedAt: new Date(999_999_999_999_000),
    legacyTags: true,
    writeBudget: 'breached',
  };
}

const maxName = (i: number) => `${String(i).padStart(6, '0')}${'n'.repeat(58)}`;

describe('batchEvents', () => {
  it('keeps a default batch of 100 in one event, each credential with its listing', () => {
    const names = Array.from({ length: 100 }, (_, i) => `c${i}`);
    const listings = new Map(
      names.map((name) => {
        const versionId = encodeTokenVersion(tokenRecord(name, at(-30)));
        return [name, { name, tokenSecretArn: 'arn', failures: 0, versionId, clientVersion: `client-${name}-1` }];
      }),
    );
    const events = batchEvents(names, listings, { listedAt: NOW, share: (n) => n / 10 });
    expect(events).toHaveLength(1);
    const event = rotatorEventSchema.parse(decode(events[0]?.payload ?? new Uint8Array()));
    expect(event).toMatchObject({ action: 'refresh-batch', credentials: names, writesPerSecond: 10 });
    expect(event.action === 'refresh-batch' && Object.keys(event.listings ?? {})).toEqual(names);
    expect(event.action === 'refresh-batch' && event.listedAt).toBe(Math.floor(NOW.getTime() / 1000));
  });

  it(`splits the largest batch (${MAX_BATCH_CREDENTIALS} credentials, longest names and listings) into events under ${MAX_BATCH_PAYLOAD_BYTES} bytes`, () => {
    // Prepare
    const names = Array.from({ length: MAX_BATCH_CREDENTIALS }, (_, i) => maxName(i));
    const listings = new Map(names.map((n) => [n, largestListing(n)]));
    const rate = 40;
    // Act
    const events = batchEvents(names, listings, { listedAt: NOW, share: (n) => (rate * n) / names.length });
    // Assess: each event under the bound and valid; every credential once, in order, with its listing.
    expect(events.length).toBeGreaterThan(1);
    const parsed = events.map((e) => {
      expect(e.payload.length).toBeLessThanOrEqual(MAX_BATCH_PAYLOAD_BYTES);
      const event = rotatorEventSchema.parse(decode(e.payload));
      if (event.action !== 'refresh-batch') throw new Error('not a batch');
      expect(event.credentials).toEqual(e.credentials);
      expect(Object.keys(event.listings ?? {})).toEqual(e.credentials);
      return event;
    });
    expect(parsed.flatMap((e) => e.credentials)).toEqual(names);
    // The batch's share of the write rate, split with it.
    expect(parsed.reduce((sum, e) => sum + (e.writesPerSecond ?? 0), 0)).toBeCloseTo(rate, 9);
  });

  it('keeps every event within the bound and every credential exactly once, whatever the listings (property)', () => {
    const versionId = fc.stringMatching(/^[A-Za-z0-9._~-]{1,64}$/);
    const listingArb = fc.record(
      {
        versionId,
        clientVersion: versionId,
        failedClientVersion: versionId,
        failures: fc.integer({ min: 0, max: 1_000_000_000 }),
        lastError: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
        nextAttempt: fc.integer({ min: 0, max: 999_999_999_999 }).map((s) => new Date(s * 1000)),
        failedAt: fc.integer({ min: 0, max: 999_999_999_999 }).map((s) => new Date(s * 1000)),
        legacyTags: fc.boolean(),
        writeBudget: fc.constantFrom('ok', 'breached'),
      },
      { requiredKeys: ['failures'] },
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,63}$/), { minLength: 1, maxLength: 60 }),
        fc.array(fc.option(listingArb, { nil: undefined }), { minLength: 60, maxLength: 60 }),
        fc.integer({ min: 1_000, max: 20_000 }),
        fc.option(fc.double({ min: 0.001, max: 50, noNaN: true }), { nil: undefined }),
        (names, maybe, maxBytes, rate) => {
          const listings = new Map<string, CredentialListing>();
          names.forEach((name, i) => {
            const l = maybe[i];
            if (l) listings.set(name, { name, tokenSecretArn: 'arn', ...l });
          });
          const share = (n: number) => (rate === undefined ? undefined : (rate * n) / names.length);
          const events = batchEvents(names, listings, { listedAt: NOW, share, maxBytes });
          const handed: string[] = [];
          let carriedCount = 0;
          for (const e of events) {
            expect(e.payload.length).toBeLessThanOrEqual(maxBytes);
            const event = rotatorEventSchema.parse(decode(e.payload));
            if (event.action !== 'refresh-batch') throw new Error('not a batch');
            handed.push(...event.credentials);
            for (const [name, carried] of Object.entries(event.listings ?? {})) {
              carriedCount += 1;
              const listed = listings.get(name);
              if (!listed) throw new Error(`${name} carried without a listing`);
              // What the refresh gets back is what the sweep listed (state from the version id).
              const fields = (l: Partial<CredentialListing>) => ({
                failures: l.failures,
                versionId: l.versionId,
                clientVersion: l.clientVersion,
                failedClientVersion: l.failedClientVersion,
                lastError: l.lastError,
                writeBudget: l.writeBudget,
                nextAttempt: l.nextAttempt?.getTime(),
                failedAt: l.failedAt?.getTime(),
                legacyTags: l.legacyTags ?? false,
              });
              expect(fields(fromBatchListing(name, carried as BatchListing))).toEqual(fields(listed));
            }
          }
          expect(handed).toEqual(names);
          // Every listing in the schema's bounds is carried.
          expect(carriedCount).toBe(listings.size);
        },
      ),
      { numRuns: 150 },
    );
  });
});
