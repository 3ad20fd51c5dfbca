import { describe, expect, it } from 'vitest';
import { type CredentialStatus, credentialStatus } from '../../../cli/credential-status';
import type { CredentialListing } from '../../../core/store';
import { RotationTally } from '../../../demo/rotation-tally';
import type { WorkloadCounts } from '../../../demo/sample-workload';
import { TEST_EPOCH } from '../../helpers/clock';
import { tokenRecord } from '../../helpers/token-record';

const listing = (name: string, lastError?: string): CredentialListing => ({
  name,
  tokenSecretArn: `arn:${name}`,
  failures: lastError ? 1 : 0,
  lastError,
});

/** The status of `name` with its token at `generation`, as the demo's status report gives it. */
function status(name: string, generation: number, lastError?: string): CredentialStatus {
  const record = tokenRecord(name, {}, { generation });
  return credentialStatus({ name, listing: listing(name, lastError), record }, TEST_EPOCH);
}

const counts = (entries: Record<string, Partial<WorkloadCounts>>) =>
  new Map(
    Object.entries(entries).map(([name, c]) => [
      name,
      { reads: 0, expiredReads: 0, errors: 0, lastError: undefined, ...c },
    ]),
  );

describe('RotationTally', () => {
  it('reports a refresh when a generation goes up, and counts refreshes from the first generation seen', () => {
    const tally = new RotationTally();
    const none = counts({});

    expect(tally.observe([status('a', 3), status('b', 1)], none)).toEqual([]);
    const seen = tally.observe([status('a', 4), status('b', 1)], none);

    expect(seen).toEqual([{ credential: 'a', generation: 4, expiresAt: status('a', 4).expiresAt }]);
    expect(tally.rows().map((r) => [r.credential, r.generation, r.refreshes])).toEqual([
      ['a', 4, 1],
      ['b', 1, 0],
    ]);
  });

  it('never moves a generation back when an older status arrives', () => {
    const tally = new RotationTally();
    tally.observe([status('a', 5)], counts({}));
    expect(tally.observe([status('a', 4)], counts({}))).toEqual([]);
    expect(tally.rows()[0]).toMatchObject({ generation: 5, refreshes: 0 });
  });

  it("shows the tag's last error first, then the rotator's, then the workload's", () => {
    const tally = new RotationTally();
    tally.sweepFailed([{ credential: 'b', code: 'IssuerUnavailable' }]);
    tally.observe(
      [status('a', 1, 'InvalidCredentials'), status('b', 1), status('c', 1)],
      counts({ c: { lastError: 'StoreError', reads: 7 } }),
    );
    expect(tally.rows().map((r) => [r.credential, r.lastError, r.reads])).toEqual([
      ['a', 'InvalidCredentials', 0],
      ['b', 'IssuerUnavailable', 0],
      ['c', 'StoreError', 7],
    ]);
  });

  it('sums errors per credential and counts a failed invocation once, on the first credential', () => {
    const tally = new RotationTally();
    tally.sweepFailed([
      { credential: 'b', code: 'IssuerUnavailable' },
      { credential: 'b', code: 'MalformedResponse' },
    ]);
    tally.invocationFailed('TimeoutError');
    tally.invocationFailed('TimeoutError');
    tally.observe([status('a', 2), status('b', 9)], counts({}));
    tally.observe([status('a', 3), status('b', 9)], counts({}));
    const workload = counts({ a: { reads: 10, expiredReads: 1, errors: 1 }, b: { reads: 10 } });

    expect(tally.summaries(['a', 'b', 'never-seen'], workload)).toEqual([
      { credential: 'a', issuer: 'sirv', refreshes: 1, generation: 3, reads: 10, expiredReads: 1, errors: 3 },
      { credential: 'b', issuer: 'sirv', refreshes: 0, generation: 9, reads: 10, expiredReads: 0, errors: 2 },
      { credential: 'never-seen', issuer: null, refreshes: 0, generation: null, reads: 0, expiredReads: 0, errors: 0 },
    ]);
  });
});
