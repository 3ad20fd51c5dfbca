/**
 * Fault injection and the HTTP plumbing shared by every vendor fake: a loopback server, a request
 * log, latency, revoked clients, a queue of next-N faults and a persistent random fault rate.
 * Each fake supplies only its service logic (a {@link FakeHandler}).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** An HTTP answer forced instead of the service's own: `{ status: 503, retryAfter: 5 }`. */
export interface StatusFault {
  status: number;
  /** `Retry-After` value: seconds, or an HTTP-date string. */
  retryAfter?: number | string;
  /** Body to send; a JSON string by default. */
  body?: string;
}

/** Faults of the transport: `timeout` holds the answer until the client gives up, `drop` destroys the socket. */
export type TransportFault = 'timeout' | 'drop';

/**
 * Faults that shape a successful token answer; each fake applies them to its token endpoint:
 * `nonJson` (a 200 that is not JSON), `missingToken`, `missingExpiry` (no lifetime field and a JWT
 * without `exp`), `expiredToken` (JWT `exp` in the past), `shortExp` (JWT `exp` earlier than the
 * stated lifetime).
 */
export type ShapeFault = 'nonJson' | 'missingToken' | 'missingExpiry' | 'expiredToken' | 'shortExp';

/** Every fault one request can get. */
export type Fault = StatusFault | TransportFault | ShapeFault;

/** Persistent fault probabilities per request, for soak tests (sum at most 1). */
export interface FaultRates {
  status429?: number;
  status500?: number;
  status503?: number;
  timeout?: number;
  drop?: number;
  nonJson?: number;
}

/** One request as a fake received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-case header names, as Node parses them. */
  headers: Record<string, string | string[] | undefined>;
  /** Raw body text. */
  rawBody: string;
  /** JSON or form body parsed into an object; the raw text when neither parses. */
  body: unknown;
}

/** What a fake's service logic answers. */
export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
}

/** A fake's service logic: one request (and the shaping fault to apply, if any) in, one answer out. */
export type FakeHandler = (
  request: RecordedRequest,
  fault: ShapeFault | undefined,
) => FakeResponse | Promise<FakeResponse>;

/** Options every fake accepts. */
export interface FakeServerOptions {
  /** Port to listen on (127.0.0.1 only); 0 (default) lets the OS choose. */
  port?: number;
  /** Delay before every answer, in ms. */
  latencyMs?: number;
}

/** The controls every fake exposes to its tests. */
export interface FaultControls {
  /** Queues `fault` for the next `times` requests (after those already queued). */
  injectFault(fault: Fault, times?: number): void;
  /** Empties the fault queue and switches the persistent rate off. */
  clearFaults(): void;
  /** Draws a fault for every request the queue does not serve, with `rng()` in [0, 1). */
  setFaultRate(rates: FaultRates, rng?: () => number): void;
  /** Delay before every answer, in ms. */
  setLatency(ms: number): void;
  /** Makes a client id be refused as if it were unknown, until restored. */
  revokeClient(clientId: string): void;
  restoreClient(clientId: string): void;
  isRevoked(clientId: string): boolean;
  /** Every request received, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** How many tokens the fake has handed out. */
  readonly tokensIssued: number;
  /** Called by a fake's handler each time it hands out a token. */
  countIssued(): void;
}

/** A running fake: its base URL, its controls, and `close()`. */
export interface RunningFake extends FaultControls {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const SHAPE_FAULTS = new Set<string>(['nonJson', 'missingToken', 'missingExpiry', 'expiredToken', 'shortExp']);
const RATE_FAULTS: Record<keyof FaultRates, Fault> = {
  status429: { status: 429, retryAfter: 1 },
  status500: { status: 500 },
  status503: { status: 503, retryAfter: 1 },
  timeout: 'timeout',
  drop: 'drop',
  nonJson: 'nonJson',
};

/** The fault state of one fake, independent of HTTP (drawn once per request). */
export class FaultController {
  private readonly queue: Fault[] = [];
  private rates: FaultRates = {};
  private rng: () => number = Math.random;
  private readonly revoked = new Set<string>();
  private issued = 0;
  latencyMs: number;
  readonly requests: RecordedRequest[] = [];

