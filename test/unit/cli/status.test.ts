import {
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceNotFoundException,
  type SecretListEntry,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialStatus } from '../../../cli/credential-status';
import { EXIT_CODES } from '../../../cli/exit-codes';
import { renderStatusTable, terminalRows } from '../../../cli/status-report';
import { palette } from '../../../cli/terminal';
import type { TokenRecord } from '../../../core/token';
import { type RunOptions, runCommand } from '../../helpers/cli';
import { ACCESS_TOKEN, ARN, at, listedCredential, NOW, type TagState, tokenRecord } from './fixtures';

const secretsManager = mockClient(SecretsManagerClient);
const client = () =>
  new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const run = (argv: string[], options: RunOptions = {}) =>
  runCommand(argv, { now: () => NOW, secretsManager: client, ...options });

/** Stores credentials in the mock: their tag state and, unless `null`, their token record. */
function given(credentials: Record<string, { tags?: TagState; record?: TokenRecord | null }>) {
  const list: SecretListEntry[] = [];
  for (const [name, c] of Object.entries(credentials)) {
    list.push(...listedCredential(name, c.tags));
    const secretId = `token-rotator/${name}/token`;
    if (c.record === null)
      secretsManager.on(GetSecretValueCommand, { SecretId: secretId }).resolves({ SecretString: '{"version":1}' });
    else {
      secretsManager
        .on(GetSecretValueCommand, { SecretId: secretId })
        .resolves({ SecretString: JSON.stringify(c.record ?? tokenRecord(name)) });
    }
  }
  secretsManager.on(ListSecretsCommand).resolves({ SecretList: list });
}

beforeEach(() => secretsManager.reset());
afterEach(() => secretsManager.reset());

