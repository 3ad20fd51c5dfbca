/**
 * The `token-rotator` command against moto (the globalSetup's server, reached through the
 * standard AWS_ENDPOINT_URL only) and the Sirv contract fake: status and refresh in-process,
 * refresh through a mocked rotator Lambda, and the compiled bin as a child process.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../cli/exit-codes';
import { createCredentialSecrets, deleteCredentialSecrets, readToken, type SecretStore } from '../../core/store';
import type { TokenRecord } from '../../core/token';
import { SIRV_SEED_CLIENT, type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { motoEndpoint, secretsManagerClient } from '../helpers/aws';
import { type RunOptions, runCommand } from '../helpers/cli';
import { tokenRecord } from '../helpers/token-record';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..');
const PLANTED_TOKEN = `planted-access-token-${randomUUID()}`;
const client = secretsManagerClient();
const created: { store: SecretStore; name: string }[] = [];
let sirv: SirvFake;

/** A prefix of its own for each test: the moto server is shared with other files. */
const freshPrefix = () => `cli-it-${randomUUID().slice(0, 8)}/`;

/** A token record issued `age` seconds ago that is due in `dueIn` seconds and lives 1200 s. */
function record(name: string, options: { dueIn: number; generation?: number; age?: number }): TokenRecord {
  const age = options.age ?? 300;
  return tokenRecord(
    name,
    { at: Date.now(), issued: -age, refresh: options.dueIn, expires: 1200 - age },
    { accessToken: PLANTED_TOKEN, generation: options.generation ?? 1 },
  );
}

async function givenCredential(prefix: string, name: string, token: TokenRecord): Promise<void> {
  const store = { client, prefix };
  await createCredentialSecrets(store, {
    name,
    clientDocument: {
      version: 1,
      issuer: { kind: 'sirv', url: sirv.tokenUrl, allowInsecureHttp: true, ...SIRV_SEED_CLIENT },
      policy: {},
    },
    token,
  });
  created.push({ store, name });
}

const run = (argv: string[], options: RunOptions = {}) => runCommand(argv, { env: {}, ...options });

beforeAll(async () => {
  motoEndpoint();
  sirv = await startSirvFake();
});

afterAll(async () => {
  await Promise.allSettled(
    created.map(({ store, name }) => deleteCredentialSecrets(store, name, { forceDeleteWithoutRecovery: true })),
  );
  await sirv?.close();
});

describe('token-rotator status against moto', () => {
  it('lists every credential with its fields and never prints the token or the client secret', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'sirv-a', record('sirv-a', { dueIn: 600, generation: 4 }));
    await givenCredential(prefix, 'sirv-b', record('sirv-b', { dueIn: 700 }));
    const { code, stdout, stderr } = await run(['--prefix', prefix, 'status', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT_CODES.ok);
    const rows = JSON.parse(stdout);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({
      credential: 'sirv-a',
      state: 'ok',
      issuer: 'sirv',
      expiresAt: expect.stringMatching(/Z$/),
      secondsToExpiry: expect.any(Number),
      refreshAfter: expect.stringMatching(/Z$/),
      failures: 0,
      lastError: null,
      nextAttempt: null,
      generation: 4,
      tokenSecretArn: expect.stringContaining(`:secret:${prefix}sirv-a/token`),
    });
    expect(rows[0].secondsToExpiry).toBeGreaterThan(800);
    expect(rows[1]).toMatchObject({ credential: 'sirv-b', state: 'ok', generation: 1 });
    const table = await run(['--prefix', prefix, 'status']);
    for (const text of [stdout, table.stdout, table.stderr]) {
      expect(text).not.toContain(PLANTED_TOKEN);
      expect(text).not.toContain(SIRV_SEED_CLIENT.clientSecret);
    }
    expect(table.stdout).toMatch(/^CREDENTIAL +STATE +ISSUER +EXPIRES/);
  });

  it('exits 3 when a token has expired (frozen clock)', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'sirv-a', record('sirv-a', { dueIn: 600 }));
    const later = new Date(Date.now() + 3 * 3600 * 1000);
    const { code, stdout } = await run(['--prefix', prefix, 'status', '--json'], { now: () => later });
    expect(code).toBe(EXIT_CODES.unhealthy);
    expect(JSON.parse(stdout)[0]).toMatchObject({ state: 'expired' });
    const table = await run(['--prefix', prefix, 'status'], { now: () => later });
    expect(table.stdout).toMatch(/sirv-a +expired +sirv +expired 2h \d+m ago/);
  });
});

