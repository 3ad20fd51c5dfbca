import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { summaryLine } from '../../../cli/commands/sweep';
import { EXIT_CODES } from '../../../cli/exit-codes';
import { TAG_KEYS } from '../../../core/store';
import { type RunOptions, runCommand } from '../../helpers/cli';
import { ACCESS_TOKEN, CLIENT_SECRET, givenCredentials, NOW, type TagState } from './fixtures';

const NEW_TOKEN = 'swept-token-that-must-never-be-printed';
const secretsManager = mockClient(SecretsManagerClient);
const smClient = () =>
  new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

/** A Sirv token endpoint answering `status` (200: a 20-minute token). */
function sirvFetch(status = 200): typeof fetch {
  return (async () =>
    new Response(
      JSON.stringify(status === 200 ? { token: NEW_TOKEN, expiresIn: 1200 } : { statusCode: status, message: 'No' }),
      { status, headers: { 'content-type': 'application/json' } },
    )) as typeof fetch;
}

const run = (argv: string[], options: RunOptions = {}) =>
  runCommand(argv, {
    now: () => NOW,
    random: () => 0,
    secretsManager: smClient,
    fetch: sirvFetch(),
    // The write pacing's waits pass at once: what is paced is counted, not timed, here.
    sleep: async () => {},
    ...options,
  });

/** Credentials with their tag state; client documents readable, writes accepted. */
const given = (credentials: Record<string, TagState>) =>
  givenCredentials(
    secretsManager,
    Object.fromEntries(Object.entries(credentials).map(([name, tags]) => [name, { tags }])),
  );

const due: TagState = { refreshAfter: -60, expiresAt: 240 };
const written = () =>
  secretsManager
    .commandCalls(PutSecretValueCommand)
    .map((c) => JSON.parse(c.args[0].input.SecretString ?? '{}') as { credential: string; generation: number });

beforeEach(() => secretsManager.reset());
afterEach(() => secretsManager.reset());