describe('status --json', () => {
  it('prints one object per credential with the documented fields, sorted by name, and exits 0 when all are ok', async () => {
    given({ 'sirv-prod': {}, 'aspose-prod': { record: tokenRecord('aspose-prod', { generation: 3 }) } });
    const { code, stdout, stderr } = await run(['status', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT_CODES.ok);
    const rows = JSON.parse(stdout);
    expect(rows).toEqual([
      {
        credential: 'aspose-prod',
        state: 'ok',
        issuer: 'sirv',
        expiresAt: '2026-01-01T12:15:00.000Z',
        secondsToExpiry: 900,
        refreshAfter: '2026-01-01T12:10:00.000Z',
        failures: 0,
        lastError: null,
        nextAttempt: null,
        generation: 3,
        tokenSecretArn: ARN('token-rotator/aspose-prod/token'),
      },
      expect.objectContaining({ credential: 'sirv-prod', state: 'ok', generation: 7 }),
    ]);
    expect(Object.keys(rows[1])).toEqual(Object.keys(rows[0]));
  });

  it('never prints the access token', async () => {
    given({ 'sirv-prod': {} });
    const { stdout, stderr } = await run(['status', '--json']);
    const table = await run(['status']);
    for (const text of [stdout, stderr, table.stdout, table.stderr]) expect(text).not.toContain(ACCESS_TOKEN);
  });

  it('with --no-values reads no secret value and leaves issuer and generation null', async () => {
    given({ 'sirv-prod': {} });
    const { code, stdout } = await run(['status', '--json', '--no-values']);
    expect(code).toBe(0);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(JSON.parse(stdout)[0]).toMatchObject({
      credential: 'sirv-prod',
      issuer: null,
      generation: null,
      expiresAt: at(900).toISOString(),
      refreshAfter: at(600).toISOString(),
    });
  });

  it('prints an empty array and exits 5 when no credential is under the prefix, 0 with --allow-empty', async () => {
    given({});
    const { code, stdout, stderr } = await run(['status', '--json']);
    expect(code).toBe(EXIT_CODES.noCredentials);
    expect(JSON.parse(stdout)).toEqual([]);
    expect(stderr).toContain('No credentials under prefix "token-rotator/" in us-east-1: check --prefix');
    const allowed = await run(['status', '--json', '--allow-empty']);
    expect(allowed.code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(allowed.stdout)).toEqual([]);
    expect(allowed.stderr).toBe('');
  });

  it('is the same with --output json as with --json', async () => {
    given({ 'sirv-prod': {} });
    const long = await run(['status', '--output', 'json']);
    const short = await run(['status', '-o', 'json']);
    const alias = await run(['status', '--json']);
    expect(long.code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(long.stdout)).toEqual(JSON.parse(alias.stdout));
    expect(short.stdout).toBe(long.stdout);
  });

  it('lists a credential whose token secret was deleted by hand as no-token, says what to run, and exits 3', async () => {
    given({ healthy: {} });
    const [clientOnly] = listedCredential('gone');
    secretsManager.on(ListSecretsCommand).resolves({ SecretList: [...listedCredential('healthy'), clientOnly ?? {}] });
    const { code, stdout, stderr } = await run(['status', '--json']);
    expect(code).toBe(EXIT_CODES.unhealthy);
    expect(JSON.parse(stdout).map((r: { credential: string; state: string }) => [r.credential, r.state])).toEqual([
      ['gone', 'no-token'],
      ['healthy', 'ok'],
    ]);
    expect(stderr).toBe(
      'token-rotator: Credential "gone": its client secret is there but its token secret "token-rotator/gone/token" is not (deleted by hand?), so workloads have no token to read and the rotator cannot refresh it. Run "pulumi refresh", then "pulumi up", in the stack that declares it: that recreates the token secret.\n',
    );
    expect(secretsManager.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      'token-rotator/healthy/token',
    ]);
    const named = await run(['status', 'gone', '--json']);
    expect(named.code).toBe(EXIT_CODES.unhealthy);
    expect(JSON.parse(named.stdout)[0].state).toBe('no-token');
  });

  it.each([
    ['expired', { record: tokenRecord('c', { expiresAt: -60, refreshAfter: -300 }) }],
    ['blocked', { tags: { failures: 1, lastError: 'InvalidCredentials', failedAt: -30 } }],
    ['blocked', { tags: { failures: 1, lastError: 'InvalidConfiguration', failedAt: -30 } }],
    ['failing', { tags: { failures: 2, lastError: 'IssuerUnavailable', nextAttempt: 120 } }],
    ['unreadable', { record: null }],
  ] as const)('reports a %s credential and exits 3', async (state, credential) => {
    given({ c: credential, healthy: {} });
    const { code, stdout } = await run(['status', '--json']);
    expect(code).toBe(EXIT_CODES.unhealthy);
    expect(JSON.parse(stdout).find((r: { credential: string }) => r.credential === 'c').state).toBe(state);
  });

  it('shows only the named credentials, reports a missing one on stderr and exits 3', async () => {
    given({ a: {}, b: {} });
    const { code, stdout, stderr } = await run(['status', 'b', 'nope', '--json']);
    expect(code).toBe(EXIT_CODES.unhealthy);
    expect(JSON.parse(stdout).map((r: { credential: string; state: string }) => [r.credential, r.state])).toEqual([
      ['b', 'ok'],
      ['nope', 'missing'],
    ]);
    expect(stderr).toBe(
      'token-rotator: Credential "nope": no token secret "token-rotator/nope/token"; check the name and --prefix.\n',
    );
  });

  it('exits 2 and suggests --no-values when a token record cannot be read for lack of permission', async () => {
    given({ a: {} });
    secretsManager.on(GetSecretValueCommand).rejects(
      Object.assign(new Error('not authorized to perform secretsmanager:GetSecretValue'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const { code, stderr } = await run(['status', '--json']);
    expect(code).toBe(EXIT_CODES.aws);
    expect(stderr).toContain('Credential "a": Secrets Manager GetSecretValue failed with AccessDeniedException');
    expect(stderr).toContain('Or use --no-values to list from tags only.');
  });

  it('treats a token secret that vanished after listing as unreadable', async () => {
    given({ a: {} });
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: { httpStatusCode: 400 } }));
    const { code, stdout } = await run(['status', '--json']);
    expect(code).toBe(EXIT_CODES.unhealthy);
    expect(JSON.parse(stdout)[0].state).toBe('unreadable');
  });
});

