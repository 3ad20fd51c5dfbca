import {
  DescribeSecretCommand,
  ListSecretsCommand,
  type ListSecretsCommandInput,
  PutSecretValueCommand,
  type SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { type LagOptions, LIST_SECRETS_LAG_MS } from '../../../local-stack/eventual-consistency';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import { weakenSecretsManager } from '../../../local-stack/weak-secrets-manager';
import { frozenClock } from '../../helpers/clock';
import { memoryBackedClient, seededRandom } from '../../helpers/sdk-faults';

let sm: MemorySecrets | undefined;
afterEach(() => sm?.restore());

/** A double with `names` stored, each at version `<name>-v1`, tagged `team: <team>`. */
function stack(names: string[], lag: Omit<LagOptions, 'now'> | undefined, extra: { describeLagMs?: number } = {}) {
  const clock = frozenClock();
  sm = memorySecrets({
    now: clock.now,
    ...(lag ? { listLag: lag } : {}),
    ...(extra.describeLagMs ? { describeLag: { lagMs: extra.describeLagMs } } : {}),
  });
  for (const name of names) {
    sm.secrets.set(name, {
      value: `${name}-1`,
      tags: { team: name.startsWith('a/') ? 'a' : 'b' },
      lastChangedDate: clock.now(),
      versions: 1,
      versionId: `${name}-v1`,
    });
  }
  return { sm, client: sm.client, clock };
}

const put = (client: SecretsManagerClient, id: string, version: string) =>
  client.send(new PutSecretValueCommand({ SecretId: id, SecretString: version, ClientRequestToken: version }));

/** The current version id of each listed secret, following every page. */
async function listed(
  client: SecretsManagerClient,
  input: ListSecretsCommandInput = {},
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let token: string | undefined;
  for (let page = 0; page < 50; page++) {
    const answer = await client.send(new ListSecretsCommand({ ...input, NextToken: token }));
    for (const entry of answer.SecretList ?? []) {
      const current = Object.entries(entry.SecretVersionsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'));
      out[entry.Name ?? ''] = current?.[0] ?? '';
    }
    token = answer.NextToken;
    if (!token) return out;
  }
  throw new Error('listing did not end');
}

describe('a lagging ListSecrets on the in-memory double', () => {
  it('shows the version from before a write for up to the lag (the oldest state seen), then the new one', async () => {
    // Prepare: one listing at t=0 (the state the lag can fall back on).
    const { client, clock } = stack(['a/one'], { lagMs: LIST_SECRETS_LAG_MS });
    expect(await listed(client)).toEqual({ 'a/one': 'a/one-v1' });
    await put(client, 'a/one', 'a/one-v2');

    // Act + Assess: every minute, and to the last second, of the 5 minutes the listing still shows v1.
    for (const seconds of [60, 120, 180, 240, 299]) {
      clock.set(seconds);
      expect(await listed(client), `at ${seconds} s`).toEqual({ 'a/one': 'a/one-v1' });
    }
    // At 5 minutes the t=0 snapshot is too old: the oldest one left was read after the write.
    clock.set(300);
    expect(await listed(client)).toEqual({ 'a/one': 'a/one-v2' });
  });

  it('answers DescribeSecret fresh meanwhile, as AWS points at it for recent information', async () => {
    // Prepare
    const { client, clock } = stack(['a/one'], { lagMs: LIST_SECRETS_LAG_MS });
    await listed(client);
    await put(client, 'a/one', 'a/one-v2');
    clock.advance(60);

    // Act
    const listing = await listed(client);
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'a/one' }));

    // Assess
    expect(listing).toEqual({ 'a/one': 'a/one-v1' });
    expect(described.VersionIdsToStages).toEqual({ 'a/one-v2': ['AWSCURRENT'] });
  });

  it('lags DescribeSecret too when asked to, per secret', async () => {
    // Prepare
    const { client, clock } = stack(['a/one', 'a/two'], undefined, { describeLagMs: 60_000 });
    await client.send(new DescribeSecretCommand({ SecretId: 'a/one' }));
    await put(client, 'a/one', 'a/one-v2');
    await put(client, 'a/two', 'a/two-v2');
    clock.advance(30);

    // Act
    const one = await client.send(new DescribeSecretCommand({ SecretId: 'a/one' }));
    const two = await client.send(new DescribeSecretCommand({ SecretId: 'a/two' }));

    // Assess: a/one falls back on its own earlier answer; a/two was never described before.
    expect(Object.keys(one.VersionIdsToStages ?? {})).toEqual(['a/one-v1']);
    expect(Object.keys(two.VersionIdsToStages ?? {})).toEqual(['a/two-v2']);
    // Tags lag with the rest of the answer.
    await client.send(new TagResourceCommand({ SecretId: 'a/one', Tags: [{ Key: 'x', Value: '1' }] }));
    const tags = (await client.send(new DescribeSecretCommand({ SecretId: 'a/one' }))).Tags ?? [];
    expect(tags.map((t) => t.Key)).toEqual(['team']);
  });

  it('pages one snapshot with its own NextTokens, even when a write lands between pages', async () => {
    // Prepare: 7 secrets, pages of 3.
    const names = Array.from({ length: 7 }, (_, i) => `a/s${i}`);
    const { client, clock } = stack(names, { lagMs: LIST_SECRETS_LAG_MS });
    await listed(client, { MaxResults: 3 });
    for (const name of names) await put(client, name, `${name}-v2`);
    clock.advance(120);

    // Act: page 1, a write, then the other pages.
    const first = await client.send(new ListSecretsCommand({ MaxResults: 3 }));
    await put(client, 'a/s6', 'a/s6-v3');
    const second = await client.send(new ListSecretsCommand({ MaxResults: 3, NextToken: first.NextToken }));
    const third = await client.send(new ListSecretsCommand({ MaxResults: 3, NextToken: second.NextToken }));

    // Assess: 3 + 3 + 1 entries, all of the t=0 state.
    expect([first, second, third].map((p) => p.SecretList?.length)).toEqual([3, 3, 1]);
    expect(third.NextToken).toBeUndefined();
    const versions = [first, second, third].flatMap((p) =>
      (p.SecretList ?? []).map((e) => Object.keys(e.SecretVersionsToStages ?? {})[0]),
    );
    expect(versions).toEqual(names.map((n) => `${n}-v1`));
  });

  it('keys snapshots by filter: a filtered listing never answers from another filter’s state', async () => {
    // Prepare: a listing of team a only at t=0.
    const { client, clock } = stack(['a/one', 'b/one'], { lagMs: LIST_SECRETS_LAG_MS });
    const teamA = { Filters: [{ Key: 'name' as const, Values: ['a/'] }] };
    expect(await listed(client, teamA)).toEqual({ 'a/one': 'a/one-v1' });
    await put(client, 'a/one', 'a/one-v2');
    await put(client, 'b/one', 'b/one-v2');
    clock.advance(60);

    // Act
    const filtered = await listed(client, teamA);
    const all = await listed(client);
    const teamB = await listed(client, { Filters: [{ Key: 'name', Values: ['b/'] }] });

    // Assess: the filtered listing lags to its own t=0 state; the others were first read now.
    expect(filtered).toEqual({ 'a/one': 'a/one-v1' });
    expect(all).toEqual({ 'a/one': 'a/one-v2', 'b/one': 'b/one-v2' });
    expect(teamB).toEqual({ 'b/one': 'b/one-v2' });
  });

  it('refuses a NextToken it never issued, or one issued for another filter', async () => {
    // Prepare
    const { client } = stack(['a/0', 'a/1', 'a/2'], { lagMs: LIST_SECRETS_LAG_MS });
    const first = await client.send(new ListSecretsCommand({ MaxResults: 1 }));

    // Act + Assess
    await expect(client.send(new ListSecretsCommand({ NextToken: 'lag-999-1' }))).rejects.toMatchObject({
      name: 'InvalidNextTokenException',
    });
    await expect(
      client.send(new ListSecretsCommand({ NextToken: first.NextToken, Filters: [{ Key: 'name', Values: ['a/'] }] })),
    ).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
  });

  it("answers fresh with choice 'fresh', and from any state within the lag with 'random'", async () => {
    // Prepare: states v1 (t=0), v2 (t=60), v3 (t=120), each listed once.
    const fresh = stack(['a/one'], { lagMs: LIST_SECRETS_LAG_MS, choice: 'fresh' });
    await listed(fresh.client);
    await put(fresh.client, 'a/one', 'a/one-v2');
    expect(await listed(fresh.client)).toEqual({ 'a/one': 'a/one-v2' });
    fresh.sm.restore();

    const random = seededRandom(7);
    const { client, clock } = stack(['a/one'], { lagMs: LIST_SECRETS_LAG_MS, choice: 'random', random });
    await listed(client);
    for (const [t, v] of [
      [60, 'v2'],
      [120, 'v3'],
    ] as const) {
      await put(client, 'a/one', `a/one-${v}`);
      clock.set(t);
      await listed(client);
    }

    // Act: 60 listings at t=120 (snapshots v1, v2, v3 within the lag, plus one per call).
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add((await listed(client))['a/one'] ?? '');

    // Assess: every state of the window answered at least once, and nothing else.
    expect([...seen].sort()).toEqual(['a/one-v1', 'a/one-v2', 'a/one-v3']);
  });

  it('refuses a lag that is not a finite, non-negative number of ms, and a random choice without random()', () => {
    expect(() => memorySecrets({ listLag: { lagMs: -1 } })).toThrow(/lagMs/);
    expect(() => memorySecrets({ listLag: { lagMs: Number.NaN } })).toThrow(/lagMs/);
    expect(() => memorySecrets({ listLag: { lagMs: 1000, choice: 'random' } })).toThrow(/random\(\)/);
  });
});

