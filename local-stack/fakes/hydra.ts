/**
 * A real Ory Hydra v2 (OAuth 2.0 server) on 127.0.0.1, for the kinds that sign RFC 7523
 * assertions: `private_key_jwt` client authentication and the `jwt-bearer` grant with a trust
 * relationship. The binary is the one scripts/setup-hydra.sh builds (cached); it runs with
 * `DSN=memory` (in-memory SQLite), `--dev` (plain HTTP) and telemetry off.
 *
 * Hydra listens on every interface unless told otherwise (`serve.public.host` and
 * `serve.admin.host` default to ""): both are set to 127.0.0.1 here, on free ports.
 *
 * Hydra runs under a small shell that kills it when its stdin closes, which happens however the
 * test process ends: no orphan after an aborted run.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long `hydra serve all` may take to answer /health/ready (migrating the in-memory database included); tried twice. */
const READY_TIMEOUT_MS = 30_000;
/** How long scripts/setup-hydra.sh may take: seconds when cached, minutes for a first build. */
const SETUP_TIMEOUT_MS = 15 * 60_000;
/** How long each admin request may take. */
const ADMIN_TIMEOUT_MS = 10_000;

export interface HydraOptions {
  /** Access token lifetime in seconds (default 3600). */
  accessTokenTtlSeconds?: number;
}

/** A client to register, as Hydra's admin API takes it (`POST /admin/clients`). */
export type HydraClient = Record<string, unknown>;

/** A jwt-bearer trust relationship (`POST /admin/trust/grants/jwt-bearer/issuers`). */
export interface HydraTrust {
  issuer: string;
  subject: string;
  scope: string[];
  /** The public key that signs the issuer's assertions, with its `kid`. */
  jwk: Record<string, unknown>;
}

export interface RunningHydra {
  /** `http://127.0.0.1:PORT`, the issuer. */
  issuer: string;
  /** `http://127.0.0.1:PORT/oauth2/token`. */
  tokenUrl: string;
  /** Registers a client; returns Hydra's view of it (its `client_id` included). */
  createClient(client: HydraClient): Promise<Record<string, unknown>>;
  /** Replaces a client's public keys (`PATCH /admin/clients/{id}`), as when the client rotates its key. */
  setClientJwks(clientId: string, jwks: { keys: readonly Record<string, unknown>[] }): Promise<void>;
  /** Registers a jwt-bearer trust relationship, valid for a day; returns its id. */
  trust(grant: HydraTrust): Promise<string>;
  /** Deletes a jwt-bearer trust relationship by id. */
  distrust(id: string): Promise<void>;
  /** The last lines of Hydra's log (warnings and errors), for a failing test's message. */
  logTail(lines?: number): string;
  /** Introspects a token at the admin API (`active`, `client_id`, `sub`, `scope`…). */
  introspect(token: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** The path of the cached Hydra binary, building it first if needed (scripts/setup-hydra.sh). */
export function hydraBinary(): Promise<string> {
  const script = join(__dirname, '..', '..', 'scripts', 'setup-hydra.sh');
  return new Promise((resolve, reject) => {
    execFile('bash', [script], { timeout: SETUP_TIMEOUT_MS, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/setup-hydra.sh failed: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
      else resolve(stdout.trim().split('\n').at(-1) ?? '');
    });
  });
}

/**
 * Starts Hydra on two free loopback ports and waits (at most 30 s, twice) until it is ready.
 *
 * @example
 * ```ts
 * const hydra = await startHydra();
 * const client = await hydra.createClient({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks });
 * await hydra.close();
 * ```
 */
export async function startHydra(options: HydraOptions = {}): Promise<RunningHydra> {
  const binary = await hydraBinary();
  try {
    return await startOn(binary, options);
  } catch {
    // The free ports are picked before Hydra binds them: another process may take one between.
    return startOn(binary, options);
  }
}

async function startOn(binary: string, options: HydraOptions): Promise<RunningHydra> {
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${publicPort}`;
  const admin = `http://127.0.0.1:${adminPort}`;
  const workdir = mkdtempSync(join(tmpdir(), 'token-rotator-hydra-'));
  const logFile = join(workdir, 'hydra.log');
  // Only what Hydra needs: no proxy, credential or tool settings of the parent leak into it.
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: workdir,
    DSN: 'memory',
    SERVE_PUBLIC_HOST: '127.0.0.1',
    SERVE_PUBLIC_PORT: String(publicPort),
    SERVE_ADMIN_HOST: '127.0.0.1',
    SERVE_ADMIN_PORT: String(adminPort),
    URLS_SELF_ISSUER: issuer,
    SECRETS_SYSTEM: randomBytes(24).toString('hex'),
    TTL_ACCESS_TOKEN: `${options.accessTokenTtlSeconds ?? 3600}s`,
    SQA_OPT_OUT: 'true',
    LOG_LEVEL: 'warn',
  };
  const guard =
    '"$0" serve all --dev --sqa-opt-out >"$1" 2>&1 & child=$!; trap \'kill "$child" 2>/dev/null\' EXIT; read -r _ || true';
  const shell = spawn('bash', ['-c', guard, binary, logFile], { env, stdio: ['pipe', 'ignore', 'ignore'] });
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    shell.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const close = async () => {
    shell.stdin.end();
    const timer = setTimeout(() => shell.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
    rmSync(workdir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited || Date.now() > deadline) {
      const log = tail(logFile);
      await close();
      throw new Error(`Hydra did not become ready within ${READY_TIMEOUT_MS / 1000} s; its log ends: ${log}`);
    }
    const ready = await fetch(`${admin}/health/ready`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const adminCall = async (path: string, init: RequestInit): Promise<Response> => {
    const response = await fetch(`${admin}${path}`, { ...init, signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`Hydra admin ${path} answered ${response.status}: ${await response.text()}`);
    return response;
  };
  const json = { 'content-type': 'application/json' };
  return {
    issuer,
    tokenUrl: `${issuer}/oauth2/token`,
    async createClient(client) {
      const response = await adminCall('/admin/clients', {
        method: 'POST',
        headers: json,
        body: JSON.stringify(client),
      });
      return (await response.json()) as Record<string, unknown>;
    },
    async setClientJwks(clientId, jwks) {
      await adminCall(`/admin/clients/${encodeURIComponent(clientId)}`, {
        method: 'PATCH',
        headers: json,
        body: JSON.stringify([{ op: 'replace', path: '/jwks', value: jwks }]),
      });
    },
    async trust(grant) {
      const expires_at = new Date(Date.now() + 86_400_000).toISOString();
      const response = await adminCall('/admin/trust/grants/jwt-bearer/issuers', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ ...grant, expires_at }),
      });
      return String(((await response.json()) as { id?: unknown }).id ?? '');
    },
    async distrust(id) {
      await adminCall(`/admin/trust/grants/jwt-bearer/issuers/${encodeURIComponent(id)}`, { method: 'DELETE' });
    },
    logTail: (lines = 20) => tail(logFile, lines),
    async introspect(token) {
      const body = new URLSearchParams({ token }).toString();
      const headers = { 'content-type': 'application/x-www-form-urlencoded' };
      const response = await adminCall('/admin/oauth2/introspect', { method: 'POST', headers, body });
      return (await response.json()) as Record<string, unknown>;
    },
    close,
  };
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '(no log)';
  }
}

/** A port free on 127.0.0.1 right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
