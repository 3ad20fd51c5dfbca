import { InvokeCommand, LambdaClient, ResourceNotFoundException as LambdaNotFound } from '@aws-sdk/client-lambda';
import {
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../../cli/exit-codes';
import { outcomeLine, outcomeOf, summaryLine } from '../../../cli/refresh-outcome';
import { palette } from '../../../cli/terminal';
import { TAG_KEYS } from '../../../core/store';
import type { TokenRecord } from '../../../core/token';
import { type RunOptions, runCommand } from '../../helpers/cli';
import {
  ACCESS_TOKEN,
  CLIENT_SECRET,
  type GivenCredential,
  givenCredentials,
  listedCredential,
  NOW,
  sirvClientDocument,
  type TagState,
  tokenRecord,
} from './fixtures';

const NEW_TOKEN = 'freshly-issued-token-that-must-never-be-printed';
const secretsManager = mockClient(SecretsManagerClient);
const lambda = mockClient(LambdaClient);
const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
const smClient = () => new SecretsManagerClient({ region: 'us-east-1', credentials });
const lambdaClient = () => new LambdaClient({ region: 'us-east-1', credentials });

/** A Sirv token endpoint: 200 with a fresh token, or the given status. */
function sirvFetch(status = 200): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  const fake = async () => {
    calls += 1;
    const body =
      status === 200
        ? { token: NEW_TOKEN, expiresIn: 1200 }
        : { statusCode: status, message: 'Wrong clientId or clientSecret' };
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: fake as typeof fetch, calls: () => calls };
}

function run(argv: string[], options: RunOptions = {}) {
  return runCommand(argv, {
    now: () => NOW,
    random: () => 0,
    secretsManager: smClient,
    lambda: lambdaClient,
    fetch: sirvFetch().fetch,
    ...options,
  });
}

/** Stores credentials in the mock with their tags and token records; writes succeed. */
const given = (credentialsByName: Record<string, GivenCredential>) =>
  givenCredentials(secretsManager, credentialsByName);

const due = { refreshAfter: -60, expiresAt: 240 };
const dueRecord = (name: string) => tokenRecord(name, { refreshAfter: -60, expiresAt: 240, generation: 7 });
/** Credential "sourced" keeps its client secret in `source` (version s1), which holds CLIENT_SECRET. */
function givenSourcedDocument(source: string): void {
  const { clientSecret: _inline, ...issuer } = sirvClientDocument().issuer;
  secretsManager.on(GetSecretValueCommand, { SecretId: 'token-rotator/sourced/client' }).resolves({
    SecretString: JSON.stringify({ version: 1, issuer, policy: {}, clientSecretSource: { secretArn: source } }),
    VersionId: 'client-v1',
  });
  secretsManager
    .on(GetSecretValueCommand, { SecretId: source })
    .resolves({ SecretString: CLIENT_SECRET, VersionId: 's1' });
}

const written = () =>
  secretsManager.commandCalls(PutSecretValueCommand).map((c) => JSON.parse(c.args[0].input.SecretString ?? '{}'));

beforeEach(() => {
  secretsManager.reset();
  lambda.reset();
});
afterEach(() => {
  secretsManager.reset();
  lambda.reset();
});