describe('the lag middleware on a real SDK client', () => {
  it('lags ListSecrets through the client’s own middleware stack, and remove() makes it fresh again', async () => {
    // Prepare: a strongly consistent double under a real SDK client, weakened by middleware.
    const { sm: backend, clock } = stack(['a/one'], undefined);
    const client = memoryBackedClient(backend.client);
    const weak = weakenSecretsManager(client, { now: clock.now, listLag: { lagMs: LIST_SECRETS_LAG_MS } });
    expect(await listed(client)).toEqual({ 'a/one': 'a/one-v1' });
    await put(client, 'a/one', 'a/one-v2');
    clock.advance(240);

    // Act
    const lagging = await listed(client);
    weak.remove();
    const fresh = await listed(client);

    // Assess
    expect(lagging).toEqual({ 'a/one': 'a/one-v1' });
    expect(fresh).toEqual({ 'a/one': 'a/one-v2' });
  });

  it('reads every page of the true listing for its snapshot and serves pages of the size asked for', async () => {
    // Prepare: 250 secrets: the true listing is 3 pages of the backend.
    const names = Array.from({ length: 250 }, (_, i) => `a/s${String(i).padStart(3, '0')}`);
    const { sm: backend, clock } = stack(names, undefined);
    const client = memoryBackedClient(backend.client);
    weakenSecretsManager(client, { now: clock.now, listLag: { lagMs: LIST_SECRETS_LAG_MS } });

    // Act
    const answer = await listed(client, { MaxResults: 40 });

    // Assess: 250 entries, in 7 pages of this view; the backend was read in 3 pages of 100.
    expect(Object.keys(answer)).toEqual(names);
    expect(backend.mock.commandCalls(ListSecretsCommand).map((c) => c.args[0].input.MaxResults)).toEqual([
      100, 100, 100,
    ]);
  });
});
