import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ForwardingProxy, startForwardingProxy } from '../../../local-stack/forwarding-proxy';

/** What the upstream received last. */
let received: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string } | undefined;
let upstream: Server;
let target: string;
const proxies: ForwardingProxy[] = [];

beforeAll(async () => {
  upstream = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received = {
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      };
      response.writeHead(201, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'r-1' });
      response.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const proxy of proxies) await proxy.close();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

async function start(options: Partial<Parameters<typeof startForwardingProxy>[0]> = {}) {
  const proxy = await startForwardingProxy({ target, name: 'test proxy', ...options });
  proxies.push(proxy);
  return proxy;
}

describe('the forwarding proxy', () => {
  it('passes a request on as it came, but for the headers of the hop, and answers with what came back', async () => {
    const proxy = await start();
    const answer = await fetch(`${proxy.endpoint}/path?q=1`, {
      method: 'POST',
      headers: { 'x-amz-target': 'secretsmanager.ListSecrets', authorization: 'AWS4-HMAC-SHA256 planted' },
      body: '{"MaxResults":2}',
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('x-amzn-requestid')).toBe('r-1');
    expect(await answer.text()).toBe('{"ok":true}');
    expect(received).toMatchObject({
      method: 'POST',
      url: '/path?q=1',
      body: '{"MaxResults":2}',
      headers: { 'x-amz-target': 'secretsmanager.ListSecrets', authorization: 'AWS4-HMAC-SHA256 planted' },
    });
    // The upstream's own host, not the proxy's.
    expect(received?.headers.host).toBe(new URL(target).host);
  });

  it("lets the proxy's handler answer itself, or pass on a body of its own", async () => {
    const proxy = await start({
      handle: async (request, forward) =>
        request.url === '/self'
          ? { status: 400, headers: { 'content-type': 'text/plain' }, body: 'refused here' }
          : forward(Buffer.from('replaced')),
    });
    received = undefined;
    const refused = await fetch(`${proxy.endpoint}/self`, { method: 'POST', body: 'x' });
    expect([refused.status, await refused.text()]).toEqual([400, 'refused here']);
    expect(received).toBeUndefined();
    const passed = await fetch(`${proxy.endpoint}/other`, { method: 'POST', body: 'original' });
    expect(passed.status).toBe(201);
    expect(received).toMatchObject({ url: '/other', body: 'replaced' });
  });

  it('answers 502 naming itself when the target cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const proxy = await startForwardingProxy({ target: `http://127.0.0.1:${port}`, name: 'test proxy' });
    proxies.push(proxy);
    const answer = await fetch(`${proxy.endpoint}/`, { method: 'POST', body: 'x' });
    expect(answer.status).toBe(502);
    expect(await answer.text()).toMatch(/^test proxy: /);
  });

  it('forwards to a loopback http endpoint only', async () => {
    for (const elsewhere of [
      'https://secretsmanager.us-east-1.amazonaws.com',
      'http://10.0.0.1:4566',
      'https://127.0.0.1:1',
    ]) {
      await expect(startForwardingProxy({ target: elsewhere, name: 'test proxy' })).rejects.toThrow(
        `the test proxy forwards to a loopback http endpoint only, not ${elsewhere}`,
      );
    }
  });
});