describe('refresh in-process', () => {
  it('refreshes a due credential to the next generation and prints its line and the summary', async () => {
    given({ 'sirv-prod': { tags: due, record: dueRecord('sirv-prod') } });
    const { code, stdout, stderr } = await run(['refresh', 'sirv-prod']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT_CODES.ok);
    expect(written()).toEqual([
      expect.objectContaining({ credential: 'sirv-prod', generation: 8, accessToken: NEW_TOKEN }),
    ]);
    expect(stdout).toBe(
      'ok        sirv-prod  generation 8, expires in 20m (2026-01-01T12:20:00.000Z)\n1 credential: 1 refreshed, 0 skipped, 0 failed.\n',
    );
    for (const secret of [NEW_TOKEN, ACCESS_TOKEN, CLIENT_SECRET]) expect(stdout + stderr).not.toContain(secret);
  });

  it('skips a named credential that is not due unless --force', async () => {
    given({ 'sirv-prod': {} });
    const plain = await run(['refresh', 'sirv-prod']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(
      'skipped   sirv-prod  not due: refresh after in 10m (generation 7, expires in 15m). Use --force to refresh now.',
    );
    expect(written()).toHaveLength(0);
    const forced = await run(['refresh', 'sirv-prod', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('ok        sirv-prod  generation 8');
  });

  it('with --all refreshes the due ones and skips the others from their tags alone', async () => {
    given({
      due: { tags: due, record: dueRecord('due') },
      fresh: {},
      backing: { tags: { ...due, failures: 2, lastError: 'IssuerUnavailable', nextAttempt: 180 } },
      rejected: { tags: { ...due, failures: 1, lastError: 'InvalidCredentials', failedAt: -30 } },
      sourced: {
        tags: { ...due, failures: 1, lastError: 'InvalidCredentials', failedAt: -30, failedSourceVersion: 's1' },
      },
    });
    const { code, stdout } = await run(['refresh', '--all']);
    expect(code).toBe(0);
    expect(written().map((r) => r.credential)).toEqual(['due']);
    const tokenReads = secretsManager
      .commandCalls(GetSecretValueCommand)
      .map((c) => c.args[0].input.SecretId)
      .filter((id) => id?.endsWith('/token'));
    // Every state comes from version ids and tags: no token value is read.
    expect(tokenReads).toEqual([]);
    expect(stdout.split('\n')).toEqual([
      'skipped   backing   backing off after IssuerUnavailable until in 3m (generation 7, expires in 4m). Use --force to try now.',
      'skipped   fresh     not due: refresh after in 10m (generation 7, expires in 15m). Use --force to refresh now.',
      'skipped   rejected  blocked after InvalidCredentials (generation 7, expires in 4m): update its client credentials (pulumi up), or use --force to try anyway.',
      'skipped   sourced   blocked after InvalidCredentials (generation 7, expires in 4m): put the working client secret in the secret its clientSecretSource names (its AWSCURRENT version): the rotator looks at it again within an hour, and "token-rotator refresh --force sourced" asks the issuer at once.',
      'ok        due       generation 8, expires in 20m (2026-01-01T12:20:00.000Z)',
      '5 credentials: 1 refreshed, 4 skipped, 0 failed.',
      '',
    ]);
  });

  it("tells a held credential's owner to mend its clientSecretSource, and an inline one's to run pulumi up", async () => {
    const source = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:platform/sirv-AbCdEf';
    const blocked = { ...due, failures: 1, lastError: 'InvalidCredentials', failedAt: -600, nextAttempt: -60 };
    given({ sourced: { tags: { ...blocked, failedSourceVersion: 's1' } }, inline: { tags: blocked } });
    givenSourcedDocument(source);
    const issuerCalls = sirvFetch(401);

    const { code, stdout } = await run(['refresh', 'sourced', 'inline'], { fetch: issuerCalls.fetch });

    expect(code).toBe(EXIT_CODES.ok);
    expect(issuerCalls.calls()).toBe(0);
    expect(stdout.split('\n')).toEqual([
      'skipped   inline   blocked after InvalidCredentials (generation 7, expires in 4m): update its client credentials (pulumi up), or use --force to try anyway.',
      'skipped   sourced  blocked after InvalidCredentials (generation 7, expires in 4m): put the working client secret in the secret its clientSecretSource names (its AWSCURRENT version): the rotator looks at it again within an hour, and "token-rotator refresh --force sourced" asks the issuer at once.',
      '2 credentials: 0 refreshed, 2 skipped, 0 failed.',
      '',
    ]);
    expect(stdout).not.toContain(CLIENT_SECRET);
  });

  it('tells the owner of a client secret rejected from its clientSecretSource to mend the source, not to run pulumi up', async () => {
    const source = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:platform/sirv-AbCdEf';
    given({ sourced: { tags: due, record: dueRecord('sourced') } });
    givenSourcedDocument(source);

    const { code, stdout } = await run(['refresh', 'sourced'], { fetch: sirvFetch(401).fetch });

    expect(code).toBe(EXIT_CODES.refreshFailed);
    const line = stdout.split('\n')[0] ?? '';
    expect(line).toMatch(/^failed {4}sourced {2}InvalidCredentials: Credential "sourced": .*401/);
    expect(line).toContain(
      'Put the working client secret in the secret its clientSecretSource names (its AWSCURRENT version): the rotator looks at it again within an hour, and "token-rotator refresh --force sourced" asks the issuer at once.',
    );
    expect(line).not.toContain('pulumi up');
    expect(stdout).not.toContain(CLIENT_SECRET);
  });

  it('with --all --force refreshes every credential', async () => {
    given({ a: {}, b: { tags: { failures: 1, lastError: 'InvalidCredentials' } } });
    const { code } = await run(['refresh', '--all', '--force']);
    expect(code).toBe(0);
    expect(
      written()
        .map((r) => r.credential)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('exits 4 with a clear line when the issuer rejects the client, and records the failure in tags', async () => {
    given({ 'sirv-prod': { tags: due, record: dueRecord('sirv-prod') } });
    const { code, stdout } = await run(['refresh', 'sirv-prod'], { fetch: sirvFetch(401).fetch });
    expect(code).toBe(EXIT_CODES.refreshFailed);
    const line = stdout.split('\n')[0] ?? '';
    expect(line).toMatch(/^failed {4}sirv-prod {2}InvalidCredentials: Credential "sirv-prod": .*401/);
    expect(line).toContain('check clientId/clientSecret');
    expect(line).toContain('The rotator will not retry until the client credentials change (pulumi up).');
    expect(stdout).toContain('1 credential: 0 refreshed, 0 skipped, 1 failed.');
    expect(stdout).not.toContain(CLIENT_SECRET);
    const tags = secretsManager.commandCalls(TagResourceCommand).flatMap((c) => c.args[0].input.Tags ?? []);
    expect(tags).toContainEqual({ Key: TAG_KEYS.lastError, Value: 'InvalidCredentials' });
    expect(written()).toHaveLength(0);
  });

  it('reports a named credential that does not exist without trying it, and exits 4', async () => {
    given({ a: {} });
    const { code, stdout } = await run(['refresh', 'nope']);
    expect(code).toBe(EXIT_CODES.refreshFailed);
    expect(stdout).toContain(
      'failed    nope  NotFound: Credential "nope": no token secret "token-rotator/nope/token"; check the name and --prefix.',
    );
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('says of a named credential whose token secret was deleted by hand what to run, not to check the name', async () => {
    given({ a: {} });
    const [clientOnly] = listedCredential('gone');
    secretsManager.on(ListSecretsCommand).resolves({ SecretList: [...listedCredential('a'), clientOnly ?? {}] });
    const { code, stdout } = await run(['refresh', 'gone']);
    expect(code).toBe(EXIT_CODES.refreshFailed);
    expect(stdout).toContain(
      'failed    gone  NotFound: Credential "gone": its client secret is there but its token secret "token-rotator/gone/token" is not (deleted by hand?)',
    );
    expect(stdout).toContain('Run "pulumi refresh", then "pulumi up"');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('shows progress on a terminal stderr only, and always ends with the summary', async () => {
    given({ a: { tags: due, record: dueRecord('a') }, b: { tags: due, record: dueRecord('b') } });
    const tty = await run(['refresh', '--all'], { stderrTty: true });
    expect(tty.stderr).toContain('refreshing 0/2…');
    expect(tty.stderr).toContain('refreshing 2/2…');
    expect(tty.stderr.endsWith('\r\u001b[2K')).toBe(true);
    expect(tty.stdout.trim().split('\n').at(-1)).toBe('2 credentials: 2 refreshed, 0 skipped, 0 failed.');
    const piped = await run(['refresh', '--all']);
    expect(piped.stderr).toBe('');
  });

  it('starts nothing once interrupted and reports those credentials as not started (exit 4)', async () => {
    given({ a: { tags: due, record: dueRecord('a') } });
    const interrupt = new AbortController();
    interrupt.abort();
    const { code, stdout } = await run(['refresh', 'a'], { signal: interrupt.signal });
    expect(code).toBe(EXIT_CODES.refreshFailed);
    expect(stdout).toContain('deferred  a  not started: interrupted; run refresh again.');
    expect(written()).toHaveLength(0);
  });

  it('prints a JSON array of outcomes with --json, and the summary on stderr', async () => {
    given({ a: { tags: due, record: dueRecord('a') }, b: {} });
    const { code, stdout, stderr } = await run(['refresh', '--all', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      {
        credential: 'a',
        outcome: 'refreshed',
        generation: 8,
        expiresAt: '2026-01-01T12:20:00.000Z',
        refreshAfter: expect.any(String),
      },
      {
        credential: 'b',
        outcome: 'skipped',
        reason: 'not-due',
        generation: 7,
        refreshAfter: '2026-01-01T12:10:00.000Z',
        secondsToExpiry: 900,
        lastError: null,
        nextAttempt: null,
        clientSecretSource: false,
      },
    ]);
    expect(stderr).toBe('2 credentials: 1 refreshed, 1 skipped, 0 failed.\n');
  });

  it('exits 5 with what to check when --all finds no credential under the prefix, and 0 with --allow-empty', async () => {
    given({});
    const { code, stdout, stderr } = await run(['--prefix', 'typo/', 'refresh', '--all']);
    expect(code).toBe(EXIT_CODES.noCredentials);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'token-rotator: No credentials under prefix "typo/" in us-east-1: check --prefix (or TOKEN_ROTATOR_PREFIX) and the region (--region, AWS_REGION, AWS_PROFILE); pass --allow-empty when no credential is expected.\n',
    );
    const json = await run(['refresh', '--all', '--output', 'json']);
    expect(json.code).toBe(EXIT_CODES.noCredentials);
    expect(JSON.parse(json.stdout)).toEqual([]);
    const allowed = await run(['refresh', '--all', '--allow-empty']);
    expect(allowed.code).toBe(EXIT_CODES.ok);
    expect(allowed.stdout).toBe('No credentials under prefix "token-rotator/".\n');
    expect(allowed.stderr).toBe('');
  });

  it('reports the refresh time of a named credential it skips, from its listing', async () => {
    given({ 'sirv-prod': {} });
    const { code, stdout } = await run(['refresh', 'sirv-prod', '--output', 'json']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(stdout)).toEqual([
      {
        credential: 'sirv-prod',
        outcome: 'skipped',
        reason: 'not-due',
        generation: 7,
        refreshAfter: '2026-01-01T12:10:00.000Z',
        secondsToExpiry: 900,
        lastError: null,
        nextAttempt: null,
        clientSecretSource: false,
      },
    ]);
  });

  it('says the cause of a failure once: the message names it, the line adds what the rotator does', async () => {
    given({ 'sirv-prod': { tags: due, record: dueRecord('sirv-prod') } });
    const { stdout } = await run(['refresh', 'sirv-prod'], { fetch: sirvFetch(401).fetch });
    const line = stdout.split('\n')[0] ?? '';
    expect(line.match(/rejected the client credentials/g)).toHaveLength(1);
    expect(line).toContain('The rotator will not retry until the client credentials change (pulumi up).');
    const unavailable = await run(['refresh', 'sirv-prod', '--force'], { fetch: sirvFetch(503).fetch });
    const unavailableLine = unavailable.stdout.split('\n')[0] ?? '';
    expect(unavailableLine).toMatch(
      /^failed {4}sirv-prod {2}IssuerUnavailable: .*the issuer is unavailable, retry later\./,
    );
    expect(unavailableLine.match(/retr/g)).toHaveLength(1);
    expect(unavailableLine).toMatch(/The rotator tries again in \d+s\.$/);
  });
});

/**
 * Makes the mock enforce a write quota as Secrets Manager does (PutSecretValue, TagResource and
 * UntagResource share it): a write past `perSecond` in the last second of `clock` is throttled.
 */
function enforceWriteQuota(perSecond: number, clock: () => number): { throttled: () => number } {
  const writes: number[] = [];
  let throttled = 0;
  const admit = () => {
    const now = clock();
    if (writes.filter((w) => w > now - 1000).length >= perSecond) {
      throttled += 1;
      throw Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    }
    writes.push(now);
  };
  secretsManager.on(PutSecretValueCommand).callsFake((input) => {
    admit();
    return { ARN: 'arn', VersionId: input.ClientRequestToken };
  });
  secretsManager.on(TagResourceCommand).callsFake(() => {
    admit();
    return {};
  });
  secretsManager.on(UntagResourceCommand).callsFake(() => {
    admit();
    return {};
  });
  return { throttled: () => throttled };
}

/**
 * Simulated time for concurrent sleepers: a sleep ends when the clock reaches its wake time, and
 * the clock moves to the earliest wake only once everything else has run (a macrotask later), so
 * work in flight sees the time it would see on a real clock, without the real wait.
 */
function simulatedTime(startMs: number) {
  let ms = startMs;
  const sleepers: { wake: number; resolve: () => void }[] = [];
  let pending = false;
  const wakeNext = () => {
    if (pending || sleepers.length === 0) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      sleepers.sort((a, b) => a.wake - b.wake);
      const next = sleepers.shift();
      if (next) {
        ms = Math.max(ms, next.wake);
        next.resolve();
      }
      wakeNext();
    });
  };
  return {
    ms: () => ms,
    seams: (): RunOptions => ({
      now: () => new Date(ms),
      sleep: (wait: number) =>
        new Promise<void>((resolve) => {
          sleepers.push({ wake: ms + wait, resolve });
          wakeNext();
        }),
    }),
  };
}

describe('refresh in-process write pacing', () => {
  let time = simulatedTime(NOW.getTime());
  const t = () => time.ms();
  // One attempt per call: the quota is what is tested, not the SDK's retries of a throttled write.
  const once = () => new SecretsManagerClient({ region: 'us-east-1', credentials, maxAttempts: 1 });
  beforeEach(() => {
    time = simulatedTime(NOW.getTime());
  });

  // As the provider leaves them: client-version tagged, legacy refresh-after/expiry tags to remove
  // (each refresh is a PutSecretValue and an UntagResource).
  // Each has a failure on record: its refresh is a put and an untag, two writes.
  const listed = { ...due, clientVersion: 'client-v1', failures: 1, lastError: 'IssuerUnavailable' };

  it('keeps --all --force --concurrency 64 under the account write quota, as the rotator does', async () => {
    const fleet: Record<string, { tags: TagState; record: TokenRecord }> = {};
    for (let i = 0; i < 150; i++) {
      const name = `c${String(i).padStart(3, '0')}`;
      fleet[name] = { tags: listed, record: dueRecord(name) };
    }
    given(fleet);
    const quota = enforceWriteQuota(50, t);
    const { code, stdout } = await run(['refresh', '--all', '--force', '--concurrency', '64'], {
      ...time.seams(),
      secretsManager: once,
    });
    expect(quota.throttled()).toBe(0);
    expect(stdout.trim().split('\n').at(-1)).toBe('150 credentials: 150 refreshed, 0 skipped, 0 failed.');
    expect(code).toBe(EXIT_CODES.ok);
    expect(written()).toHaveLength(150);
    // 150 refreshes on a shared, loaded CPU: the time limit is not what is tested.
  }, 60_000);

  it('paces at --writes-per-second, counting tag calls as writes', async () => {
    const fleet: Record<string, { tags: TagState; record: TokenRecord }> = {};
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) fleet[name] = { tags: listed, record: dueRecord(name) };
    given(fleet);
    const quota = enforceWriteQuota(2, t);
    const { code, stdout } = await run(
      ['refresh', '--all', '--force', '--concurrency', '6', '--writes-per-second', '2'],
      { ...time.seams(), secretsManager: once },
    );
    expect(quota.throttled()).toBe(0);
    expect(stdout.trim().split('\n').at(-1)).toBe('6 credentials: 6 refreshed, 0 skipped, 0 failed.');
    expect(code).toBe(EXIT_CODES.ok);
    const writes =
      secretsManager.commandCalls(PutSecretValueCommand).length +
      secretsManager.commandCalls(TagResourceCommand).length +
      secretsManager.commandCalls(UntagResourceCommand).length;
    expect(writes).toBe(12);
    // At 2 a second the last of them starts no sooner than (writes - 1) / 2 seconds in.
    expect(t() - NOW.getTime()).toBeGreaterThanOrEqual(((writes - 1) / 2) * 1000);
  });

  it('refuses a --writes-per-second TokenRotator would refuse, naming the option', async () => {
    for (const bad of ['0', '-1', '51', 'abc', '', 'Infinity', 'NaN']) {
      const { code, stderr } = await run(['refresh', '--all', '--writes-per-second', bad]);
      expect(code, bad).toBe(EXIT_CODES.usage);
      expect(stderr, bad).toContain("option '--writes-per-second <n>' argument");
      expect(stderr, bad).toContain('expected a number above 0 and at most 50');
    }
    given({});
    for (const good of ['50', '0.5']) {
      expect((await run(['refresh', '--all', '--allow-empty', '--writes-per-second', good])).code, good).toBe(
        EXIT_CODES.ok,
      );
    }
  });
});

describe('refresh --function', () => {
  const answer = (body: unknown, extra: Record<string, unknown> = {}) => ({
    StatusCode: 200,
    Payload: new TextEncoder().encode(JSON.stringify(body)) as never,
    ...extra,
  });

  it('invokes the rotator synchronously with the targeted event and prints its per-credential results', async () => {
    lambda.on(InvokeCommand).resolves(
      answer({
        results: [
          {
            credential: 'a',
            ok: true,
            generation: 4,
            expiresAt: '2026-01-01T12:20:00.000Z',
            refreshAfter: '2026-01-01T12:15:00.000Z',
            secondsToExpiry: 1200,
          },
          {
            credential: 'b',
            ok: true,
            skipped: 'not-due',
            generation: 9,
            expiresAt: '2026-01-01T12:13:20.000Z',
            refreshAfter: '2026-01-01T12:10:00.000Z',
            secondsToExpiry: 800,
          },
          {
            credential: 'c',
            ok: false,
            error: { code: 'IssuerUnavailable', message: 'Credential "c": the issuer answered 503.', transient: true },
            nextAttempt: '2026-01-01T12:02:00.000Z',
          },
        ],
      }),
    );
    const { code, stdout } = await run(['refresh', 'a', 'b', 'c', '--function', 'token-rotator-prod']);
    expect(code).toBe(EXIT_CODES.refreshFailed);
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.FunctionName).toBe('token-rotator-prod');
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({
      credentials: ['a', 'b', 'c'],
      force: false,
    });
    expect(secretsManager.calls()).toHaveLength(0);
    expect(stdout.split('\n')).toEqual([
      'ok        a  generation 4, expires in 20m (2026-01-01T12:20:00.000Z)',
      'skipped   b  not due: refresh after in 10m (generation 9, expires in 13m 20s). Use --force to refresh now.',
      'failed    c  IssuerUnavailable: Credential "c": the issuer answered 503. The rotator tries again in 2m.',
      '3 credentials: 1 refreshed, 1 skipped, 1 failed.',
      '',
    ]);
  });

  it('sends force and, with --all, the due credentials listed from tags', async () => {
    given({ a: {}, b: { tags: due } });
    lambda.on(InvokeCommand).callsFake((input) => {
      const event = JSON.parse(new TextDecoder().decode(input.Payload));
      return answer({
        results: event.credentials.map((credential: string) => ({
          credential,
          ok: true,
          generation: 2,
          expiresAt: '2026-01-01T12:20:00.000Z',
          refreshAfter: '2026-01-01T12:15:00.000Z',
          secondsToExpiry: 1200,
        })),
      });
    });
    const dueOnly = await run(['refresh', '--all', '--function', 'fn']);
    expect(dueOnly.code).toBe(0);
    const forced = await run(['refresh', '--all', '--force', '--function', 'fn']);
    expect(forced.code).toBe(0);
    const events = lambda
      .commandCalls(InvokeCommand)
      .map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Payload as Uint8Array)));
    expect(events).toEqual([
      { credentials: ['b'], force: false },
      { credentials: ['a', 'b'], force: true },
    ]);
  });

  it('splits many credentials into invocations of 20, what the request entry point takes', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    lambda.on(InvokeCommand).callsFake((input) => {
      const event = JSON.parse(new TextDecoder().decode(input.Payload));
      return answer({
        results: event.credentials.map((credential: string) => ({
          credential,
          ok: true,
          skipped: 'not-due',
          generation: 1,
          expiresAt: '2026-01-01T12:15:00.000Z',
          refreshAfter: '2026-01-01T12:10:00.000Z',
          secondsToExpiry: 900,
        })),
      });
    });
    const { code, stdout } = await run(['refresh', ...names, '--function', 'fn']);
    expect(code).toBe(0);
    expect(
      lambda
        .commandCalls(InvokeCommand)
        .map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Payload as Uint8Array)).credentials.length),
    ).toEqual([20, 20, 20, 20, 20, 20]);
    expect(stdout).toContain('120 credentials: 0 refreshed, 120 skipped, 0 failed.');
  });

  it('exits 2 with one line when the function reports an error', async () => {
    lambda
      .on(InvokeCommand)
      .resolves(
        answer(
          { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 30.00 seconds' },
          { FunctionError: 'Unhandled' },
        ),
      );
    const { code, stderr } = await run(['refresh', 'a', '--function', 'fn']);
    expect(code).toBe(EXIT_CODES.aws);
    expect(stderr).toBe(
      'token-rotator: The rotator "fn" failed (Sandbox.Timedout: Task timed out after 30.00 seconds) refreshing a. Check its logs in CloudWatch.\n',
    );
  });

  it('redacts what a failed function echoes: an unexpected error may quote a secret', async () => {
    lambda
      .on(InvokeCommand)
      .resolves(
        answer(
          { errorType: 'SyntaxError', errorMessage: `Unexpected token in JSON: {"clientSecret":"${CLIENT_SECRET}"}` },
          { FunctionError: 'Unhandled' },
        ),
      );
    const { code, stderr } = await run(['refresh', 'a', '--function', 'fn']);
    expect(code).toBe(EXIT_CODES.aws);
    expect(stderr).toContain('SyntaxError: Unexpected token in JSON');
    expect(stderr).not.toContain(CLIENT_SECRET);
  });

  it('exits 2 when the answer is not a targeted-refresh answer', async () => {
    lambda.on(InvokeCommand).resolves(answer({ listed: 3 }));
    const { code, stderr } = await run(['refresh', 'a', '--function', 'fn']);
    expect(code).toBe(EXIT_CODES.aws);
    expect(stderr).toContain('answered with something other than {"results": [...]}');
  });

  it('exits 2 naming the function when it cannot be invoked, and says nothing else', async () => {
    lambda
      .on(InvokeCommand)
      .rejects(new LambdaNotFound({ message: 'Function not found: fn', $metadata: { httpStatusCode: 404 } }));
    const { code, stdout, stderr } = await run(['refresh', 'a', '--function', 'fn']);
    expect(code).toBe(EXIT_CODES.aws);
    // Nothing was started: no "deferred … run refresh again" line, no summary, only the failure.
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'token-rotator: Invoking the rotator "fn" failed with ResourceNotFoundException (HTTP 404): Function not found: fn. Check --function, --region and your permission to call lambda:InvokeFunction on it.\n',
    );
  });

  it('still reports the batches done, the rest as not started, and the summary when a later invocation fails', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    lambda
      .on(InvokeCommand)
      .resolvesOnce(
        answer({
          results: names.slice(0, 20).map((credential) => ({
            credential,
            ok: true,
            skipped: 'not-due',
            generation: 1,
            expiresAt: '2026-01-01T12:15:00.000Z',
            refreshAfter: '2026-01-01T12:10:00.000Z',
            secondsToExpiry: 900,
          })),
        }),
      )
      .rejects(new LambdaNotFound({ message: 'Function not found: fn', $metadata: { httpStatusCode: 404 } }));
    const { code, stdout, stderr } = await run(['refresh', ...names, '--function', 'fn']);
    expect(code).toBe(EXIT_CODES.aws);
    expect(stdout).toContain('deferred  c59  not started: the call to the rotator failed (the error follows).');
    expect(stdout).not.toContain('run refresh again');
    expect(stdout.trim().split('\n').at(-1)).toBe('60 credentials: 0 refreshed, 20 skipped, 0 failed, 40 not started.');
    expect(stderr).toContain('Invoking the rotator "fn" failed with ResourceNotFoundException');
  });

  it('counts credentials the answer left out as not started', async () => {
    lambda.on(InvokeCommand).resolves(answer({ results: [] }));
    const { code, stdout } = await run(['refresh', 'a', '--function', 'fn']);
    expect(code).toBe(EXIT_CODES.refreshFailed);
    expect(stdout).toContain('deferred  a  not started: the rotator ran short of time; run refresh again.');
  });

  it('lists a JSON outcome for each credential the failed call left undone', async () => {
    lambda
      .on(InvokeCommand)
      .rejects(new LambdaNotFound({ message: 'Function not found: fn', $metadata: { httpStatusCode: 404 } }));
    const { code, stdout } = await run(['refresh', 'a', 'b', '--function', 'fn', '--output', 'json']);
    expect(code).toBe(EXIT_CODES.aws);
    expect(JSON.parse(stdout)).toEqual([
      { credential: 'a', outcome: 'deferred', reason: 'call-failed' },
      { credential: 'b', outcome: 'deferred', reason: 'call-failed' },
    ]);
  });
});

