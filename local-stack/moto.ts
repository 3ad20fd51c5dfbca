/**
 * moto's server as the local AWS for integration and e2e tests: installed by
 * scripts/setup-moto.sh (cached), bound to 127.0.0.1 on a free port, stopped without orphans.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..');

/** How long moto may take to answer after it was spawned. */
const READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
/** How long a SIGTERM gets before the process group is killed. */
const STOP_GRACE_MS = 5_000;
const LOG_LINES_KEPT = 40;

/** A running moto server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`: what `AWS_ENDPOINT_URL` is set to. */
  endpoint: string;
  port: number;
  /** Stops the server: SIGTERM to its process group, SIGKILL after a grace period. Safe to call twice. */
  stop(): Promise<void>;
  /** Forgets every resource in every service (`POST /moto-api/reset`). */
  reset(): Promise<void>;
}

/**
 * The `moto_server` executable: `MOTO_SERVER` when set, else the one scripts/setup-moto.sh
 * installs (in about a second when its venv is already cached).
 */
export async function motoServerPath(): Promise<string> {
  const { stdout } = await execFileAsync('bash', [resolve(repoRoot, 'scripts', 'setup-moto.sh')], {
    cwd: repoRoot,
    env: process.env,
    maxBuffer: 4 * 1024 * 1024,
    // A cold install downloads and builds a venv; anything longer is stuck.
    timeout: 10 * 60 * 1000,
  });
  const path = stdout.trim().split('\n').at(-1)?.trim();
  if (!path) throw new Error('scripts/setup-moto.sh printed no moto_server path');
  return path;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolvePort(port) : reject(new Error('no free loopback port'))));
    });
  });
}

// Runs moto in its own process group and kills it when our end of its stdin closes, which the
// kernel does however this Node process dies (even SIGKILL): no orphan after an aborted run.
const WATCHDOG = `
exec 3<&0
"$@" </dev/null &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
# Background jobs read /dev/null unless told otherwise: the watcher reads the saved stdin (fd 3).
( cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null; sleep 5; kill -KILL "$child" 2>/dev/null ) &
exec 3<&-
wait "$child"
`;

/**
 * Starts moto's server on a free loopback port and waits (at most 30 s) until it answers.
 *
 * @example
 * ```ts
 * const moto = await startMoto();
 * process.env.AWS_ENDPOINT_URL = moto.endpoint;
 * // … tests …
 * await moto.stop();
 * ```
 */
export async function startMoto(): Promise<MotoServer> {
  const bin = await motoServerPath();
  let lastError: unknown;
  // Another process may take the port between our probe and moto's bind: try a few ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    try {
      return await launch(bin, port);
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

async function launch(bin: string, port: number): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('bash', ['-c', WATCHDOG, 'moto-watchdog', bin, '-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    // moto logs every request; keep only the tail for a startup failure message.
    for (const line of chunk.toString('utf8').split('\n')) if (line) log.push(line);
    if (log.length > LOG_LINES_KEPT) log.splice(0, log.length - LOG_LINES_KEPT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // Never keep the test runner alive for moto's sake.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();

  let exited = false;
  const exit = new Promise<void>((resolveExit) => {
    child.once('exit', () => {
      exited = true;
      resolveExit();
    });
  });
  const killGroup = (signal: NodeJS.Signals) => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    child.stdin?.end();
    killGroup('SIGTERM');
    const timer = setTimeout(() => killGroup('SIGKILL'), STOP_GRACE_MS);
    await exit;
    clearTimeout(timer);
  };

  try {
    await waitUntilReady(endpoint, () => exited);
  } catch (e) {
    await stop();
    throw new Error(`moto_server did not start on ${endpoint}: ${(e as Error).message}\n${log.join('\n')}`);
  }

  return {
    endpoint,
    port,
    stop,
    reset: async () => {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset answered HTTP ${response.status}`);
    },
  };
}

async function waitUntilReady(endpoint: string, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('the process exited');
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  throw new Error(`no answer within ${READY_TIMEOUT_MS / 1000} s`);
}
