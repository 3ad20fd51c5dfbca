import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  PutSecretValueCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeTokenListing, listingOf, recordFailure, secretNames, TAG_KEYS } from '../../../core/store';
import { parseTokenRecord } from '../../../core/token';
import { decodeTokenVersion, encodeTokenVersion } from '../../../core/token-version';
import { ClientDocumentCache } from '../../../lambda/client-cache';
import { dueVerdict } from '../../../lambda/plan';
import { type RefreshDeps, refreshCredential } from '../../../lambda/refresh';
import { RefreshMemory } from '../../../lambda/refresh-memory';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import {
  at,
  clientIdOf,
  frozenClock,
  type IssuerAnswer,
  NOW,
  PLANTED_SECRET,
  PREFIX,
  sirvDocument,
  sirvIssuer,
  tokenRecord,
} from '../../helpers/fleet';

const NAME = 'sirv-prod';
const names = secretNames(NAME, PREFIX);
const epoch = (d: Date) => String(Math.floor(d.getTime() / 1000));

let sm: MemorySecrets;

beforeEach(() => {
  sm = memorySecrets();
});

afterEach(() => {
  sm.restore();
});

function setup(
  options: {
    refreshAfter?: Date;
    answer?: IssuerAnswer;
    random?: () => number;
    /** Tags the token secret carries besides its own (failures recorded earlier). */
    tokenTags?: Record<string, string>;
  } = {},
) {
  sm.addCredential({
    name: NAME,
    prefix: PREFIX,
    clientDocument: sirvDocument(NAME),
    token: tokenRecord(NAME, options.refreshAfter ?? at(-30)),
    tokenTags: options.tokenTags,
  });
  const issuer = sirvIssuer(options.answer ? { answers: { [clientIdOf(NAME)]: options.answer } } : {});
  const deps: RefreshDeps = {
    secretsManager: sm.client,
    prefix: PREFIX,
    fetch: issuer.fetch,
    now: () => new Date(NOW.getTime()),
    random: options.random ?? (() => 0),
    lookaheadSeconds: 60,
  };
  return { issuer, deps };
}

/** Secrets Manager's answer when an account's request quota is used up. */
const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });

function tagCallsOn(secretId: string) {
  return sm.mock.commandCalls(TagResourceCommand).filter((c) => c.args[0].input.SecretId === secretId);
}

/** Refresh dependencies whose issuer answers with `accessToken` again, claiming `expiresIn` seconds. */
function repeatingIssuerDeps(accessToken: string, expiresIn: number): RefreshDeps {
  const repeat = (async () =>
    new Response(JSON.stringify({ token: accessToken, expiresIn }), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    })) as typeof fetch;
  return {
    secretsManager: sm.client,
    prefix: PREFIX,
    fetch: repeat,
    now: () => new Date(NOW.getTime()),
    random: () => 0,
    lookaheadSeconds: 60,
  };
}

