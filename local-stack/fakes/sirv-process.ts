/**
 * The Sirv contract fake (./sirv.ts, unchanged) in a child process of its own: for benchmarks,
 * where a fake that signs its JWTs on the measured process's event loop would be counted as the
 * rotator's time. Tests that inject faults keep the in-process fake and its controls; this one
 * offers only what a benchmark needs (the clock offset its JWTs are minted at, the tokens issued).
 *
 * The child exits when its IPC channel closes, which happens however the parent ends (even
 * SIGKILL): no orphan after an aborted run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** How long the child may take to start the fake (it loads tsx and the fake's sources). */
const START_TIMEOUT_MS = 20_000;
/** How long a control message may wait for its answer. */
const REPLY_TIMEOUT_MS = 5_000;
/** How long the child gets to close its server after the channel closes, before SIGKILL. */
const STOP_GRACE_MS = 5_000;

/** What the child's fake is started with (a plain-data subset of `SirvFakeOptions`). */
export interface SirvProcessOptions {
  /** Port on 127.0.0.1; 0 (default) lets the OS choose. */
  port?: number;
  /** Known clients, id → secret. Sent over IPC, never on the command line. */
  clients?: Record<string, string>;
  /** Delay before every answer, in ms. */
  latencyMs?: number;
  lifetimeSeconds?: number;
  /** The fake's clock runs this far ahead of the wall clock (its JWT `iat` and `exp`). */
  clockOffsetMs?: number;
}

/** Parent → child. The first message is `start`; each control message carries an id its reply echoes. */
export type SirvProcessRequest =
  | { type: 'start'; options: SirvProcessOptions }
  | { type: 'set-clock-offset'; id: number; ms: number }
  | { type: 'tokens-issued'; id: number };

/** Child → parent. */
export type SirvProcessReply =
  | { type: 'ready'; url: string; tokenUrl: string }
  | { type: 'start-failed'; message: string }
  | { type: 'reply'; id: number; tokensIssued: number };

/** A Sirv fake running in its own process. */
export interface SirvFakeProcess {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  /** `http://127.0.0.1:PORT/v2/token`. */
  tokenUrl: string;
  /** The child's process id. */
  pid: number;
  /** Moves the fake's clock to `ms` ahead of the wall clock; resolves once the child has it. */
  setClockOffset(ms: number): Promise<void>;
  /** How many tokens the fake has handed out so far. */
  tokensIssued(): Promise<number>;
  /** Stops the child (channel closed, SIGKILL after a grace period). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts the Sirv fake in a child process on a free loopback port and waits (at most 20 s) for
 * its URL.
 *
 * @example
 * ```ts
 * const sirv = await startSirvFakeProcess({ clients: { id: 'secret-0123456789' }, latencyMs: 50 });
 * await fetch(sirv.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
 * await sirv.close();
 * ```
 */
export async function startSirvFakeProcess(
  options: SirvProcessOptions = {},
  timeouts: { startMs?: number } = {},
): Promise<SirvFakeProcess> {
  // The child runs the fake's TypeScript sources through tsx, whatever runs the parent (tsx,
  // vitest); none of the parent's own flags (a --cpu-prof of the benchmark) are passed on.
  const child = fork(join(__dirname, 'sirv-process-main.ts'), [], {
    execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const close = async () => {
    process.removeListener('exit', kill);
    if (child.connected) child.disconnect();
    const timer = setTimeout(kill, STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  let ready: Extract<SirvProcessReply, { type: 'ready' }>;
  try {
    send(child, { type: 'start', options });
    ready = await waitForReady(child, timeouts.startMs ?? START_TIMEOUT_MS);
  } catch (e) {
    kill();
    await close();
    throw e;
  }

  let nextId = 0;
  const pending = new Map<number, (reply: Extract<SirvProcessReply, { type: 'reply' }>) => void>();
  child.on('message', (message: SirvProcessReply) => {
    if (message.type !== 'reply') return;
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  const ask = (request: (id: number) => SirvProcessRequest) =>
    new Promise<Extract<SirvProcessReply, { type: 'reply' }>>((resolveReply, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the Sirv fake process (pid ${child.pid}) did not answer within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        resolveReply(reply);
      });
      send(child, request(id));
    });

  return {
    url: ready.url,
    tokenUrl: ready.tokenUrl,
    pid: child.pid ?? 0,
    setClockOffset: async (ms) => {
      await ask((id) => ({ type: 'set-clock-offset', id, ms }));
    },
    tokensIssued: async () => (await ask((id) => ({ type: 'tokens-issued', id }))).tokensIssued,
    close,
  };
}

function send(child: ChildProcess, request: SirvProcessRequest): void {
  if (!child.connected) throw new Error(`the Sirv fake process (pid ${child.pid}) is gone`);
  child.send(request);
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<Extract<SirvProcessReply, { type: 'ready' }>> {
  return new Promise((resolveReady, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.removeListener('message', onMessage);
      child.removeListener('exit', onExit);
    };
    const onMessage = (message: SirvProcessReply) => {
      if (message.type === 'ready') {
        done();
        resolveReady(message);
      } else if (message.type === 'start-failed') {
        done();
        reject(new Error(`the Sirv fake process (pid ${child.pid}) could not start: ${message.message}`));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      done();
      reject(
        new Error(`the Sirv fake process (pid ${child.pid}) exited (${signal ?? `code ${code}`}) before it was ready`),
      );
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the Sirv fake process (pid ${child.pid}) was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