describe('token-rotator status against moto: what must not pass silently', () => {
  it('exits 5 for a prefix with nothing under it, naming it and the region, and 0 with --allow-empty', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'sirv-a', record('sirv-a', { dueIn: 600 }));
    const typo = `${prefix.slice(0, -1)}x/`;
    const { code, stdout, stderr } = await run(['--prefix', typo, 'status']);
    expect(code).toBe(EXIT_CODES.noCredentials);
    expect(stdout).toBe('');
    expect(stderr).toContain(`No credentials under prefix "${typo}" in ${process.env.AWS_REGION}: check --prefix`);
    const allowed = await run(['--prefix', typo, 'status', '--output', 'json', '--allow-empty']);
    expect(allowed.code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(allowed.stdout)).toEqual([]);
  });

  it('lists a credential whose token secret was deleted by hand as no-token, and exits 3', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'kept', record('kept', { dueIn: 600 }));
    await givenCredential(prefix, 'gone', record('gone', { dueIn: 600 }));
    await givenCredential(prefix, 'pending', record('pending', { dueIn: 600 }));
    await client.send(new DeleteSecretCommand({ SecretId: `${prefix}gone/token`, ForceDeleteWithoutRecovery: true }));
    await client.send(new DeleteSecretCommand({ SecretId: `${prefix}pending/token`, RecoveryWindowInDays: 7 }));
    const { code, stdout, stderr } = await run(['--prefix', prefix, 'status', '--json']);
    expect(code).toBe(EXIT_CODES.unhealthy);
    expect(JSON.parse(stdout).map((r: { credential: string; state: string }) => [r.credential, r.state])).toEqual([
      ['gone', 'no-token'],
      ['kept', 'ok'],
      ['pending', 'no-token'],
    ]);
    expect(stderr).toContain(
      `Credential "gone": its client secret is there but its token secret "${prefix}gone/token"`,
    );
    for (const text of [stdout, stderr]) {
      expect(text).not.toContain(PLANTED_TOKEN);
      expect(text).not.toContain(SIRV_SEED_CLIENT.clientSecret);
    }
  });

  it('reports refreshes more than two intervals late as overdue (exit 6) and says no rotator serves the prefix', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'sirv-a', record('sirv-a', { dueIn: -200, age: 600 }));
    await givenCredential(prefix, 'sirv-b', record('sirv-b', { dueIn: -300, age: 600 }));
    const { code, stdout, stderr } = await run(['--prefix', prefix, 'status']);
    expect(code).toBe(EXIT_CODES.overdue);
    expect(stdout).toMatch(/^sirv-a +overdue +sirv /m);
    expect(stderr).toContain(`No rotator seems to serve prefix "${prefix}"`);
    const hourly = await run(['--prefix', prefix, 'status', '--schedule-interval', '3600']);
    expect(hourly.code).toBe(EXIT_CODES.ok);
    expect(hourly.stderr).toBe('');
  });
});