describe('refreshCredential', () => {
  it('writes a fresh token with the next generation, its refresh-after and expiry in the version id', async () => {
    // Prepare
    const { issuer, deps } = setup();
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess
    expect(result).toMatchObject({ credential: NAME, ok: true, generation: 8, secondsToExpiry: 1200 });
    expect(issuer.calls).toHaveLength(1);
    const puts = sm.mock.commandCalls(PutSecretValueCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.args[0].input.SecretId).toBe(names.token);
    const written = parseTokenRecord(puts[0]?.args[0].input.SecretString ?? '', NAME);
    expect(written).toMatchObject({ generation: 8, issuedAt: NOW.toISOString(), expiresAt: at(1200).toISOString() });
    // 0.75 of 1200 s with the jitter seam at 0.
    expect(written.refreshAfter).toBe(at(900).toISOString());
    expect(decodeTokenVersion(puts[0]?.args[0].input.ClientRequestToken)).toMatchObject({
      generation: 8,
      refreshAfter: at(900),
      expiresAt: at(1200),
    });
    // No tag call after the write: the version id is the state.
    expect(sm.mock.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it("plans with its own schedule interval when the credential's policy sets none", async () => {
    // Prepare: a rotator that sweeps every 5 minutes; the stored policy leaves the interval out.
    const { deps } = setup();
    // Act
    await refreshCredential(NAME, { ...deps, lookaheadSeconds: 300 });
    // Assess: the margin is two of its intervals (600 s), so the 1200 s token is due at 600 s, not
    // at 0.75 of its life (900 s) as a one-minute interval would have it.
    const put = sm.mock.commandCalls(PutSecretValueCommand)[0]?.args[0].input;
    expect(parseTokenRecord(put?.SecretString ?? '', NAME).refreshAfter).toBe(at(600).toISOString());
  });

  it('skips a token another sweep already refreshed, reading neither the client secret nor the issuer', async () => {
    // Prepare: the token is due only after the next tick.
    const { issuer, deps } = setup({ refreshAfter: at(600) });
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess
    expect(result).toEqual({
      credential: NAME,
      ok: true,
      skipped: 'not-due',
      generation: 7,
      expiresAt: at(900).toISOString(),
      refreshAfter: at(600).toISOString(),
      secondsToExpiry: 900,
    });
    expect(issuer.calls).toHaveLength(0);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    // The token secret's metadata (its version id) is enough: no value is read.
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    const described = sm.mock.commandCalls(DescribeSecretCommand).map((c) => c.args[0].input.SecretId);
    expect(described).toEqual([names.token]);
  });

  it('reads the value of a token whose version id it did not write (a version put by hand) to know whether it is due', async () => {
    const { deps } = setup({ refreshAfter: at(600) });
    const token = sm.secrets.get(names.token);
    if (token) token.versionId = '7d1c6a52-2b39-4d0e-9a34-7f2d6a1b0c11';
    const result = await refreshCredential(NAME, deps);
    expect(result).toMatchObject({
      credential: NAME,
      ok: true,
      skipped: 'not-due',
      generation: 7,
      secondsToExpiry: 900,
    });
    const reads = sm.mock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId);
    expect(reads).toEqual([names.token]);
  });

  it('skips a credential whose token secret shows a backoff, though a listing called it due, asking no issuer', async () => {
    // Prepare: a failure another invocation recorded after the sweep listed.
    const { issuer, deps } = setup({
      tokenTags: {
        [TAG_KEYS.failures]: '2',
        [TAG_KEYS.lastError]: 'IssuerUnavailable',
        [TAG_KEYS.nextAttempt]: epoch(at(120)),
      },
    });
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess
    expect(result).toMatchObject({ ok: true, skipped: 'backoff', generation: 7, nextAttempt: at(120).toISOString() });
    expect(issuer.calls).toHaveLength(0);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('skips a blocked credential even when forced, until its client document changes', async () => {
    const clientVersion = `client-${NAME}-1`;
    const { issuer, deps } = setup({
      tokenTags: {
        [TAG_KEYS.failures]: '1',
        [TAG_KEYS.lastError]: 'InvalidCredentials',
        [TAG_KEYS.failedClientVersion]: clientVersion,
      },
    });
    expect(await refreshCredential(NAME, deps, { force: true })).toMatchObject({ ok: true, skipped: 'blocked' });
    expect(issuer.calls).toHaveLength(0);
    // The provider writes a new client document and tags its version: the block lifts.
    const token = sm.secrets.get(names.token);
    if (token) token.tags[TAG_KEYS.clientVersion] = `client-${NAME}-2`;
    expect(await refreshCredential(NAME, deps)).toMatchObject({ ok: true, generation: 8 });
    expect(issuer.calls).toHaveLength(1);
  });

  it('asks no issuer and records nothing for a credential whose token secret is gone or scheduled for deletion', async () => {
    const { issuer, deps } = setup();
    const token = sm.secrets.get(names.token);
    sm.secrets.delete(names.token);
    const gone = await refreshCredential(NAME, deps);
    expect(gone).toMatchObject({ ok: false, error: { code: 'StoreError', transient: false } });
    expect(gone.ok === false && gone.error.message).toContain('does not exist');
    if (token) sm.secrets.set(names.token, token);
    const describe = sm.describeSecret;
    sm.mock.on(DescribeSecretCommand).callsFake(async (input: { SecretId?: string }) => ({
      ...(await describe(input)),
      DeletedDate: at(-60),
    }));
    const deleted = await refreshCredential(NAME, deps);
    expect(deleted.ok === false && deleted.error.message).toContain('scheduled for deletion');
    expect(issuer.calls).toHaveLength(0);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.mock.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it('plans on what this container wrote when the token secret still shows the version before it (DescribeSecret lag)', async () => {
    // Prepare: this container wrote generation 8 a minute ago; the describe still shows 7.
    const { issuer, deps } = setup();
    const memory = new RefreshMemory();
    const first = await refreshCredential(NAME, { ...deps, memory });
    expect(first).toMatchObject({ ok: true, generation: 8 });
    const token = sm.secrets.get(names.token);
    const describe = sm.describeSecret;
    const staleVersion = encodeTokenVersion(tokenRecord(NAME, at(-30)), `client-${NAME}-1`);
    sm.mock.on(DescribeSecretCommand).callsFake(async (input: { SecretId?: string }) => ({
      ...(await describe(input)),
      VersionIdsToStages: { [staleVersion]: ['AWSCURRENT'], [token?.versionId ?? '']: [] },
    }));
    // Act
    const again = await refreshCredential(NAME, { ...deps, memory, now: () => at(60) });
    // Assess
    expect(again).toMatchObject({ ok: true, skipped: 'not-due', generation: 8 });
    expect(issuer.calls).toHaveLength(1);
  });

  it('refreshes a token that is not due when forced, once it was written more than the floor ago', async () => {
    // Issued 700 s ago, due in 200 s.
    const { issuer, deps } = setup({ refreshAfter: at(200) });
    const result = await refreshCredential(NAME, deps, { force: true });
    expect(result).toMatchObject({ ok: true, generation: 8 });
    expect(issuer.calls).toHaveLength(1);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
  });

  it('does not rewrite on force a token written less than the floor ago with the same client document', async () => {
    // Issued 300 s ago.
    const { issuer, deps } = setup({ refreshAfter: at(600) });
    const result = await refreshCredential(NAME, deps, { force: true });
    expect(result).toMatchObject({ ok: true, skipped: 'floor', generation: 7 });
    expect(issuer.calls).toHaveLength(0);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('rewrites on force a recent token obtained with an older client document, and on an operator override', async () => {
    const { issuer, deps } = setup({ refreshAfter: at(600) });
    const token = sm.secrets.get(names.token);
    if (token) token.tags[TAG_KEYS.clientVersion] = `client-${NAME}-2`;
    expect(await refreshCredential(NAME, deps, { force: true })).toMatchObject({ ok: true, generation: 8 });
    // Generation 8 was just written with version 2: only the operator's override passes the floor.
    const later = { ...deps, now: () => at(5) };
    expect(await refreshCredential(NAME, later, { force: true })).toMatchObject({ ok: true, skipped: 'floor' });
    const overridden = await refreshCredential(NAME, later, { force: true, overrideFloor: true });
    expect(overridden).toMatchObject({ ok: true, generation: 9 });
    expect(issuer.calls).toHaveLength(2);
  });

  it('never writes the token on failure, and records failures, last error, next attempt and failed-at in tags only', async () => {
    // Prepare
    const { deps } = setup({ answer: { kind: 'status', status: 503 }, random: () => 0.5 });
    const before = sm.secrets.get(names.token)?.value;
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess
    expect(result).toMatchObject({
      credential: NAME,
      ok: false,
      error: { code: 'IssuerUnavailable', transient: true },
      // First failure: 60 s × (½ + 0.5 × ½).
      nextAttempt: at(45).toISOString(),
      secondsToExpiry: 270,
    });
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.secrets.get(names.token)?.value).toBe(before);
    expect(tagCallsOn(names.token).map((c) => c.args[0].input.Tags)).toEqual([
      [
        { Key: TAG_KEYS.failures, Value: '1' },
        { Key: TAG_KEYS.lastError, Value: 'IssuerUnavailable' },
        { Key: TAG_KEYS.nextAttempt, Value: epoch(at(45)) },
        { Key: TAG_KEYS.failedAt, Value: epoch(NOW) },
        { Key: TAG_KEYS.failedClientVersion, Value: `client-${NAME}-1` },
        { Key: TAG_KEYS.failedVersion, Value: sm.secrets.get(names.token)?.versionId },
      ],
    ]);
    expect(tagCallsOn(names.client)).toHaveLength(0);
  });

  it('sets no next attempt after rejected credentials: blocked until the client secret changes', async () => {
    // Prepare: an earlier transient failure left a next-attempt tag behind.
    const { deps } = setup({
      answer: { kind: 'status', status: 401, body: { message: 'Wrong clientId' } },
      tokenTags: { [TAG_KEYS.failures]: '2', [TAG_KEYS.nextAttempt]: epoch(at(-10)) },
    });
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess
    expect(result).toMatchObject({ ok: false, error: { code: 'InvalidCredentials', transient: false } });
    expect(result.ok === false && result.nextAttempt).toBeUndefined();
    const tags = sm.tokenTags(NAME, PREFIX);
    expect(tags[TAG_KEYS.lastError]).toBe('InvalidCredentials');
    expect(tags[TAG_KEYS.failures]).toBe('3');
    expect(tags[TAG_KEYS.failedAt]).toBe(epoch(NOW));
    expect(tags).not.toHaveProperty(TAG_KEYS.nextAttempt);
    expect(sm.mock.commandCalls(UntagResourceCommand)[0]?.args[0].input.TagKeys).toEqual([TAG_KEYS.nextAttempt]);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('honours Retry-After as the floor of the next attempt', async () => {
    const { deps } = setup({ answer: { kind: 'status', status: 429, headers: { 'retry-after': '900' } } });
    const result = await refreshCredential(NAME, deps);
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'IssuerUnavailable', retryAfterSeconds: 900 },
      nextAttempt: at(900).toISOString(),
    });
    expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.nextAttempt]).toBe(epoch(at(900)));
  });

  it('lets the backoff win over a shorter Retry-After', async () => {
    const { deps } = setup({
      answer: { kind: 'status', status: 503, headers: { 'retry-after': '5' } },
      tokenTags: { [TAG_KEYS.failures]: '3' },
    });
    const result = await refreshCredential(NAME, deps);
    // Fourth failure: 480 s × (½ + 0 × ½) = 240 s, above the 5 s asked for.
    expect(result.ok === false && result.nextAttempt).toBe(at(240).toISOString());
  });

  it.each([
    { failures: 0, random: 0, wait: 30 },
    { failures: 0, random: 0.75, wait: 52.5 },
    { failures: 2, random: 0, wait: 120 },
    { failures: 2, random: 0.5, wait: 180 },
    // Capped at ten minutes: 300 to 600 s however long the outage.
    { failures: 9, random: 0, wait: 300 },
    { failures: 9, random: 0.5, wait: 450 },
  ])(
    'backs off exponentially with jitter: after $failures earlier failures and random $random, waits $wait s',
    async ({ failures, random, wait }) => {
      const { deps } = setup({
        answer: { kind: 'status', status: 500 },
        random: () => random,
        tokenTags: failures > 0 ? { [TAG_KEYS.failures]: String(failures) } : {},
      });
      const result = await refreshCredential(NAME, deps);
      expect(result.ok === false && Date.parse(result.nextAttempt ?? '') - NOW.getTime()).toBe(wait * 1000);
      expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.failures]).toBe(String(failures + 1));
    },
  );

  it('reads the failure count from the described tags (what a sweep, a batch and a targeted refresh all do)', async () => {
    // Prepare
    const { deps } = setup({
      answer: { kind: 'status', status: 503 },
      tokenTags: { [TAG_KEYS.failures]: '3', [TAG_KEYS.lastError]: 'IssuerUnavailable' },
    });
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess: the fourth failure waits 480 s × ½, not the first failure's 30 s.
    expect(sm.mock.commandCalls(DescribeSecretCommand).length).toBeGreaterThan(0);
    expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.failures]).toBe('4');
    expect(result.ok === false && result.nextAttempt).toBe(at(240).toISOString());
  });

  it('counts no failure tagged against a replaced token version when it has to describe again after a failed describe', async () => {
    // Prepare: three failures recorded against a version a later write replaced (stale), and a
    // first DescribeSecret that fails, so the failure path describes the secrets itself.
    const { deps } = setup({ answer: { kind: 'status', status: 503 } });
    sm.addCredential({
      name: NAME,
      prefix: PREFIX,
      clientDocument: sirvDocument(NAME),
      token: tokenRecord(NAME, at(-30)),
      tokenTags: {
        [TAG_KEYS.failures]: '3',
        [TAG_KEYS.lastError]: 'IssuerUnavailable',
        [TAG_KEYS.failedVersion]: 'tr1-replaced-version',
      },
    });
    let describes = 0;
    sm.mock.on(DescribeSecretCommand).callsFake(async (input: { SecretId?: string }) => {
      describes += 1;
      if (describes === 1) throw new InternalServiceError({ message: 'boom', $metadata: {} });
      return sm.describeSecret(input);
    });
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess: counted as a first failure, not the fourth, and tagged with the version it failed against.
    expect(describes).toBe(2);
    expect(result.ok).toBe(false);
    const tags = sm.tokenTags(NAME, PREFIX);
    expect(tags[TAG_KEYS.failures]).toBe('1');
    expect(tags[TAG_KEYS.failedVersion]).not.toBe('tr1-replaced-version');
  });

  it('counts a failed token read as a failed refresh instead of writing generation 1 over it', async () => {
    // Prepare: a version put by hand (no state in its id), so the value must be read.
    const { issuer, deps } = setup();
    const token = sm.secrets.get(names.token);
    if (token) token.versionId = '7d1c6a52-2b39-4d0e-9a34-7f2d6a1b0c11';
    sm.mock
      .on(GetSecretValueCommand, { SecretId: names.token })
      .rejects(new InternalServiceError({ message: 'try again', $metadata: { httpStatusCode: 500 } }));
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess
    expect(result).toMatchObject({ ok: false, error: { code: 'StoreError', transient: true } });
    expect(issuer.calls).toHaveLength(0);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.lastError]).toBe('StoreError');
  });

  it('replaces a stored value that is not a token record, starting again at generation 1', async () => {
    const { deps } = setup();
    const token = sm.secrets.get(names.token);
    // Written by hand: a new version with an id Secrets Manager chose.
    if (token) {
      token.value = '{"not":"a token record"}';
      token.versionId = '7d1c6a52-2b39-4d0e-9a34-7f2d6a1b0c11';
    }
    const result = await refreshCredential(NAME, deps);
    expect(result).toMatchObject({ ok: true, generation: 1 });
  });

  it('never overwrites a record of a newer major version (a newer rotator wrote it): a failure, retried with backoff', async () => {
    const { issuer, deps } = setup();
    const token = sm.secrets.get(names.token);
    if (token) {
      token.value = JSON.stringify({ ...tokenRecord(NAME, at(-30)), version: 2, newField: 'x' });
      token.versionId = 'tr2-a-version-this-rotator-cannot-read';
    }
    const before = token?.value;
    const result = await refreshCredential(NAME, deps);
    expect(result).toMatchObject({ ok: false, error: { code: 'InvalidTokenRecord', transient: true } });
    expect(result.ok === false && result.nextAttempt).toBeTruthy();
    expect(issuer.calls).toHaveLength(0);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.secrets.get(names.token)?.value).toBe(before);
  });

  it('reports an issuer error without the client secret the issuer echoed', async () => {
    const { deps } = setup({
      answer: {
        kind: 'status',
        status: 401,
        body: { message: `unknown client, you sent clientSecret=${PLANTED_SECRET}-${NAME}` },
      },
    });
    const result = await refreshCredential(NAME, deps);
    expect(JSON.stringify(result)).not.toContain(PLANTED_SECRET);
  });
});