describe('token-rotator sweep', () => {
  it("refreshes what is due with the rotator's plan, leaves the rest, and prints a line each and a summary", async () => {
    given({ due, fresh: {}, backing: { ...due, failures: 2, lastError: 'IssuerUnavailable', nextAttempt: 120 } });
    const { code, stdout, stderr } = await run(['sweep']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT_CODES.ok);
    expect(written().map((r) => r.credential)).toEqual(['due']);
    expect(stdout.split('\n')).toEqual([
      'ok        due  generation 8, expires in 20m (2026-01-01T12:20:00.000Z)',
      'Swept "token-rotator/": 3 listed, 1 due: 1 refreshed, 0 failed; 1 backing off. Soonest expiry in 4m.',
      '',
    ]);
    // Values are read for the due credential only (its client document): version ids tell the rest.
    expect(
      secretsManager
        .commandCalls(GetSecretValueCommand)
        .map((c) => c.args[0].input.SecretId)
        .sort(),
    ).toEqual(['token-rotator/due/client']);
  });

  it('prints one JSON object with the counts and outcomes, never a token or client secret', async () => {
    given({ due, fresh: {}, blocked: { ...due, failures: 1, lastError: 'InvalidCredentials', failedAt: -30 } });
    const { code, stdout, stderr } = await run(['sweep', '--output', 'json']);
    expect(code).toBe(EXIT_CODES.refreshFailed);
    expect(JSON.parse(stdout)).toEqual({
      prefix: 'token-rotator/',
      listed: 3,
      due: 1,
      refreshed: 1,
      failed: 0,
      rejected: 0,
      skipped: 0,
      held: 0,
      deferred: 0,
      blocked: 1,
      backingOff: 0,
      writeBudgetBreached: 0,
      minSecondsToExpiry: 240,
      results: [
        {
          credential: 'due',
          outcome: 'refreshed',
          generation: 8,
          expiresAt: '2026-01-01T12:20:00.000Z',
          refreshAfter: expect.stringMatching(/Z$/),
        },
      ],
    });
    expect(stderr).toBe(
      'Swept "token-rotator/": 3 listed, 1 due: 1 refreshed, 0 failed; 1 blocked. Soonest expiry in 4m.\n',
    );
    for (const secret of [NEW_TOKEN, ACCESS_TOKEN, CLIENT_SECRET]) expect(stdout + stderr).not.toContain(secret);
  });

  it('exits 4 when a refresh fails, records the failure in tags as the rotator does, and prints no secret', async () => {
    given({ due });
    const { code, stdout, stderr } = await run(['sweep'], { fetch: sirvFetch(401) });
    expect(code).toBe(EXIT_CODES.refreshFailed);
    expect(stdout).toMatch(/^failed {4}due {2}InvalidCredentials: Credential "due": .*401/);
    expect(stdout).toContain('1 due: 0 refreshed, 1 failed.');
    const tags = secretsManager.commandCalls(TagResourceCommand).flatMap((c) => c.args[0].input.Tags ?? []);
    expect(tags).toContainEqual({ Key: TAG_KEYS.lastError, Value: 'InvalidCredentials' });
    expect(written()).toHaveLength(0);
    for (const secret of [NEW_TOKEN, ACCESS_TOKEN, CLIENT_SECRET]) expect(stdout + stderr).not.toContain(secret);
  });

  it("hands out at most the interval's share of --writes-per-second and leaves the rest to the next sweep", async () => {
    given({ a: due, b: due, c: due, d: due, e: due });
    // 0.05 writes/s over 90 % of a 60 s interval: room for two refreshes in this sweep.
    const { code, stdout } = await run(['sweep', '--writes-per-second', '0.05', '--schedule-interval', '60']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(written()).toHaveLength(2);
    expect(stdout.match(/^deferred {2}\w +not started: this sweep's share of the interval/gm)).toHaveLength(3);
    expect(stdout).toContain('5 due: 2 refreshed, 0 failed, 3 left to the next sweep.');
  });

  it('looks one --schedule-interval ahead for what is due', async () => {
    given({ soon: { refreshAfter: 200, expiresAt: 900 } });
    const minute = await run(['sweep']);
    expect(minute.stdout).toContain('1 listed, 0 due');
    const fiveMinutes = await run(['sweep', '--schedule-interval', '300']);
    expect(fiveMinutes.stdout).toContain('1 listed, 1 due: 1 refreshed');
  });

  it('exits 5 when no credential is under the prefix, 0 with --allow-empty', async () => {
    given({});
    const empty = await run(['--prefix', 'none/', 'sweep']);
    expect(empty.code).toBe(EXIT_CODES.noCredentials);
    expect(empty.stderr).toContain('No credentials under prefix "none/" in us-east-1: check --prefix');
    const allowed = await run(['sweep', '--allow-empty', '--json']);
    expect(allowed.code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ listed: 0, due: 0, results: [] });
  });

  it('starts nothing once interrupted, and says so', async () => {
    given({ a: due });
    const interrupt = new AbortController();
    interrupt.abort();
    const { code, stdout } = await run(['sweep'], { signal: interrupt.signal });
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toContain('deferred  a  not started: interrupted; run refresh again.');
    expect(written()).toHaveLength(0);
  });

  it('says how many due credentials it found still blocked, and counts them among the blocked', () => {
    const line = summaryLine({
      prefix: 'token-rotator/',
      listed: 4,
      due: 2,
      refreshed: 1,
      failed: 0,
      rejected: 0,
      skipped: 0,
      held: 1,
      deferred: 0,
      blocked: 2,
      backingOff: 0,
      writeBudgetBreached: 0,
      minSecondsToExpiry: null,
      results: [],
    });
    expect(line).toBe(
      'Swept "token-rotator/": 4 listed, 2 due: 1 refreshed, 0 failed, 1 found still blocked; 2 blocked.',
    );
  });
});