describe('token-rotator sweep against moto and the Sirv fake', () => {
  it("refreshes the due credentials in this process with the rotator's code, leaves the others, and prints no secret", async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'due', record('due', { dueIn: -30, generation: 2 }));
    await givenCredential(prefix, 'fresh', record('fresh', { dueIn: 600, generation: 9 }));
    const { code, stdout, stderr } = await run(['--prefix', prefix, 'sweep', '--output', 'json']);
    expect(code).toBe(EXIT_CODES.ok);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ prefix, listed: 2, due: 1, refreshed: 1, failed: 0, blocked: 0 });
    expect(report.results).toEqual([
      expect.objectContaining({ credential: 'due', outcome: 'refreshed', generation: 3 }),
    ]);
    expect(stderr).toMatch(new RegExp(`^Swept "${prefix}": 2 listed, 1 due: 1 refreshed, 0 failed\\.`));
    const stored = await readToken({ client, prefix }, 'due');
    expect(stored?.generation).toBe(3);
    expect(stored?.accessToken).not.toBe(PLANTED_TOKEN);
    expect((await readToken({ client, prefix }, 'fresh'))?.generation).toBe(9);
    for (const text of [stdout, stderr]) {
      expect(text).not.toContain(stored?.accessToken);
      expect(text).not.toContain(PLANTED_TOKEN);
      expect(text).not.toContain(SIRV_SEED_CLIENT.clientSecret);
    }
    // The next sweep finds nothing due, and status agrees that all is well.
    const again = await run(['--prefix', prefix, 'sweep']);
    expect(again.code).toBe(EXIT_CODES.ok);
    expect(again.stdout).toContain(`Swept "${prefix}": 2 listed, 0 due: 0 refreshed, 0 failed.`);
    expect((await run(['--prefix', prefix, 'status'])).code).toBe(EXIT_CODES.ok);
  });

  it('exits 4 when the issuer rejects a client, leaves its token, records the failure, and keeps exiting 4 while it is blocked', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'sirv-a', record('sirv-a', { dueIn: -30, generation: 2 }));
    sirv.revokeClient(SIRV_SEED_CLIENT.clientId);
    try {
      const { code, stdout, stderr } = await run(['--prefix', prefix, 'sweep']);
      expect(code).toBe(EXIT_CODES.refreshFailed);
      expect(stdout).toMatch(/^failed {4}sirv-a {2}InvalidCredentials: Credential "sirv-a": .*401/m);
      expect(stdout.match(/rejected the client credentials/g)).toHaveLength(1);
      for (const text of [stdout, stderr]) {
        expect(text).not.toContain(SIRV_SEED_CLIENT.clientSecret);
        expect(text).not.toContain(PLANTED_TOKEN);
      }
      expect((await readToken({ client, prefix }, 'sirv-a'))?.generation).toBe(2);
      const status = await run(['--prefix', prefix, 'status', '--json']);
      expect(JSON.parse(status.stdout)[0]).toMatchObject({ state: 'blocked', lastError: 'InvalidCredentials' });
      const blocked = await run(['--prefix', prefix, 'sweep']);
      expect(blocked.code).toBe(EXIT_CODES.refreshFailed);
      expect(blocked.stdout).toContain(`Swept "${prefix}": 1 listed, 0 due: 0 refreshed, 0 failed; 1 blocked.`);
    } finally {
      sirv.restoreClient(SIRV_SEED_CLIENT.clientId);
    }
  });
});