describe('refreshCredential and the write pace', () => {
  const scenarios: { title: string; tokenTags?: Record<string, string> }[] = [
    { title: 'a clean credential (one put)' },
    {
      title: 'a failing credential (put and untag)',
      tokenTags: { [TAG_KEYS.failures]: '2', [TAG_KEYS.lastError]: 'IssuerUnavailable' },
    },
    {
      title: 'a credential whose client-version tag was lost (put and tag)',
      tokenTags: { [TAG_KEYS.clientVersion]: 'client-behind' },
    },
    {
      title: 'a failing credential whose write-budget tag changes (put, tag, untag)',
      tokenTags: {
        [TAG_KEYS.failures]: '1',
        [TAG_KEYS.lastError]: 'IssuerUnavailable',
        [TAG_KEYS.writeBudget]: 'breached',
      },
    },
  ];
  for (const scenario of scenarios) {
    it(`asks the write limiter for exactly the write calls it makes: ${scenario.title}`, async () => {
      // Prepare
      const { deps } = setup({ tokenTags: scenario.tokenTags });
      let acquired = 0;
      const writeLimiter = {
        perSecond: 40,
        acquire: async (writes = 1) => {
          acquired += writes;
        },
      };
      sm.mock.resetHistory();
      // Act
      const result = await refreshCredential(NAME, { ...deps, writeLimiter });
      // Assess
      expect(result.ok).toBe(true);
      const writes =
        sm.mock.commandCalls(PutSecretValueCommand).length +
        sm.mock.commandCalls(TagResourceCommand).length +
        sm.mock.commandCalls(UntagResourceCommand).length;
      expect(writes).toBeGreaterThan(0);
      expect(acquired).toBe(writes);
    });
  }
});

