/**
 * A loopback HTTP proxy in front of another local endpoint (moto): each request is read whole and
 * handed to the proxy's own `handle`, which answers it itself or passes it on with `forward`. The
 * local stack's proxies (throttling, lagging listings, recording invokes) differ only in `handle`.
 *
 * The proxy listens on 127.0.0.1 and forwards to a loopback http endpoint only: it exists for tests,
 * the demo and the bench, and must never carry signed AWS requests anywhere else.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the proxy received it, its body read whole. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An answer, from the target or made by the proxy. */
export interface ProxyAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/**
 * Passes the request on to the target as it came, or with `body` in place of its own (a request
 * the proxy makes of its own, such as one page of a listing), and resolves to the target's answer.
 */
export type Forward = (body?: Buffer) => Promise<ProxyAnswer>;

/** Options of {@link startForwardingProxy}. */
export interface ForwardingProxyOptions {
  /** The loopback endpoint requests are passed to (`http://127.0.0.1:PORT`). */
  target: string;
  /** Names the proxy in the refusal of a non-loopback target and in its own error answers. */
  name: string;
  /** Answers a request; default: forwards it unchanged. */
  handle?: (request: ProxiedRequest, forward: Forward) => Promise<ProxyAnswer>;
  /** The most bytes of one request body it reads; default 1 MiB (Secrets Manager's own limits are far below). */
  maxBodyBytes?: number;
  /** How long the target may take over one answer; default 30 s. */
  timeoutMs?: number;
}

/** A running proxy. */
export interface ForwardingProxy {
  /** `http://127.0.0.1:PORT`: what the clients' endpoint is set to. */
  endpoint: string;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];
// Headers that describe one hop, not the request or answer: each hop sets its own. The answer's
// content-encoding goes too, as fetch hands over the body already decoded.
const HOP_HEADERS = new Set([
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'expect',
  'upgrade',
  'proxy-connection',
  'content-encoding',
]);

/**
 * Starts the proxy on a free port of 127.0.0.1. A request it cannot read or pass on is answered
 * 502, naming the proxy, so the client's retries treat it as the server error it is.
 *
 * @example
 * ```ts
 * const proxy = await startForwardingProxy({ target: moto.endpoint, name: 'counting proxy' });
 * process.env.AWS_ENDPOINT_URL = proxy.endpoint;
 * ```
 */
export async function startForwardingProxy(options: ForwardingProxyOptions): Promise<ForwardingProxy> {
  const upstream = new URL(options.target);
  if (upstream.protocol !== 'http:' || !LOOPBACK_HOSTS.includes(upstream.hostname)) {
    throw new Error(`the ${options.name} forwards to a loopback http endpoint only, not ${options.target}`);
  }
  const target = upstream.origin;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const handle = options.handle ?? ((_request, forward) => forward());

  const server = createServer((incoming, response) => {
    const answer = async (): Promise<ProxyAnswer> => {
      const request: ProxiedRequest = {
        method: incoming.method ?? 'GET',
        url: incoming.url ?? '/',
        headers: incoming.headers,
        body: await readBody(incoming, maxBodyBytes),
      };
      return handle(request, (body = request.body) => forward(target, request, body, timeoutMs));
    };
    answer().then(
      ({ status, headers, body }) => {
        response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
        response.end(body);
      },
      (error: unknown) => {
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`${options.name}: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new Error(`request body over ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function forward(target: string, request: ProxiedRequest, body: Buffer, timeoutMs: number) {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    if (typeof value === 'string' && !HOP_HEADERS.has(key)) headers[key] = value;
  }
  const answer = await fetch(`${target}${request.url}`, {
    method: request.method,
    headers,
    body: request.method === 'GET' || request.method === 'HEAD' || body.length === 0 ? undefined : new Uint8Array(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const answerHeaders: Record<string, string> = {};
  answer.headers.forEach((value, key) => {
    if (!HOP_HEADERS.has(key)) answerHeaders[key] = value;
  });
  return { status: answer.status, headers: answerHeaders, body: Buffer.from(await answer.arrayBuffer()) };
}
