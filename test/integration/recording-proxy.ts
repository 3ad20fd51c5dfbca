/**
 * A loopback HTTP proxy in front of moto that keeps every Lambda Invoke request moto received,
 * byte for byte, with moto's answer. moto runs no function without Docker and keeps no payload:
 * its default Lambda backend answers an `Event` invoke with 202 after writing one log stream
 * ("error running docker: …") to the function's log group, and its Docker-less "simple" backend
 * (`/moto-api/config` `{"lambda":{"use_docker":false}}`) only echoes the payload back to the
 * caller, and switches every Lambda call of the shared server to a separate set of functions.
 * So the payloads are taken here, on their way to moto, and moto's log streams confirm the count.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Invoke moto received. */
export interface RecordedInvoke {
  /** The function name or ARN in the request path, URL-decoded. */
  functionName: string;
  invocationType: string | undefined;
  payload: string;
  /** moto's HTTP status (202 for an accepted asynchronous invoke); 429 when the proxy throttled it. */
  status: number;
  /** False when the proxy answered itself (throttling) and moto never saw the request. */
  reachedMoto: boolean;
}

/** The proxy: point `AWS_ENDPOINT_URL_LAMBDA` at `endpoint`. */
export interface RecordingProxy {
  endpoint: string;
  invokes: RecordedInvoke[];
  /**
   * From now on, answers the first Invoke payload seen, and every retry of it, with Lambda's
   * throttling error instead of passing it on, as a busy account would: moto never sees it.
   */
  throttleFirstPayload(): void;
  /** Passes every Invoke on again. */
  stopThrottling(): void;
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const MAX_BODY_BYTES = 6 * 1024 * 1024;

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) request.destroy(new Error('request body over 6 MiB'));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Starts the proxy on 127.0.0.1, forwarding to `target` (moto's endpoint). */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const invokes: RecordedInvoke[] = [];
  let throttling = false;
  let throttledPayload: string | undefined;
  const server: Server = createServer(async (request, response) => {
    try {
      const body = await readBody(request);
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      const invoke = INVOKE_PATH.exec(path);
      if (invoke && throttling) {
        throttledPayload ??= body.toString('utf8');
        if (throttledPayload === body.toString('utf8')) {
          invokes.push({
            functionName: decodeURIComponent(invoke[1] ?? ''),
            invocationType: request.headers['x-amz-invocation-type'] as string | undefined,
            payload: body.toString('utf8'),
            status: 429,
            reachedMoto: false,
          });
          response.writeHead(429, {
            'content-type': 'application/json',
            'x-amzn-errortype': 'TooManyRequestsException',
          });
          response.end(
            JSON.stringify({
              Type: 'User',
              message: 'Rate Exceeded.',
              Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
            }),
          );
          return;
        }
      }
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
          ([k, v]) => typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k),
        ),
      ) as Record<string, string>;
      const answer = await fetch(`${target}${request.url ?? '/'}`, {
        method: request.method,
        headers,
        body: body.length > 0 ? body : undefined,
        signal: AbortSignal.timeout(30_000),
      });
      const answerBody = Buffer.from(await answer.arrayBuffer());
      if (invoke) {
        invokes.push({
          functionName: decodeURIComponent(invoke[1] ?? ''),
          invocationType: request.headers['x-amz-invocation-type'] as string | undefined,
          payload: body.toString('utf8'),
          status: answer.status,
          reachedMoto: true,
        });
      }
      const out: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) out[k] = v;
      });
      response.writeHead(answer.status, out);
      response.end(answerBody);
    } catch (e) {
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`recording proxy: ${(e as Error).message}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    invokes,
    throttleFirstPayload() {
      throttling = true;
      throttledPayload = undefined;
    },
    stopThrottling() {
      throttling = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