describe('refreshCredential racing a failure recorded after its listing', () => {
  /** The token secret's listing as a sweep sees it now. */
  function listedNow() {
    const token = sm.secrets.get(names.token);
    return listingOf(NAME, {
      Name: names.token,
      Tags: Object.entries(token?.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      SecretVersionsToStages: { [token?.versionId ?? '']: ['AWSCURRENT'] },
    });
  }

  it('lets no failure recorded during its issuer call outlive its good write: the credential is not blocked', async () => {
    // Prepare: a sweep lists the credential clean. While its issuer request is in flight, another
    // invocation's forced refresh of it is refused (a 403) and records InvalidCredentials.
    const { deps } = setup();
    const listing = listedNow();
    const refusing = sirvIssuer({ answers: { [clientIdOf(NAME)]: { kind: 'status', status: 403 } } });
    const good = sirvIssuer();
    let other: Awaited<ReturnType<typeof refreshCredential>> | undefined;
    const racing = (async (url: string | URL | Request, init?: RequestInit) => {
      other ??= await refreshCredential(NAME, { ...deps, fetch: refusing.fetch }, { force: true });
      return good.fetch(url, init);
    }) as typeof fetch;

    // Act
    const result = await refreshCredential(NAME, { ...deps, fetch: racing });

    // Assess: the other refresh recorded its rejection against generation 7's version ...
    expect(other).toMatchObject({ ok: false, error: { code: 'InvalidCredentials' } });
    expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.failedVersion]).toBe(listing.versionId);
    // ... the sweep stored generation 8, still one write and no tag call (the steady state) ...
    expect(result).toMatchObject({ ok: true, generation: 8 });
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    // ... and the rejection, recorded against a token no longer current, blocks nothing.
    const after = listedNow();
    expect(after).toMatchObject({ failures: 0, lastError: undefined, staleFailureTags: true });
    expect(dueVerdict(after, at(1000), 60).reason).toBe('due');
  });

  it('removes the stale failure tags with its next write', async () => {
    // Prepare: a failure recorded against generation 6, while generation 7 is current.
    const { deps } = setup();
    await recordFailure({ client: sm.client, prefix: PREFIX }, NAME, {
      failures: 3,
      lastError: 'InvalidCredentials',
      tokenVersion: 'an-older-version',
    });
    expect(listedNow()).toMatchObject({ failures: 0, staleFailureTags: true });

    // Act
    const result = await refreshCredential(NAME, deps);

    // Assess
    expect(result).toMatchObject({ ok: true, generation: 8 });
    const tags = sm.tokenTags(NAME, PREFIX);
    for (const key of [TAG_KEYS.lastError, TAG_KEYS.failedVersion]) expect(tags).not.toHaveProperty(key);
  });
});