describe('refresh result lines', () => {
  it('colour the label only, and only when asked', () => {
    const outcome = { credential: 'a', outcome: 'deferred', reason: 'interrupted' } as const;
    expect(outcomeLine(outcome, NOW, palette(true)).startsWith('\u001b[33mdeferred\u001b[39m  a ')).toBe(true);
    expect(outcomeLine(outcome, NOW, palette(false))).toMatch(/^deferred {2}a /);
  });

  it('tell of a throttled (transient) store failure that it is retried, and send only a permanent one to the configuration', () => {
    const failed = (transient: boolean, awsError: string) =>
      outcomeLine(
        {
          credential: 'c050',
          outcome: 'failed',
          error: {
            code: 'StoreError',
            message: `Credential "c050": Secrets Manager PutSecretValue failed with ${awsError} (HTTP 400): refused`,
            transient,
          },
          nextAttempt: transient ? '2026-01-01T12:00:30.000Z' : null,
        },
        NOW,
        palette(false),
      );
    const throttled = failed(true, 'ThrottlingException');
    expect(throttled).toContain(
      'Transient (throttled, or Secrets Manager unavailable): the rotator retries it, or run refresh again later. The rotator tries again in 30s.',
    );
    expect(throttled).not.toContain('Check the AWS credentials');
    expect(failed(false, 'AccessDeniedException')).toContain(
      'Check the AWS credentials, region, permissions and --prefix.',
    );
  });

  it("tell from the rotator's answer alone (no listing, as sweep and --function have it) that a held credential's source is to mend", () => {
    const held = {
      credential: 'sourced',
      ok: true as const,
      skipped: 'blocked' as const,
      generation: 7,
      expiresAt: '2026-01-01T12:04:00.000Z',
      refreshAfter: '2026-01-01T11:59:00.000Z',
      secondsToExpiry: 240,
      nextAttempt: '2026-01-01T12:05:00.000Z',
    };
    expect(outcomeLine(outcomeOf(held, 'next-sweep'), NOW, palette(false))).toBe(
      'skipped   sourced  blocked after a rejected client secret (generation 7, expires in 4m): put the working client secret in the secret its clientSecretSource names (its AWSCURRENT version): the rotator looks at it again within an hour, and "token-rotator refresh --force sourced" asks the issuer at once.',
    );
    // Without a next look, a blocked credential keeps the advice for a client document.
    const { nextAttempt: _none, ...inline } = held;
    expect(outcomeLine(outcomeOf({ ...inline, credential: 'inline' }, 'next-sweep'), NOW, palette(false))).toBe(
      'skipped   inline  blocked after a permanent failure (generation 7, expires in 4m): update its client credentials (pulumi up), or use --force to try anyway.',
    );
  });

  it('summarise singular and plural counts', () => {
    expect(summaryLine([])).toBe('0 credentials: 0 refreshed, 0 skipped, 0 failed.');
    expect(summaryLine([{ credential: 'a', outcome: 'deferred', reason: 'interrupted' }])).toBe(
      '1 credential: 0 refreshed, 0 skipped, 0 failed, 1 not started.',
    );
  });
});