  constructor(latencyMs = 0) {
    this.latencyMs = latencyMs;
  }

  get tokensIssued(): number {
    return this.issued;
  }

  injectFault(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.queue.push(fault);
  }

  clearFaults(): void {
    this.queue.length = 0;
    this.rates = {};
  }

  setFaultRate(rates: FaultRates, rng: () => number = Math.random): void {
    this.rates = rates;
    this.rng = rng;
  }

  revokeClient(clientId: string): void {
    this.revoked.add(clientId);
  }

  restoreClient(clientId: string): void {
    this.revoked.delete(clientId);
  }

  isRevoked(clientId: string): boolean {
    return this.revoked.has(clientId);
  }

  countIssued(): void {
    this.issued += 1;
  }

  /** The fault for the request being served: the queue first, then the persistent rate. */
  next(): Fault | undefined {
    const queued = this.queue.shift();
    if (queued !== undefined) return queued;
    const entries = Object.entries(this.rates) as [keyof FaultRates, number | undefined][];
    if (entries.length === 0) return undefined;
    let draw = this.rng();
    for (const [name, rate] of entries) {
      if (rate === undefined || rate <= 0) continue;
      if (draw < rate) return RATE_FAULTS[name];
      draw -= rate;
    }
    return undefined;
  }
}

/**
 * Starts a loopback HTTP server that records each request, applies latency and the next fault,
 * and otherwise answers with `handler`.
 */
export async function startFakeServer(handler: FakeHandler, options: FakeServerOptions = {}): Promise<RunningFake> {
  const faults = new FaultController(options.latencyMs ?? 0);
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    void serve(req, res, faults, handler);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return faults.requests;
    },
    get tokensIssued() {
      return faults.tokensIssued;
    },
    injectFault: (fault, times) => faults.injectFault(fault, times),
    clearFaults: () => faults.clearFaults(),
    setFaultRate: (rates, rng) => faults.setFaultRate(rates, rng),
    setLatency: (ms) => {
      faults.latencyMs = ms;
    },
    revokeClient: (id) => faults.revokeClient(id),
    restoreClient: (id) => faults.restoreClient(id),
    isRevoked: (id) => faults.isRevoked(id),
    countIssued: () => faults.countIssued(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Held (`timeout`) answers keep sockets open: destroy them so close() never hangs.
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, faults: FaultController, handler: FakeHandler) {
  const rawBody = await readBody(req);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const recorded: RecordedRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    headers: { ...req.headers },
    rawBody,
    body: parseBody(rawBody, req.headers['content-type']),
  };
  faults.requests.push(recorded);
  const fault = faults.next();
  if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
  if (fault === 'drop') {
    req.socket.destroy();
    return;
  }
  if (fault === 'timeout') return; // never answered; the socket dies with the client or close()
  try {
    if (typeof fault === 'object') return send(res, statusFaultResponse(fault));
    send(res, await handler(recorded, typeof fault === 'string' && SHAPE_FAULTS.has(fault) ? fault : undefined));
  } catch (error) {
    send(res, { status: 500, body: { error: 'fake_failure', message: String(error) } });
  }
}

function statusFaultResponse(fault: StatusFault): FakeResponse {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
  return { status: fault.status, headers, body: fault.body ?? { error: `injected ${fault.status}` } };
}

function send(res: ServerResponse, response: FakeResponse): void {
  if (res.destroyed) return;
  const headers = { ...response.headers };
  let body = '';
  if (typeof response.body === 'string') {
    body = response.body;
  } else if (response.body !== undefined) {
    body = JSON.stringify(response.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(response.status, headers);
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw === '') return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Header value as one string (the first when repeated). */
export function headerValue(request: RecordedRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