describe('refreshCredential when a tag call fails after the write', () => {
  it('reports the stored token as refreshed (new generation and expiry) and records no failure', async () => {
    // Prepare: an earlier transient failure is on record (tags as written before failed-version),
    // so the good write clears them after; that UntagResource is throttled.
    const { deps } = setup({
      tokenTags: {
        [TAG_KEYS.failures]: '1',
        [TAG_KEYS.lastError]: 'IssuerUnavailable',
        [TAG_KEYS.nextAttempt]: epoch(at(-10)),
      },
    });
    sm.mock.on(UntagResourceCommand).rejects(throttled());

    // Act
    const result = await refreshCredential(NAME, deps);

    // Assess: generation 8 is stored, and that is what the caller is told.
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(parseTokenRecord(sm.secrets.get(names.token)?.value ?? '', NAME).generation).toBe(8);
    expect(result).toMatchObject({
      ok: true,
      generation: 8,
      expiresAt: at(1200).toISOString(),
      refreshAfter: at(900).toISOString(),
      tagsFailed: 'ThrottlingException',
    });
    // No failure counted against a credential whose token was just refreshed.
    expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.failures]).toBe('1');
    expect(tagCallsOn(names.token)).toHaveLength(0);
  });

  it('leaves failure tags that block nothing: they name the version the write replaced', async () => {
    // Prepare: a rejection recorded against the current token; the provider then changed the
    // client secret, so the sweep retries; the UntagResource after its good write is throttled.
    const { deps } = setup();
    const before = sm.secrets.get(names.token)?.versionId;
    await recordFailure({ client: sm.client, prefix: PREFIX }, NAME, {
      failures: 1,
      lastError: 'InvalidCredentials',
      clientVersion: 'client-old',
      tokenVersion: before,
    });
    sm.mock.on(UntagResourceCommand).rejects(throttled());

    // Act
    const result = await refreshCredential(NAME, deps);

    // Assess: refreshed; the rejection is still tagged but stale, so the next sweep neither
    // blocks the credential nor refreshes its fresh token early.
    expect(result).toMatchObject({ ok: true, generation: 8, tagsFailed: 'ThrottlingException' });
    expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.lastError]).toBe('InvalidCredentials');
    const described = await describeTokenListing({ client: sm.client, prefix: PREFIX }, NAME);
    if (!described) throw new Error('token secret missing');
    expect(described).toMatchObject({ failures: 0, staleFailureTags: true });
    expect(dueVerdict(described, NOW, 60).reason).toBe('not-due');
    expect(dueVerdict(described, at(1000), 60).reason).toBe('due');
  });
});

describe('refreshCredential with a client document cache', () => {
  it('uses the cached document at the tagged client version: a describe and the write are the only AWS calls', async () => {
    const { deps } = setup();
    const clientCache = new ClientDocumentCache();
    clientCache.set(NAME, { document: sirvDocument(NAME), versionId: `client-${NAME}-1` });
    const result = await refreshCredential(NAME, { ...deps, clientCache });
    expect(result).toMatchObject({ ok: true, generation: 8 });
    expect(sm.mock.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DescribeSecretCommand',
      'PutSecretValueCommand',
    ]);
  });

  it('reads the client secret again when the issuer rejects a cached document, and uses a newer one behind a stale tag', async () => {
    // Prepare: the cache and the tag say version 1; the client secret was rewritten (version 2)
    // with new credentials, and the tagging call that should have followed was lost.
    const { issuer, deps } = setup();
    const revoked = { ...sirvDocument(NAME), issuer: { ...sirvDocument(NAME).issuer, clientId: 'id-revoked' } };
    const clientCache = new ClientDocumentCache();
    clientCache.set(NAME, { document: revoked, versionId: `client-${NAME}-1` });
    const stored = sm.secrets.get(names.client);
    if (stored) stored.versionId = `client-${NAME}-2`;
    const answers = { 'id-revoked': { kind: 'status', status: 401 } } as const;
    const rejecting = sirvIssuer({ answers });
    // Act
    const result = await refreshCredential(NAME, { ...deps, fetch: rejecting.fetch, clientCache });
    // Assess: one rejection, one fresh read, a token from the new credentials, the tag repaired.
    expect(result).toMatchObject({ ok: true, generation: 8 });
    expect(rejecting.calls.map((c) => c.clientId)).toEqual(['id-revoked', clientIdOf(NAME)]);
    expect(issuer.calls).toHaveLength(0);
    expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.clientVersion]).toBe(`client-${NAME}-2`);
    expect(clientCache.get(NAME, `client-${NAME}-2`)?.document).toEqual(sirvDocument(NAME));
  });

  it('lets a rejection stand when the client secret has not changed, asking the issuer once', async () => {
    const { deps } = setup({ answer: { kind: 'status', status: 401 } });
    const clientCache = new ClientDocumentCache();
    clientCache.set(NAME, { document: sirvDocument(NAME), versionId: `client-${NAME}-1` });
    const rejecting = sirvIssuer({ answers: { [clientIdOf(NAME)]: { kind: 'status', status: 401 } } });
    const result = await refreshCredential(NAME, { ...deps, fetch: rejecting.fetch, clientCache });
    expect(result).toMatchObject({ ok: false, error: { code: 'InvalidCredentials' } });
    expect(rejecting.calls).toHaveLength(1);
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    // The block names the tagged client version: only a new one lifts it.
    expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.failedClientVersion]).toBe(`client-${NAME}-1`);
  });

  it('does not re-read a cached document after a transient issuer failure', async () => {
    const { deps } = setup();
    const clientCache = new ClientDocumentCache();
    clientCache.set(NAME, { document: sirvDocument(NAME), versionId: `client-${NAME}-1` });
    const failing = sirvIssuer({ answers: { [clientIdOf(NAME)]: { kind: 'status', status: 503 } } });
    await refreshCredential(NAME, { ...deps, fetch: failing.fetch, clientCache });
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});