describe('token-rotator refresh against moto and the Sirv fake', () => {
  it('refreshes a named credential in-process to the next generation', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'sirv-a', record('sirv-a', { dueIn: -30, generation: 5 }));
    const { code, stdout } = await run(['--prefix', prefix, 'refresh', 'sirv-a']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toMatch(/^ok {8}sirv-a {2}generation 6, expires in 1[89]m/);
    expect(stdout).toContain('1 credential: 1 refreshed, 0 skipped, 0 failed.');
    const stored = await readToken({ client, prefix }, 'sirv-a');
    expect(stored?.generation).toBe(6);
    expect(stored?.accessToken).not.toBe(PLANTED_TOKEN);
    expect(stdout).not.toContain(stored?.accessToken);
  });

  it('with --all refreshes the due credentials and skips the others', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'due', record('due', { dueIn: -30, generation: 2 }));
    await givenCredential(prefix, 'fresh', record('fresh', { dueIn: 600, generation: 9 }));
    const { code, stdout } = await run(['--prefix', prefix, 'refresh', '--all']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toMatch(/^skipped {3}fresh {2}not due: refresh after in 9m/m);
    expect(stdout).toMatch(/^ok {8}due {4}generation 3/m);
    expect(stdout).toContain('2 credentials: 1 refreshed, 1 skipped, 0 failed.');
    expect((await readToken({ client, prefix }, 'fresh'))?.generation).toBe(9);
    expect((await readToken({ client, prefix }, 'due'))?.generation).toBe(3);
  });

  it('exits 4 with a clear line when the client is revoked, after which status exits 3 (blocked)', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'sirv-a', record('sirv-a', { dueIn: -30, generation: 2 }));
    sirv.revokeClient(SIRV_SEED_CLIENT.clientId);
    try {
      const { code, stdout, stderr } = await run(['--prefix', prefix, 'refresh', 'sirv-a']);
      expect(code).toBe(EXIT_CODES.refreshFailed);
      expect(stdout).toMatch(
        /^failed {4}sirv-a {2}InvalidCredentials: Credential "sirv-a": .*401.*check clientId\/clientSecret.* The rotator will not retry until the client credentials change \(pulumi up\)\./,
      );
      for (const text of [stdout, stderr]) {
        expect(text).not.toContain(SIRV_SEED_CLIENT.clientSecret);
        expect(text).not.toContain(PLANTED_TOKEN);
      }
      expect((await readToken({ client, prefix }, 'sirv-a'))?.generation).toBe(2);
      const status = await run(['--prefix', prefix, 'status', '--json']);
      expect(status.code).toBe(EXIT_CODES.unhealthy);
      expect(JSON.parse(status.stdout)[0]).toMatchObject({
        state: 'blocked',
        failures: 1,
        lastError: 'InvalidCredentials',
      });
      const again = await run(['--prefix', prefix, 'refresh', '--all']);
      expect(again.code).toBe(EXIT_CODES.ok);
      expect(again.stdout).toContain('skipped   sirv-a  blocked after InvalidCredentials');
    } finally {
      sirv.restoreClient(SIRV_SEED_CLIENT.clientId);
    }
  });

  it('with --function lists from moto, invokes the (mocked) rotator and prints its results', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'due', record('due', { dueIn: -30 }));
    await givenCredential(prefix, 'fresh', record('fresh', { dueIn: 600 }));
    const lambda = mockClient(LambdaClient);
    try {
      lambda.on(InvokeCommand).callsFake((input) => {
        const event = JSON.parse(new TextDecoder().decode(input.Payload));
        const results = event.credentials.map((credential: string) => ({
          credential,
          ok: false,
          error: {
            code: 'IssuerUnavailable',
            message: `Credential "${credential}": the issuer answered 503.`,
            transient: true,
          },
          nextAttempt: new Date(Date.now() + 120_000).toISOString(),
        }));
        return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ results })) as never };
      });
      const { code, stdout } = await run(['--prefix', prefix, 'refresh', '--all', '--function', 'token-rotator-it'], {
        lambda: () => new LambdaClient({}),
      });
      expect(code).toBe(EXIT_CODES.refreshFailed);
      const events = lambda
        .commandCalls(InvokeCommand)
        .map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Payload as Uint8Array)));
      expect(events).toEqual([{ credentials: ['due'], force: false }]);
      expect(stdout).toMatch(/^failed {4}due {4}IssuerUnavailable: Credential "due": the issuer answered 503\./m);
      expect(stdout).toContain('2 credentials: 0 refreshed, 1 skipped, 1 failed.');
    } finally {
      lambda.restore();
    }
  });
});

