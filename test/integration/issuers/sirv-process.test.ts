import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCredentialsError } from '../../../core/errors';
import { obtainToken } from '../../../core/issuers';
import { SIRV_SCOPE } from '../../../local-stack/fakes/sirv';
import { type SirvFakeProcess, startSirvFakeProcess } from '../../../local-stack/fakes/sirv-process';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..', '..');
const CLIENT = { clientId: 'process-client-id', clientSecret: 'process-client-secret-0123456789' };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls (bounded) until `pid` is gone; true when it is. */
async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

describe('the Sirv fake in its own process', () => {
  let sirv: SirvFakeProcess;
  beforeAll(async () => {
    sirv = await startSirvFakeProcess({ clients: { [CLIENT.clientId]: CLIENT.clientSecret }, clockOffsetMs: 600_000 });
  });
  afterAll(async () => {
    await sirv.close();
  });
  const obtain = (secret = CLIENT.clientSecret) =>
    obtainToken(
      { kind: 'sirv', url: sirv.tokenUrl, allowInsecureHttp: true, clientId: CLIENT.clientId, clientSecret: secret },
      { credential: 'sirv-process-it' },
    );

  it('serves the same contract as the in-process fake, from another process, on loopback', async () => {
    // Act
    const token = await obtain();
    // Assess
    expect(sirv.pid).not.toBe(process.pid);
    expect(isAlive(sirv.pid)).toBe(true);
    expect(sirv.tokenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2\/token$/);
    const claims = decodeJwt(token.accessToken);
    expect(claims).toMatchObject({ clientId: CLIENT.clientId, scope: SIRV_SCOPE });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(1200);
    await expect(obtain('wrong-client-secret-0123456789')).rejects.toBeInstanceOf(InvalidCredentialsError);
  });

  it('mints its JWTs at the clock offset it was given, and moves it when told', async () => {
    // Act
    const ahead = decodeJwt((await obtain()).accessToken);
    await sirv.setClockOffset(0);
    const now = decodeJwt((await obtain()).accessToken);
    // Assess: 10 minutes ahead of the wall clock, then on it (a few seconds of slack for a slow machine).
    const wall = Date.now() / 1000;
    expect(Math.abs((ahead.iat ?? 0) - (wall + 600))).toBeLessThan(5);
    expect(Math.abs((now.iat ?? 0) - wall)).toBeLessThan(5);
  });

  it('counts the tokens it handed out (a refused request is not one)', async () => {
    // Prepare
    const before = await sirv.tokensIssued();
    // Act
    await obtain();
    await obtain();
    await expect(obtain('wrong-client-secret-0123456789')).rejects.toBeInstanceOf(InvalidCredentialsError);
    // Assess
    expect((await sirv.tokensIssued()) - before).toBe(2);
  });
});

describe('the Sirv fake process: start and stop', () => {
  it('stops its child on close(), and a second close() is harmless', async () => {
    // Prepare
    const sirv = await startSirvFakeProcess();
    // Act
    await sirv.close();
    await sirv.close();
    // Assess
    expect(isAlive(sirv.pid)).toBe(false);
    await expect(fetch(sirv.tokenUrl, { method: 'POST' })).rejects.toThrow();
  });

  it('says why when the fake cannot listen, and leaves no child behind', async () => {
    // Prepare: a port already taken on 127.0.0.1.
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      // Act
      const error = await startSirvFakeProcess({ port }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      // Assess
      expect(error?.message).toMatch(/the Sirv fake process \(pid \d+\) could not start: .*EADDRINUSE/);
      const pid = Number(/pid (\d+)/.exec(error?.message ?? '')?.[1]);
      expect(await goneWithin(pid, 5_000)).toBe(true);
    } finally {
      taken.close();
    }
  });

  it('gives up after its start-up timeout and kills the child', async () => {
    // Act: no child loads tsx and the fake in 1 ms.
    const error = await startSirvFakeProcess({}, { startMs: 1 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    // Assess
    expect(error?.message).toMatch(/the Sirv fake process \(pid \d+\) was not ready within 1 ms/);
    const pid = Number(/pid (\d+)/.exec(error?.message ?? '')?.[1]);
    expect(await goneWithin(pid, 5_000)).toBe(true);
  });

  it('exits by itself when its parent dies without closing it (SIGKILL)', async () => {
    // Prepare: a parent that starts the fake, prints the child's pid, and waits.
    const script =
      "const { startSirvFakeProcess } = require('./local-stack/fakes/sirv-process');" +
      'startSirvFakeProcess().then((s) => { process.stdout.write(String(s.pid) + "\\n"); setInterval(() => {}, 1000); });';
    const parent = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['-e', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let childPid = 0;
    let fakeParent = 0;
    try {
      childPid = await new Promise<number>((resolvePid, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no pid printed within 20 s: ${out}`)), 20_000);
        parent.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          const match = /^(\d+)\n/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolvePid(Number(match[1]));
          }
        });
      });
      expect(isAlive(childPid)).toBe(true);
      // Act: the tsx CLI runs the script in a node process of its own, the fake's parent: kill that one.
      const { stdout } = await execFileAsync('ps', ['-o', 'ppid=', '-p', String(childPid)]);
      fakeParent = Number(stdout.trim());
      expect(fakeParent).toBeGreaterThan(1);
      process.kill(fakeParent, 'SIGKILL');
      // Assess
      expect(await goneWithin(childPid, 10_000)).toBe(true);
    } finally {
      // Whatever an assertion left running: the tsx CLI, the fake's parent, the fake.
      parent.kill('SIGKILL');
      for (const pid of [fakeParent, childPid]) if (pid > 1 && isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