describe('refreshCredential with an absurd Retry-After', () => {
  it('records a valid, capped next-attempt tag and returns a result instead of throwing', async () => {
    // Prepare
    const { deps } = setup({
      answer: { kind: 'status', status: 503, headers: { 'retry-after': '99999999999999999999' } },
    });
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess
    expect(result).toMatchObject({ ok: false, error: { code: 'IssuerUnavailable' } });
    const nextAttempt = 'nextAttempt' in result ? result.nextAttempt : undefined;
    expect(nextAttempt).toBeDefined();
    // The current token expires at +270 s: the retry is not parked past a polite 15 minutes.
    expect(Date.parse(nextAttempt ?? '')).toBe(at(900).getTime());
    const tag = sm.tokenTags(NAME, PREFIX)[TAG_KEYS.nextAttempt];
    expect(tag).toMatch(/^\d+$/);
  });
});

describe('refreshCredential with a drifting vendor', () => {
  it('stores a valid token whose real lifetime breaks the write budget, reports it, and refreshes as late as it can', async () => {
    // Prepare: the vendor now hands out 5-minute tokens; the default policy needs 10 minutes between writes.
    const { deps } = setup({ answer: { kind: 'token', lifetimeSeconds: 300 } });
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess
    expect(result).toMatchObject({ ok: true, generation: 8, writeBudgetBreached: true });
    const puts = sm.mock.commandCalls(PutSecretValueCommand);
    expect(puts).toHaveLength(1);
    const written = parseTokenRecord(puts[0]?.args[0].input.SecretString ?? '', NAME);
    // expiresAt − minMargin (two 60 s ticks): one write per 180 s, not per 0.75 × 300 − jitter.
    expect(written).toMatchObject({ expiresAt: at(300).toISOString(), refreshAfter: at(180).toISOString() });
    expect(sm.tokenTags(NAME, PREFIX)).toMatchObject({ [TAG_KEYS.writeBudget]: 'breached' });
  });

  it('tags the budget ok again once the vendor hands out long-lived tokens', async () => {
    // Prepare: an earlier refresh recorded a breach.
    const { deps } = setup();
    const token = sm.secrets.get(secretNames(NAME, PREFIX).token);
    if (token) token.tags[TAG_KEYS.writeBudget] = 'breached';
    const result = await refreshCredential(NAME, deps);
    expect(result).toMatchObject({ ok: true });
    expect('writeBudgetBreached' in result).toBe(false);
    expect(sm.tokenTags(NAME, PREFIX)).toMatchObject({ [TAG_KEYS.writeBudget]: 'ok' });
  });

  it('writes no budget tag while the state does not change: a clean refresh stays one call', async () => {
    const { deps } = setup();
    const result = await refreshCredential(NAME, deps);
    expect(result).toMatchObject({ ok: true });
    // Never breached: the tag stays absent (absent means ok) and no TagResource sets it.
    expect(sm.tokenTags(NAME, PREFIX)).not.toHaveProperty(TAG_KEYS.writeBudget);
    expect(
      tagCallsOn(secretNames(NAME, PREFIX).token).filter((c) =>
        c.args[0].input.Tags?.some((t) => t.Key === TAG_KEYS.writeBudget),
      ),
    ).toHaveLength(0);
  });

  it('does not tag a breach again while it lasts', async () => {
    const { deps } = setup({ answer: { kind: 'token', lifetimeSeconds: 300 } });
    const token = sm.secrets.get(secretNames(NAME, PREFIX).token);
    if (token) token.tags[TAG_KEYS.writeBudget] = 'breached';
    const result = await refreshCredential(NAME, deps);
    expect(result).toMatchObject({ ok: true, writeBudgetBreached: true });
    expect(sm.tokenTags(NAME, PREFIX)).toMatchObject({ [TAG_KEYS.writeBudget]: 'breached' });
    expect(
      tagCallsOn(secretNames(NAME, PREFIX).token).filter((c) =>
        c.args[0].input.Tags?.some((t) => t.Key === TAG_KEYS.writeBudget),
      ),
    ).toHaveLength(0);
  });

  it('does not store a repeated token as a new generation with a later expiry', async () => {
    // Prepare: the vendor answers with exactly the token already stored.
    const stored = tokenRecord(NAME, at(-30));
    sm.addCredential({ name: NAME, prefix: PREFIX, clientDocument: sirvDocument(NAME), token: stored });
    const deps = repeatingIssuerDeps(stored.accessToken, 1200);
    // Act
    const result = await refreshCredential(NAME, deps);
    // Assess
    expect(result).toMatchObject({ ok: false, error: { code: 'MalformedResponse', transient: true } });
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.nextAttempt]).toMatch(/^\d+$/);
  });

  it('tells a repeated token from the version id digest without reading the token, and from the value behind a version put by hand', async () => {
    for (const byHand of [false, true]) {
      sm.mock.resetHistory();
      const stored = tokenRecord(NAME, at(-30));
      sm.addCredential({ name: NAME, prefix: PREFIX, clientDocument: sirvDocument(NAME), token: stored });
      const token = sm.secrets.get(names.token);
      if (byHand && token) token.versionId = '7d1c6a52-2b39-4d0e-9a34-7f2d6a1b0c11';
      const deps = repeatingIssuerDeps(stored.accessToken, 1200);
      const result = await refreshCredential(NAME, deps);
      expect(result).toMatchObject({ ok: false, error: { code: 'MalformedResponse' } });
      expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
      const tokenReads = sm.mock
        .commandCalls(GetSecretValueCommand)
        .filter((c) => c.args[0].input.SecretId === secretNames(NAME, PREFIX).token);
      expect(tokenReads).toHaveLength(byHand ? 1 : 0);
    }
  });

  it('keeps the stored record, writing nothing, when a repeated token claims no later expiry', async () => {
    const stored = tokenRecord(NAME, at(-30));
    sm.addCredential({ name: NAME, prefix: PREFIX, clientDocument: sirvDocument(NAME), token: stored });
    const deps = repeatingIssuerDeps(stored.accessToken, 120);
    const result = await refreshCredential(NAME, deps);
    expect(result).toMatchObject({ ok: true, generation: stored.generation, expiresAt: stored.expiresAt });
    expect(sm.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});

describe('refreshCredential of a credential whose client secret is kept in a clientSecretSource', () => {
  const SOURCE = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:platform/sirv-AbCdEf';
  const SOURCE_VALUE = `${PLANTED_SECRET}-from-source`;

  /** The credential of {@link setup} with its client secret kept in SOURCE, at version `sourceVersion`. */
  function sourcedCredential(options: Parameters<typeof setup>[0], sourceVersion: string) {
    const { clientSecret: _stored, ...issuer } = sirvDocument(NAME).issuer as { clientSecret?: string };
    const { issuer: fetcher, deps } = setup(options);
    sm.secrets.set(names.client, {
      ...(sm.secrets.get(names.client) as NonNullable<ReturnType<typeof sm.secrets.get>>),
      value: JSON.stringify({ version: 1, issuer, policy: {}, clientSecretSource: { secretArn: SOURCE } }),
    });
    sm.secrets.set(SOURCE, {
      value: SOURCE_VALUE,
      tags: {},
      lastChangedDate: at(-3600),
      versions: 1,
      versionId: sourceVersion,
    });
    return { fetcher, deps };
  }

  /**
   * A sourced credential blocked by a rejection of the source at version `failedSource`,
   * `blockedSeconds` ago, its recheck due.
   */
  function blockedSourced(failedSource: string, sourceVersion: string, blockedSeconds = 600) {
    return sourcedCredential(
      {
        tokenTags: {
          [TAG_KEYS.failures]: '1',
          [TAG_KEYS.lastError]: 'InvalidCredentials',
          [TAG_KEYS.failedClientVersion]: `client-${NAME}-1`,
          [TAG_KEYS.failedSourceVersion]: failedSource,
          [TAG_KEYS.failedAt]: epoch(at(-blockedSeconds)),
          [TAG_KEYS.nextAttempt]: epoch(at(-60)),
        },
      },
      sourceVersion,
    );
  }

  it('blocks a refusal that is not about the client secret as any credential, with no recheck of the source', async () => {
    const { deps } = sourcedCredential(
      { answer: { kind: 'status', status: 400, body: { message: 'Bad scope' } } },
      's1',
    );

    const result = await refreshCredential(NAME, deps);

    expect(result).toMatchObject({ ok: false, error: { code: 'InvalidConfiguration' } });
    const tags = sm.tokenTags(NAME, PREFIX);
    expect(tags[TAG_KEYS.lastError]).toBe('InvalidConfiguration');
    expect(tags[TAG_KEYS.nextAttempt]).toBeUndefined();
    // The source version it was refused with: should a stale next-attempt tag make it due, the
    // same secret is not sent again.
    expect(tags[TAG_KEYS.failedSourceVersion]).toBe('s1');
  });

  it('at its recheck, holds the block while the source is the one rejected: no issuer call, no new failure, a later look', async () => {
    const { fetcher, deps } = blockedSourced('s1', 's1', 600);
    const before = sm.tokenTags(NAME, PREFIX);

    const result = await refreshCredential(NAME, deps);

    // Blocked for 600 s: the next look is half that to all of it later (the random seam at 0: half).
    expect(result).toEqual({
      credential: NAME,
      ok: true,
      skipped: 'blocked',
      generation: 7,
      expiresAt: at(270).toISOString(),
      refreshAfter: at(-30).toISOString(),
      secondsToExpiry: 270,
      nextAttempt: at(300).toISOString(),
    });
    expect(fetcher.calls).toHaveLength(0);
    const tags = sm.tokenTags(NAME, PREFIX);
    // Only the next look moves (and the block is pinned to the token it was found against).
    expect(tags).toEqual({
      ...before,
      [TAG_KEYS.nextAttempt]: epoch(at(300)),
      [TAG_KEYS.failedVersion]: sm.secrets.get(names.token)?.versionId,
    });
    expect(JSON.stringify(result)).not.toContain(SOURCE_VALUE);
  });

  it.each([
    { blockedSeconds: 30, random: 0, next: 30 },
    { blockedSeconds: 600, random: 0.5, next: 450 },
    { blockedSeconds: 5000, random: 0, next: 1800 },
    { blockedSeconds: 86_400, random: 0.5, next: 2700 },
  ])(
    'holds a block of $blockedSeconds s until a look $next s later (a minute at least, an hour at most)',
    async ({ blockedSeconds, random, next }) => {
      const { deps } = blockedSourced('s1', 's1', blockedSeconds);

      const result = await refreshCredential(NAME, { ...deps, random: () => random });

      expect(result).toMatchObject({ skipped: 'blocked', nextAttempt: at(next).toISOString() });
      expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.failures]).toBe('1');
    },
  );

  it('remembers a held look it could not tag, so this container does not look again before it', async () => {
    const { fetcher, deps } = blockedSourced('s1', 's1', 600);
    sm.mock.on(TagResourceCommand).rejects(throttled());
    const memory = new RefreshMemory();

    const first = await refreshCredential(NAME, { ...deps, memory });
    const second = await refreshCredential(NAME, { ...deps, memory });

    expect(first).toMatchObject({ skipped: 'blocked', nextAttempt: at(300).toISOString() });
    // The second finds the remembered look ahead, reads nothing and tags nothing.
    expect(second).toMatchObject({ skipped: 'blocked' });
    expect(sm.mock.commandCalls(GetSecretValueCommand).filter((c) => c.args[0].input.SecretId === SOURCE)).toHaveLength(
      1,
    );
    expect(fetcher.calls).toHaveLength(0);
  });

  it('asks the issuer with the new value once the source has another version', async () => {
    const { fetcher, deps } = blockedSourced('s1', 's2');

    const result = await refreshCredential(NAME, deps);

    expect(result).toMatchObject({ ok: true, generation: 8 });
    expect(fetcher.calls.map((c) => (JSON.parse(c.body) as { clientSecret?: string }).clientSecret)).toEqual([
      SOURCE_VALUE,
    ]);
  });

  it("asks the issuer at the operator's forced override, whatever the source's version", async () => {
    const { fetcher, deps } = blockedSourced('s1', 's1');

    const result = await refreshCredential(NAME, deps, { force: true, overrideFloor: true });

    expect(result).toMatchObject({ ok: true });
    expect(fetcher.calls).toHaveLength(1);
  });
});