describe('status of a rotation that does not happen', () => {
  // Two schedule intervals of the default 60 s: a refresh more than 120 s late is overdue.
  const late = (seconds: number, name: string) => ({
    tags: { refreshAfter: -seconds, expiresAt: 900 },
    record: tokenRecord(name, { refreshAfter: -seconds, expiresAt: 900 }),
  });

  it('reports a token whose refresh is more than two intervals late as overdue, and exits 6', async () => {
    given({ late: late(121, 'late'), fresh: {} });
    const { code, stdout, stderr } = await run(['status', '--json']);
    expect(code).toBe(EXIT_CODES.overdue);
    expect(JSON.parse(stdout).map((r: { credential: string; state: string }) => [r.credential, r.state])).toEqual([
      ['fresh', 'ok'],
      ['late', 'overdue'],
    ]);
    // One late token among fresh ones: a rotator runs, it is just behind on this one.
    expect(stderr).toBe('');
  });

  it('does not call a refresh overdue at exactly two intervals', async () => {
    given({ late: late(120, 'late') });
    const { code, stdout } = await run(['status', '--json']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(stdout)[0].state).toBe('ok');
  });

  it('says that no rotator seems to serve the prefix when every token is overdue, expired ones included', async () => {
    given({
      a: late(600, 'a'),
      b: {
        tags: { refreshAfter: -900, expiresAt: -60 },
        record: tokenRecord('b', { refreshAfter: -900, expiresAt: -60 }),
      },
      blocked: { tags: { failures: 1, lastError: 'InvalidCredentials', failedAt: -30 } },
    });
    const { code, stdout, stderr } = await run(['status']);
    expect(code).toBe(EXIT_CODES.unhealthy);
    expect(stdout).toMatch(/^a +overdue /m);
    expect(stdout).toMatch(/^b +expired /m);
    expect(stderr).toBe(
      'token-rotator: No rotator seems to serve prefix "token-rotator/": the refresh of every token is overdue by more than 2 schedule intervals (2m). Deploy a TokenRotator for this prefix or check that its schedule is enabled, or run "token-rotator sweep" on a schedule; if the rotator runs less often, pass its interval with --schedule-interval.\n',
    );
    for (const text of [stdout, stderr]) expect(text).not.toContain(ACCESS_TOKEN);
  });

  it('judges lateness against --schedule-interval', async () => {
    given({ a: late(600, 'a') });
    const hourly = await run(['status', '--json', '--schedule-interval', '3600']);
    expect(hourly.code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(hourly.stdout)[0].state).toBe('ok');
    const fiveMinutes = await run(['status', '--json', '--schedule-interval', '299']);
    expect(fiveMinutes.code).toBe(EXIT_CODES.overdue);
  });

  it.each(['59', '86401', '1.5', 'hourly'])('refuses --schedule-interval %s with exit 1', async (value) => {
    const { code, stderr } = await run(['status', '--schedule-interval', value]);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain("expected the rotator's schedule interval in whole seconds, from 60 to 86400");
  });

  it('leaves a failing credential failing however late, and takes its failures as a sign of a rotator', async () => {
    given({
      failing: {
        tags: { refreshAfter: -900, expiresAt: 300, failures: 3, lastError: 'IssuerUnavailable', nextAttempt: 60 },
      },
    });
    const { code, stdout, stderr } = await run(['status', '--json', '--no-values']);
    expect(code).toBe(EXIT_CODES.unhealthy);
    expect(JSON.parse(stdout)[0].state).toBe('failing');
    // Failure tags are written by whoever tried: they are no sign of a missing rotator.
    expect(stderr).toBe('');
  });
});

