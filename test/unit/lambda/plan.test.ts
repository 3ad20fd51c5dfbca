import { describe, expect, it } from 'vitest';
import { chunk, dueVerdict, type PlanListing, planSweep } from '../../../lambda/plan';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const at = (offsetSeconds: number) => new Date(NOW.getTime() + offsetSeconds * 1000);
const listing = (overrides: Partial<PlanListing> = {}): PlanListing => ({
  name: 'sirv-prod',
  refreshAfter: at(3600),
  failures: 0,
  ...overrides,
});

describe('dueVerdict', () => {
  it('is not due while refreshAfter lies beyond the next tick', () => {
    expect(dueVerdict(listing({ refreshAfter: at(61) }), NOW, 60)).toEqual({ due: false, reason: 'not-due' });
  });

  it('is due when refreshAfter falls before the next tick (the lookahead)', () => {
    expect(dueVerdict(listing({ refreshAfter: at(59) }), NOW, 60)).toEqual({ due: true, reason: 'due' });
  });

  it('is not due when refreshAfter falls exactly on the next tick', () => {
    expect(dueVerdict(listing({ refreshAfter: at(60) }), NOW, 60).due).toBe(false);
  });

  it('is due when refreshAfter is already past', () => {
    expect(dueVerdict(listing({ refreshAfter: at(-600) }), NOW, 60).due).toBe(true);
  });

  it('is due when the token secret carries no refresh-after tag', () => {
    expect(dueVerdict(listing({ refreshAfter: undefined }), NOW, 60)).toEqual({ due: true, reason: 'untagged' });
  });

  it('waits for the next attempt after a transient failure, even when refreshAfter has passed', () => {
    const backingOff = listing({
      refreshAfter: at(-60),
      failures: 2,
      lastError: 'IssuerUnavailable',
      nextAttempt: at(30),
    });
    expect(dueVerdict(backingOff, NOW, 60)).toEqual({ due: false, reason: 'backoff' });
  });

  it('retries a transient failure once its next attempt has come', () => {
    const ready = listing({ refreshAfter: at(-60), failures: 2, lastError: 'IssuerUnavailable', nextAttempt: at(-1) });
    expect(dueVerdict(ready, NOW, 60).due).toBe(true);
  });

  it('lifts a block when the token secret is tagged with a client version other than the one that failed', () => {
    const rejected = listing({
      refreshAfter: at(-60),
      failures: 1,
      lastError: 'InvalidCredentials',
      clientVersion: 'c-1',
      failedClientVersion: 'c-1',
    });
    expect(dueVerdict(rejected, NOW, 60)).toEqual({ due: false, reason: 'blocked' });
    expect(dueVerdict({ ...rejected, clientVersion: 'c-2' }, NOW, 60)).toEqual({
      due: true,
      reason: 'client-changed',
    });
    // A failure recorded without a listed client version stays blocked (no clock to compare).
    expect(dueVerdict({ ...rejected, failedClientVersion: undefined }, NOW, 60).reason).toBe('blocked');
  });

  it('looks again at a block with a next attempt (a clientSecretSource) once that time has come, not before', () => {
    const rejected = listing({
      refreshAfter: at(-60),
      failures: 1,
      lastError: 'InvalidCredentials',
      clientVersion: 'c-1',
      failedClientVersion: 'c-1',
      nextAttempt: at(30),
    });
    expect(dueVerdict(rejected, NOW, 60)).toEqual({ due: false, reason: 'blocked' });
    expect(dueVerdict({ ...rejected, nextAttempt: at(0) }, NOW, 60)).toEqual({ due: true, reason: 'source-recheck' });
  });

  it('keeps a backoff when the client document changes: the issuer asked for the pause, not the credentials', () => {
    const backingOff = listing({
      refreshAfter: at(3600),
      failures: 3,
      lastError: 'IssuerUnavailable',
      nextAttempt: at(300),
      clientVersion: 'c-2',
      failedClientVersion: 'c-1',
    });
    expect(dueVerdict(backingOff, NOW, 60)).toEqual({ due: false, reason: 'backoff' });
  });

  it('treats an invalid configuration like a rejection', () => {
    const broken = listing({ lastError: 'InvalidConfiguration', refreshAfter: at(-60) });
    expect(dueVerdict(broken, NOW, 60).reason).toBe('blocked');
  });
});

describe('planSweep', () => {
  it('lists the due credentials most urgent first and counts every verdict', () => {
    const plan = planSweep(
      [
        listing({ name: 'later', refreshAfter: at(30) }),
        listing({ name: 'urgent', refreshAfter: at(-300) }),
        listing({ name: 'idle', refreshAfter: at(900) }),
        listing({ name: 'new', refreshAfter: undefined }),
        listing({
          name: 'waiting',
          refreshAfter: at(-10),
          nextAttempt: at(100),
          lastError: 'IssuerUnavailable',
          failures: 1,
        }),
      ],
      NOW,
      60,
    );
    expect(plan.due).toEqual(['new', 'urgent', 'later']);
    expect(plan.counts).toEqual({
      due: 2,
      untagged: 1,
      'client-changed': 0,
      'source-recheck': 0,
      'not-due': 1,
      backoff: 1,
      blocked: 0,
    });
  });

  it('orders credentials due at the same moment by name in code-unit order, not by locale', () => {
    // Prepare: a collator would put 'a' and 'b' before 'B' (and '_' before digits).
    const tied = ['b', 'B', 'a', 'c_1', 'c1'].map((name) => listing({ name, refreshAfter: at(-60) }));
    // Act
    const plan = planSweep(tied, NOW, 60);
    // Assess
    expect(plan.due).toEqual(['B', 'a', 'b', 'c1', 'c_1']);
  });

  it('plans nothing for an idle fleet', () => {
    const fleet = Array.from({ length: 1000 }, (_, i) => listing({ name: `c${i}`, refreshAfter: at(120 + i) }));
    expect(planSweep(fleet, NOW, 60).due).toEqual([]);
  });
});

describe('chunk', () => {
  it('splits into batches of at most the given size, in order', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
  });
});