describe('refreshCredential of a blocked credential that keeps its client secret inline', () => {
  const REJECTED = `${PLANTED_SECRET}-${NAME}`;
  const sent = (issuer: { calls: { body: string }[] }) =>
    issuer.calls.map((c) => (JSON.parse(c.body) as { clientSecret?: string }).clientSecret);

  it('sends the rejected client secret once over many sweeps while UntagResource leaves a stale next attempt', async () => {
    // Prepare: a transient failure left a next-attempt tag; the issuer now rejects the client
    // secret, and every UntagResource (what would remove that tag) is throttled.
    const clock = frozenClock(NOW);
    const { issuer, deps } = setup({
      answer: { kind: 'status', status: 401, body: { message: 'Wrong clientSecret' } },
      tokenTags: {
        [TAG_KEYS.failures]: '1',
        [TAG_KEYS.lastError]: 'IssuerUnavailable',
        [TAG_KEYS.nextAttempt]: epoch(at(-10)),
      },
    });
    sm.mock.on(UntagResourceCommand).rejects(throttled());
    const memory = new RefreshMemory();
    const results = [];

    // Act: a sweep a minute for ten minutes, by one warm container and by cold ones.
    for (let tick = 0; tick < 10; tick += 1) {
      const container = tick % 2 === 0 ? { memory, clientCache: new ClientDocumentCache() } : {};
      const now = clock.now();
      // What a sweep plans from (the token secret as listed, this container's memory on top).
      const described = await describeTokenListing({ client: sm.client, prefix: PREFIX }, NAME);
      if (described === undefined) throw new Error('the token secret is gone');
      const listing = 'memory' in container ? memory.overlay(described, now) : described;
      if (dueVerdict(listing, now, 60).due) {
        results.push(await refreshCredential(NAME, { ...deps, ...container, now: clock.now }));
      }
      clock.advance(60);
    }

    // Assess: one rejection, then holds; the failure count never rises past that rejection.
    expect(sent(issuer)).toEqual([REJECTED]);
    expect(results[0]).toMatchObject({
      ok: false,
      error: { code: 'InvalidCredentials' },
      notRecorded: 'ThrottlingException',
    });
    for (const held of results.slice(1)) expect(held).toMatchObject({ ok: true, skipped: 'blocked' });
    expect(results.length).toBeGreaterThan(1);
    expect(sm.tokenTags(NAME, PREFIX)[TAG_KEYS.failures]).toBe('2');
  });

  it('holds a block whose stale next attempt makes it due, asking nothing, and tries the untag again', async () => {
    const { issuer, deps } = setup({
      tokenTags: {
        [TAG_KEYS.failures]: '3',
        [TAG_KEYS.lastError]: 'InvalidCredentials',
        [TAG_KEYS.failedClientVersion]: `client-${NAME}-1`,
        [TAG_KEYS.failedAt]: epoch(at(-600)),
        [TAG_KEYS.nextAttempt]: epoch(at(-60)),
      },
    });

    const result = await refreshCredential(NAME, deps);

    expect(result).toMatchObject({ ok: true, skipped: 'blocked', generation: 7 });
    expect(result).not.toHaveProperty('nextAttempt');
    expect(issuer.calls).toHaveLength(0);
    const tags = sm.tokenTags(NAME, PREFIX);
    expect(tags[TAG_KEYS.failures]).toBe('3');
    expect(tags[TAG_KEYS.failedAt]).toBe(epoch(at(-600)));
    expect(tags).not.toHaveProperty(TAG_KEYS.nextAttempt);
    expect(sm.mock.commandCalls(UntagResourceCommand).map((c) => c.args[0].input.TagKeys)).toEqual([
      [TAG_KEYS.nextAttempt],
    ]);
  });

  it("still asks the issuer at the operator's forced override", async () => {
    const { issuer, deps } = setup({
      tokenTags: {
        [TAG_KEYS.failures]: '1',
        [TAG_KEYS.lastError]: 'InvalidCredentials',
        [TAG_KEYS.failedClientVersion]: `client-${NAME}-1`,
      },
    });

    const result = await refreshCredential(NAME, deps, { force: true, overrideFloor: true });

    expect(result).toMatchObject({ ok: true, generation: 8 });
    expect(sent(issuer)).toEqual([REJECTED]);
  });
});
