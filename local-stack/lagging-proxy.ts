/**
 * A Secrets Manager endpoint on 127.0.0.1 in front of another (moto) whose ListSecrets answers with a
 * state up to `listLagMs` old, for processes whose AWS clients this code does not build (the Lambda
 * bundle the demo imports makes its own from `AWS_ENDPOINT_URL`): AWS documents that "ListSecrets
 * might not reflect changes from the last five minutes". Every other call is passed through as it
 * came. The lag is judged by `now`, so a simulated clock drives it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListSecretsCommandInput, SecretListEntry } from '@aws-sdk/client-secrets-manager';
import { type LagChoice, LaggingListings, LIST_SECRETS_LAG_MS, readAllPages } from './eventual-consistency';

/** Options of {@link startLaggingProxy}. */
export interface LaggingProxyOptions {
  /** The endpoint calls are passed to (`http://127.0.0.1:PORT`). */
  target: string;
  now: () => Date;
  /** How old a ListSecrets answer may be; default {@link LIST_SECRETS_LAG_MS} (5 minutes). */
  listLagMs?: number | undefined;
  /** Which state within the lag answers: the oldest (default, the worst case AWS allows) or the freshest. */
  choice?: LagChoice | undefined;
}

/** A running proxy. */
export interface LaggingProxy {
  /** `http://127.0.0.1:PORT`: what `AWS_ENDPOINT_URL` is set to. */
  endpoint: string;
  close(): Promise<void>;
}

/** The most bytes of one request body it reads (Secrets Manager's own limits are far below). */
const MAX_BODY_BYTES = 1024 * 1024;
const LIST_SECRETS_TARGET = 'secretsmanager.ListSecrets';
const JSON_TYPE = 'application/x-amz-json-1.1';
const HOP_HEADERS = new Set([
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'expect',
  'upgrade',
  'proxy-connection',
]);

/**
 * Starts the proxy on a free port of 127.0.0.1.
 *
 * @example
 * ```ts
 * const proxy = await startLaggingProxy({ target: moto.endpoint, now: clock.now });
 * process.env.AWS_ENDPOINT_URL = proxy.endpoint;
 * ```
 */
export async function startLaggingProxy(options: LaggingProxyOptions): Promise<LaggingProxy> {
  const listings = new LaggingListings({
    lagMs: options.listLagMs ?? LIST_SECRETS_LAG_MS,
    choice: options.choice ?? 'oldest',
    now: options.now,
  });
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': JSON_TYPE });
      res.end(JSON.stringify({ __type: 'InternalServiceError', message: `proxy: ${(e as Error).message}` }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== LIST_SECRETS_TARGET) return pass(req, body, res);
    const input = JSON.parse(body.toString('utf8') || '{}') as ListSecretsCommandInput;
    let failure: { status: number; headers: Headers; body: Buffer } | undefined;
    const readPage = async (page: ListSecretsCommandInput) => {
      const answer = await forward(req, Buffer.from(JSON.stringify(page)));
      if (answer.status !== 200) {
        failure = answer;
        throw new Error('listing refused');
      }
      const parsed = JSON.parse(answer.body.toString('utf8')) as {
        SecretList?: SecretListEntry[];
        NextToken?: string | null;
      };
      // On the wire the last page may say `"NextToken": null`.
      return { SecretList: parsed.SecretList, NextToken: parsed.NextToken ?? undefined };
    };
    try {
      const page = await listings.list(input, (request) => readAllPages(request, readPage));
      res.writeHead(200, { 'content-type': JSON_TYPE });
      res.end(JSON.stringify(page));
    } catch (e) {
      // The target's own refusal (a throttle, a bad filter) is answered as it was.
      if (failure === undefined) throw e;
      res.writeHead(failure.status, { 'content-type': failure.headers.get('content-type') ?? JSON_TYPE });
      res.end(failure.body);
    }
  }

  async function pass(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const answer = await forward(req, body);
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? JSON_TYPE });
    res.end(answer.body);
  }

  async function forward(req: IncomingMessage, body: Buffer) {
    // The request's own headers, but those that describe the hop (host, length, connection).
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !HOP_HEADERS.has(key)) headers[key] = value;
    }
    const answer = await fetch(`${options.target}${req.url ?? '/'}`, {
      method: req.method ?? 'POST',
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(body),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: answer.status, headers: answer.headers, body: Buffer.from(await answer.arrayBuffer()) };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
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

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
