/**
 * The lagging listing's promise, for any sequence of writes and listings over simulated time: each
 * ListSecrets answer (all its pages) is the true state at some instant within (t - lag, t], never a
 * state from the future; with the 'oldest' choice it is no newer than the state at the earliest
 * listing of the same request within the lag; with 'fresh' it is the state now. Checked on the
 * middleware over a real SDK client and on the in-memory double's own option.
 */
import {
  type Filter,
  ListSecretsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LagChoice } from '../../../local-stack/eventual-consistency';
import { memorySecrets } from '../../../local-stack/memory-secrets';
import { weakenSecretsManager } from '../../../local-stack/weak-secrets-manager';
import { frozenClock } from '../../helpers/clock';
import { memoryBackedClient, seededRandom } from '../../helpers/sdk-faults';

const NAMES = ['a/0', 'a/1', 'a/2', 'b/0'];
const FILTERS: Record<string, Filter[] | undefined> = {
  all: undefined,
  teamA: [{ Key: 'name', Values: ['a/'] }],
  teamB: [{ Key: 'name', Values: ['b/'] }],
  tagged: [{ Key: 'tag-key', Values: ['x'] }],
};

type SecretState = { versionId: string; tags: Record<string, string> };
type State = Record<string, SecretState>;

type Step =
  | { kind: 'advance'; seconds: number }
  | { kind: 'put'; secret: number }
  | { kind: 'tag'; secret: number; value: string }
  | { kind: 'list'; filter: keyof typeof FILTERS; maxResults: number | undefined };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ kind: fc.constant('put' as const), secret: fc.nat(NAMES.length - 1) }),
  fc.record({
    kind: fc.constant('tag' as const),
    secret: fc.nat(NAMES.length - 1),
    value: fc.constantFrom('1', '2', '3'),
  }),
  fc.record({
    kind: fc.constant('list' as const),
    filter: fc.constantFrom(...(Object.keys(FILTERS) as (keyof typeof FILTERS)[])),
    maxResults: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  }),
);

/** What a listing under `filter` shows of `state`. */
function project(state: State, filter: keyof typeof FILTERS): State {
  const out: State = {};
  for (const [name, secret] of Object.entries(state)) {
    if (filter === 'teamA' && !name.startsWith('a/')) continue;
    if (filter === 'teamB' && !name.startsWith('b/')) continue;
    if (filter === 'tagged' && !('x' in secret.tags)) continue;
    out[name] = secret;
  }
  return out;
}

async function listAll(client: SecretsManagerClient, filter: keyof typeof FILTERS, maxResults: number | undefined) {
  const answer: State = {};
  let token: string | undefined;
  for (let page = 0; page < 20; page++) {
    const out = await client.send(
      new ListSecretsCommand({ Filters: FILTERS[filter], MaxResults: maxResults, NextToken: token }),
    );
    for (const entry of out.SecretList ?? []) {
      const versionId = Object.entries(entry.SecretVersionsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'));
      answer[entry.Name ?? ''] = {
        versionId: versionId?.[0] ?? '',
        tags: Object.fromEntries((entry.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      };
    }
    token = out.NextToken;
    if (!token) return answer;
  }
  throw new Error('listing did not end');
}

async function check(
  where: 'middleware' | 'double',
  choice: LagChoice,
  lagSeconds: number,
  seed: number,
  steps: Step[],
) {
  const clock = frozenClock();
  const lag = { lagMs: lagSeconds * 1000, choice, random: seededRandom(seed) };
  const sm = memorySecrets({ now: clock.now, ...(where === 'double' ? { listLag: lag } : {}) });
  try {
    for (const name of NAMES) {
      sm.secrets.set(name, { value: 'v', tags: {}, lastChangedDate: clock.now(), versions: 1, versionId: `${name}@0` });
    }
    let client = sm.client;
    if (where === 'middleware') {
      client = memoryBackedClient(sm.client);
      weakenSecretsManager(client, { now: clock.now, listLag: lag });
    }
    // Every true state, in order, with the instant it began (ms from the clock's start).
    const start = clock.now().getTime();
    const elapsed = () => clock.now().getTime() - start;
    const truth: { at: number; state: State }[] = [
      { at: 0, state: Object.fromEntries(NAMES.map((n) => [n, { versionId: `${n}@0`, tags: {} }])) },
    ];
    const current = () => truth[truth.length - 1] as { at: number; state: State };
    const listings: { filter: string; at: number; index: number }[] = [];
    let written = 0;

    for (const step of steps) {
      if (step.kind === 'advance') clock.advance(step.seconds);
      if (step.kind === 'put') {
        const name = NAMES[step.secret] as string;
        written += 1;
        const versionId = `${name}@${written}`;
        await client.send(
          new PutSecretValueCommand({ SecretId: name, SecretString: 'v', ClientRequestToken: versionId }),
        );
        const state = structuredClone(current().state);
        state[name] = { versionId, tags: state[name]?.tags ?? {} };
        truth.push({ at: elapsed(), state });
      }
      if (step.kind === 'tag') {
        const name = NAMES[step.secret] as string;
        await client.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'x', Value: step.value }] }));
        const state = structuredClone(current().state);
        state[name] = { versionId: state[name]?.versionId ?? '', tags: { x: step.value } };
        truth.push({ at: elapsed(), state });
      }
      if (step.kind === 'list') {
        const t = elapsed();
        const answer = await listAll(client, step.filter, step.maxResults);
        // The states in effect at some instant of (t - lag, t]: the one in effect just after
        // t - lag, and every one that began after it (with no lag, the state now).
        let first = lag.lagMs === 0 ? truth.length - 1 : 0;
        for (let i = 0; i < truth.length; i++) if ((truth[i] as { at: number }).at <= t - lag.lagMs) first = i;
        const matches = truth
          .map((entry, index) => ({ index, state: project(entry.state, step.filter) }))
          .filter(({ index, state }) => index >= first && JSON.stringify(state) === JSON.stringify(answer))
          .map(({ index }) => index);
        expect(matches.length, `at ${t} ms (${step.filter}): ${JSON.stringify(answer)}`).toBeGreaterThan(0);
        const newest = Math.max(...matches);
        if (choice === 'fresh') expect(newest).toBe(truth.length - 1);
        if (choice === 'oldest') {
          const earliest = listings.find((l) => l.filter === step.filter && l.at > t - lag.lagMs);
          if (earliest) expect(Math.min(...matches)).toBeLessThanOrEqual(earliest.index);
        }
        listings.push({ filter: step.filter, at: t, index: truth.length - 1 });
      }
    }
  } finally {
    sm.restore();
  }
}

describe('a lagging ListSecrets', () => {
  it('answers with a true state of the last lag, never one from the future, on the middleware and on the double', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('middleware' as const, 'double' as const),
        fc.constantFrom<LagChoice>('oldest', 'fresh', 'random'),
        fc.constantFrom(0, 60, 300),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
        check,
      ),
      { numRuns: 150 },
    );
  });
});