describe('status table', () => {
  it('prints a fixed-width table with human durations and no colour when stdout is not a terminal', async () => {
    given({
      'sirv-prod': { record: tokenRecord('sirv-prod', { expiresAt: 843, refreshAfter: 543, generation: 42 }) },
      'aspose-prod': {
        tags: { failures: 1, lastError: 'InvalidCredentials', failedAt: -30 },
        record: tokenRecord('aspose-prod', { expiresAt: -120, refreshAfter: -400, generation: 3 }),
      },
    });
    const { code, stdout } = await run(['status']);
    expect(code).toBe(EXIT_CODES.unhealthy);
    expect(stdout).not.toContain('\u001b[');
    expect(stdout).toBe(
      [
        'CREDENTIAL   STATE    ISSUER  EXPIRES         REFRESH AFTER  FAILURES  LAST ERROR          GENERATION',
        'aspose-prod  expired  sirv    expired 2m ago  6m 40s ago            1  InvalidCredentials           3',
        'sirv-prod    ok       sirv    in 14m 3s       in 9m 3s              0  -                           42',
        '',
      ].join('\n'),
    );
  });

  it('colours states on a terminal, and not when NO_COLOR is set', async () => {
    given({ a: { tags: { failures: 1, lastError: 'InvalidCredentials' } } });
    const coloured = await run(['status'], { tty: true });
    expect(coloured.stdout).toContain('\u001b[31mblocked\u001b[39m');
    const plain = await run(['status'], { tty: true, env: { NO_COLOR: '1' } });
    expect(plain.stdout).not.toContain('\u001b[');
  });

  it('says once, on stderr, what to check when there are no credentials under the prefix', async () => {
    given({});
    const { code, stdout, stderr } = await run(['--prefix', 'tpyo/', 'status']);
    expect(code).toBe(EXIT_CODES.noCredentials);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'token-rotator: No credentials under prefix "tpyo/" in us-east-1: check --prefix (or TOKEN_ROTATOR_PREFIX) and the region (--region, AWS_REGION, AWS_PROFILE); pass --allow-empty when no credential is expected.\n',
    );
    const allowed = await run(['status', '--allow-empty']);
    expect(allowed.code).toBe(EXIT_CODES.ok);
    expect(allowed.stdout).toBe('No credentials under prefix "token-rotator/".\n');
  });

  it('renders "-" for what is unknown without values', () => {
    const status = credentialStatus(
      {
        name: 'a',
        listing: { name: 'a', tokenSecretArn: 'arn', failures: 0, expiresAt: at(60), refreshAfter: at(30) },
      },
      NOW,
    );
    expect(renderStatusTable([status], NOW, palette(false))[1]).toBe(
      'a           ok     -       in 1m    in 30s                0  -                    -',
    );
  });
});

describe('status --watch', () => {
  it('redraws in place on a terminal, sleeping between rounds, until the iteration bound', async () => {
    given({ a: {} });
    const sleeps: number[] = [];
    const { code, stdout } = await run(['status', '--watch', '5'], {
      tty: true,
      env: { NO_COLOR: '1' },
      watchMaxIterations: 3,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(code).toBe(0);
    expect(sleeps).toEqual([5000, 5000]);
    const frames = stdout.split('\u001b[3F\u001b[0J');
    expect(frames).toHaveLength(3);
    for (const frame of frames) {
      expect(frame).toMatch(/^Every 5s · 2026-01-01T12:00:00Z · Ctrl-C to stop\nCREDENTIAL/);
    }
  });

  it('counts the rows of wrapped lines when moving back over the previous frame', () => {
    expect(terminalRows(['x'.repeat(120), '', 'y'.repeat(121)], 120)).toBe(4);
    expect(terminalRows([`\u001b[31m${'x'.repeat(120)}\u001b[39m`], 120)).toBe(1);
    expect(terminalRows(['x'.repeat(500)], undefined)).toBe(1);
  });

  it('stops when interrupted, with the exit code of the last round', async () => {
    given({ a: { tags: { failures: 1, lastError: 'IssuerUnavailable' } } });
    const interrupt = new AbortController();
    let rounds = 0;
    const { code, stdout } = await run(['status', '--watch', '1', '--json'], {
      watchMaxIterations: 100,
      signal: interrupt.signal,
      sleep: async () => {
        rounds += 1;
        if (rounds === 2) interrupt.abort();
      },
    });
    expect(code).toBe(EXIT_CODES.unhealthy);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(JSON.parse(line)[0]).toMatchObject({ credential: 'a', state: 'failing' });
  });

  it('keeps watching through a failed round and shows the error in place of the table', async () => {
    given({ a: {} });
    secretsManager
      .on(ListSecretsCommand)
      .rejectsOnce(
        Object.assign(new Error('slow down'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .resolves({ SecretList: listedCredential('a') });
    const { code, stdout } = await run(['status', '--watch', '2'], { watchMaxIterations: 2, sleep: async () => {} });
    expect(code).toBe(0);
    expect(stdout).toContain('Secrets Manager ListSecrets failed with ThrottlingException');
    expect(stdout).toContain('\n\nEvery 2s');
    expect(stdout).toContain('a           ok');
  });
});
