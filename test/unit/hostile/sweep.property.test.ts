/**
 * Property: a sweep over arbitrary issuer failures (statuses, Retry-After values, bodies, absurd
 * lifetimes) always completes and reports; every healthy credential in it is refreshed; every
 * next-attempt tag is a valid epoch within the Retry-After cap; no failure message carries the
 * planted client secret.
 *
 * NUM_RUNS: 200 sweeps of up to 8 credentials each (about 900 refreshes). Checked by reverting
 * locally: without the Retry-After caps, a 20-digit Retry-After on a credential with no current
 * token left a NaN next-attempt tag after 19 runs; with the old failure path as well, the sweep
 * itself rejected after 3.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TAG_KEYS } from '../../../core/store';
import { MAX_RETRY_AFTER_SECONDS } from '../../../core/untrusted-time';
import { sweep } from '../../../lambda/sweep';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import {
  at,
  clientIdOf,
  type IssuerAnswer,
  NOW,
  PLANTED_SECRET,
  PREFIX,
  sirvDocument,
  sirvIssuer,
  sweepDefaults,
  tokenRecord,
} from '../../helpers/fleet';

const NUM_RUNS = 200;

let sm: MemorySecrets;
beforeEach(() => {
  sm = memorySecrets();
});
afterEach(() => {
  sm.restore();
});

const retryAfter = fc.oneof(
  fc.constantFrom(
    '99999999999999999999',
    'Sat, 13 Sep 275760 00:00:00 GMT',
    'Fri, 31 Dec 9999 23:59:59 GMT',
    '0',
    '120',
  ),
  fc.string({ maxLength: 40 }),
);
const failure: fc.Arbitrary<IssuerAnswer> = fc.oneof(
  fc.record({
    kind: fc.constant('status' as const),
    status: fc.constantFrom(400, 401, 403, 404, 408, 429, 500, 502, 503, 200, 302),
    body: fc.oneof(
      fc.constant({ error: 'temporarily_unavailable' }),
      fc.constant({ error: 'invalid_client' }),
      fc.constant({ message: 'echo SECRET_OF_THIS_CREDENTIAL' }),
      fc.record({ token: fc.string(), expiresIn: fc.oneof(fc.double(), fc.constant(1e300), fc.constant(-1)) }),
      fc.string({ maxLength: 200 }),
    ),
    headers: fc.record({ 'retry-after': retryAfter }, { requiredKeys: [] }),
  }),
  fc.record({
    kind: fc.constant('token' as const),
    lifetimeSeconds: fc.constantFrom(1, 30, 300, 1_200_000, 1e300, 8.64e15),
  }),
);

/** The fleet's client secret of `name`. */
const secretOf = (name: string) => `${PLANTED_SECRET}-${name}`;

/** Makes an echoing body echo this credential's own client secret. */
function withEchoedSecret(answer: IssuerAnswer, name: string): IssuerAnswer {
  if (answer.kind !== 'status') return answer;
  const body = JSON.parse(JSON.stringify(answer.body ?? null).replaceAll('SECRET_OF_THIS_CREDENTIAL', secretOf(name)));
  return { ...answer, body };
}

describe('a sweep over arbitrary failures', () => {
  it('always completes, reports every credential and refreshes every healthy one', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        // Each credential: its issuer's answer (healthy when absent), and whether it holds a token.
        fc.array(fc.tuple(fc.option(failure, { nil: undefined }), fc.boolean()), { minLength: 1, maxLength: 8 }),
        async (plan) => {
          sm.restore();
          sm = memorySecrets();
          const answers: Record<string, IssuerAnswer> = {};
          const healthy: string[] = [];
          plan.forEach(([answer, hasToken], i) => {
            const name = `cred-${i}`;
            // Without a current token nothing bounds a Retry-After but its own cap.
            const token = hasToken ? tokenRecord(name, at(-30)) : undefined;
            sm.addCredential({ name, prefix: PREFIX, clientDocument: sirvDocument(name), token });
            if (answer === undefined) healthy.push(name);
            else answers[clientIdOf(name)] = withEchoedSecret(answer, name);
          });
          const issuer = sirvIssuer({ answers });
          const summary = await sweep({
            ...sweepDefaults(sm.client),
            fetch: issuer.fetch,
            random: () => 0.5,
            concurrency: 4,
            lambda: new LambdaClient({ region: 'us-east-1' }),
            functionName: 'token-rotator',
          });
          expect(summary.results).toHaveLength(plan.length);
          for (const name of healthy) {
            expect(summary.results.find((r) => r.credential === name)).toMatchObject({ ok: true });
          }
          for (const r of summary.results) {
            if ('ok' in r && !r.ok) {
              expect(r.error.message).not.toContain(secretOf(r.credential));
              // A transient failure is always scheduled: a next attempt exists and is tagged.
              if (r.error.transient) expect(r.nextAttempt).toBeDefined();
              if (r.nextAttempt !== undefined) {
                const wait = Date.parse(r.nextAttempt) - NOW.getTime();
                expect(wait).toBeGreaterThan(0);
                expect(wait).toBeLessThanOrEqual(MAX_RETRY_AFTER_SECONDS * 1000);
              }
            }
          }
          plan.forEach((_answer, i) => {
            const tag = sm.tokenTags(`cred-${i}`, PREFIX)[TAG_KEYS.nextAttempt];
            if (tag !== undefined) expect(tag).toMatch(/^\d{1,12}$/);
          });
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