describe('the compiled token-rotator bin', () => {
  const buildDir = resolve(repoRoot, '.local', `cli-bin-${randomUUID().slice(0, 8)}`);
  const main = resolve(buildDir, 'out', 'cli', 'main.js');
  const bin = (args: string[]) =>
    execFileAsync(process.execPath, [main, ...args], {
      cwd: repoRoot,
      // The standard AWS environment of the globalSetup (AWS_ENDPOINT_URL → moto), nothing more.
      env: { ...process.env, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      timeout: 60_000,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: typeof e.code === 'number' ? e.code : -1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      }),
    );

  beforeAll(async () => {
    // The CLI and what it imports, compiled with the build settings into a directory of its own
    // (dist/ is shared with whoever else builds). Inside the repo, so the package's self-reference
    // and node_modules resolve as from dist/.
    await mkdir(buildDir, { recursive: true });
    await writeFile(
      resolve(buildDir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.build.json',
        compilerOptions: { outDir: 'out', rootDir: '../..', declaration: false, sourceMap: false },
        include: ['../../cli'],
        exclude: [],
      }),
    );
    // Type errors are the typecheck's business (and may sit in files others are editing): what
    // matters here is that the bin is emitted and runs.
    await execFileAsync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', buildDir], {
      cwd: repoRoot,
      timeout: 120_000,
    }).catch(() => undefined);
  }, 150_000);

  afterAll(async () => {
    await rm(buildDir, { recursive: true, force: true });
  });

  it('starts with a shebang and prints its help, without the demo it cannot run outside a checkout', async () => {
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(main, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    const { code, stdout } = await bin(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: token-rotator');
    expect(stdout).toContain('status [options] [names...]');
    expect(stdout).toContain('sweep [options]');
    expect(stdout).not.toMatch(/\bdemo\b/);
    // Still there when asked for, to say where it runs.
    const demo = await bin(['demo']);
    expect(demo.code).toBe(EXIT_CODES.aws);
    expect(demo.stderr).toContain('the demo runs from a source checkout');
  });

  /** Runs the bin with its stdout closed before it writes (as `| head -1` does once it has its line). */
  async function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [main, ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      const code = await new Promise<number | null>((resolveExit) => child.on('exit', (c) => resolveExit(c)));
      return { code, stderr };
    } finally {
      clearTimeout(killer);
    }
  }

  it('ends quietly with exit 0 when the reader of its help goes away (| head -1)', async () => {
    const { code, stderr } = await withClosedStdout(['--help']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT_CODES.ok);
  });

  it('stops status --watch when nobody reads its output any more, with the exit code of its last round', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'sirv-a', record('sirv-a', { dueIn: 600 }));
    const { code, stderr } = await withClosedStdout(['--prefix', prefix, 'status', '--watch', '1']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT_CODES.ok);
  });

  it('runs status --json against moto through AWS_ENDPOINT_URL, with exit codes 0 and 3', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'sirv-a', record('sirv-a', { dueIn: 600, generation: 3 }));
    const ok = await bin(['--prefix', prefix, 'status', '--json']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual([
      expect.objectContaining({ credential: 'sirv-a', state: 'ok', generation: 3 }),
    ]);
    expect(ok.stdout).not.toContain(PLANTED_TOKEN);
    const missing = await bin(['--prefix', prefix, 'status', 'nope', '--json']);
    expect(missing.code).toBe(EXIT_CODES.unhealthy);
    expect(missing.stderr).toContain('Credential "nope": no token secret');
  });

  it('stops status --watch on Ctrl-C (SIGINT) with the exit code of the last round', async () => {
    const prefix = freshPrefix();
    await givenCredential(prefix, 'sirv-a', record('sirv-a', { dueIn: 600 }));
    const child = spawn(process.execPath, [main, '--prefix', prefix, 'status', '--watch', '1', '--json'], {
      cwd: repoRoot,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      await new Promise<void>((resolveFirst) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('\n')) resolveFirst();
        });
      });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      clearTimeout(killer);
    }
    expect(stderr).toContain('stopping after the work in progress');
    const rounds = stdout.trim().split('\n');
    expect(rounds.length).toBeGreaterThanOrEqual(1);
    expect(rounds.length).toBeLessThanOrEqual(2);
    expect(JSON.parse(rounds[0] ?? '')).toEqual([expect.objectContaining({ credential: 'sirv-a', state: 'ok' })]);
  });

  it('exits 1 on a usage error', async () => {
    const { code, stderr } = await bin(['refresh']);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain('name the credentials to refresh, or pass --all');
  });
});
