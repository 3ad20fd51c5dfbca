/**
 * Hostile and drifting issuers against moto and real loopback servers: one sweep over healthy
 * credentials mixed with issuers that send a huge body, an endless stream, a gzip bomb, an absurd
 * Retry-After, a token with CR/LF, a body that trickles past the timeout; a vendor that shortens
 * its tokens mid-life; a vendor that hands out the same token again. The sweep completes inside
 * its invocation, every healthy credential is refreshed, nothing hostile is stored, and the
 * shortened token is stored with its write-budget breach reported.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientDocumentInput,
  createCredentialSecrets,
  deleteCredentialSecrets,
  describeCredential,
  readToken,
  TAG_KEYS,
} from '../../core/store';
import type { TokenRecord } from '../../core/token';
import { MAX_RETRY_AFTER_SECONDS } from '../../core/untrusted-time';
import { createHandler, type InvocationContext } from '../../lambda';
import { secretsManagerClient } from '../helpers/aws';
import { frozenClock } from '../helpers/fleet';

const PREFIX = `hostile-${Date.now().toString(36)}/`;
const INVOCATION_MS = 60_000;
const clock = frozenClock(new Date(Math.floor((Date.now() - 86_400_000) / 1000) * 1000));
const REPEATED = `repeated-${randomUUID()}`;
const HEALTHY = ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-5', 'ok-6'];
const HOSTILE = ['huge', 'endless', 'bomb', 'retry', 'crlf', 'slow'] as const;

let server: Server;
let base: string;
let sm: SecretsManagerClient;
/** Every token the servers handed out. */
const issued = new Set<string>();
/** The lifetime the shortening vendor hands out now. */
let shortenedLifetime = 1200;

function token(): string {
  const value = `tok-${randomUUID()}`;
  issued.add(value);
  return value;
}

beforeAll(async () => {
  sm = secretsManagerClient();
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
  server = createServer((req, res) => {
    const route = (req.url ?? '/').split('/')[1];
    const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    switch (route) {
      case 'healthy':
        return json({ token: token(), expiresIn: 1200 });
      case 'shorten':
        return json({ token: token(), expiresIn: shortenedLifetime });
      case 'repeat':
        return json({ token: REPEATED, expiresIn: 1200 });
      case 'huge':
        return json({ token: token(), expiresIn: 1200, filler: 'a'.repeat(8 * 1024 * 1024) });
      case 'bomb':
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return res.end(bomb);
      case 'retry':
        return json({ error: 'overloaded' }, 503, { 'retry-after': '99999999999999999999' });
      case 'crlf':
        return json({ token: `${token()}\r\nx-injected: 1`, expiresIn: 1200 });
      case 'endless': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const write = () => {
          while (!res.destroyed && res.write(chunk)) {}
          if (!res.destroyed) res.once('drain', write);
        };
        return write();
      }
      case 'slow': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"tok');
        const timer = setInterval(() => res.write(' '), 200);
        res.on('close', () => clearInterval(timer));
        return;
      }
      default:
        return json({ error: 'no route' }, 404);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const all = [
    ...HEALTHY.map((n) => [n, 'healthy']),
    ...HOSTILE.map((n) => [n, n]),
    ['shorten', 'shorten'],
    ['repeat', 'repeat'],
  ];
  for (const [name, route] of all as [string, string][]) {
    const doc: ClientDocumentInput = {
      version: 1,
      issuer: {
        kind: 'json',
        url: `${base}/${route}/${name}`,
        allowInsecureHttp: true,
        clientId: `client-${name}`,
        clientSecret: `secret-of-${name}-0123`,
        defaultLifetimeSeconds: 1200,
        timeoutSeconds: 2,
      },
      policy: {},
    };
    await createCredentialSecrets(
      { client: sm, prefix: PREFIX },
      { name, clientDocument: doc, token: dueRecord(name) },
    );
  }
}, 120_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  const names = [...HEALTHY, ...HOSTILE, 'shorten', 'repeat'];
  await Promise.allSettled(
    names.map((n) => deleteCredentialSecrets({ client: sm, prefix: PREFIX }, n, { recoveryWindowInDays: 0 })),
  );
});

/** A record issued 1000 s ago that expires in 200 s: due now. */
function dueRecord(name: string): TokenRecord {
  const now = clock.now().getTime();
  const iso = (s: number) => new Date(now + s * 1000).toISOString();
  const accessToken = name === 'repeat' ? REPEATED : token();
  return {
    version: 1,
    credential: name,
    issuer: 'json',
    accessToken,
    tokenType: 'Bearer',
    issuedAt: iso(-1000),
    expiresAt: iso(200),
    refreshAfter: iso(-100),
    generation: 3,
  };
}

function rotator(metrics: Record<string, number>) {
  return createHandler({
    secretsManager: sm,
    now: clock.now,
    random: () => 0.5,
    env: { TOKEN_ROTATOR_PREFIX: PREFIX, TOKEN_ROTATOR_CONCURRENCY: '4', TOKEN_ROTATOR_BATCH_SIZE: '1000' },
    logger: new Logger({ serviceName: 'token-rotator', logLevel: 'SILENT' }),
    metrics: {
      addMetric: (name: string, _unit: unknown, value: number) => {
        metrics[name] = value;
      },
      publishStoredMetrics: () => {},
      setDefaultDimensions: () => {},
    } as never,
  });
}

function invocation(): InvocationContext {
  const deadline = Date.now() + INVOCATION_MS;
  return { getRemainingTimeInMillis: () => deadline - Date.now(), functionName: 'token-rotator' };
}

const read = async (name: string) => (await readToken({ client: sm, prefix: PREFIX }, name)) as TokenRecord;
const tags = async (name: string) => (await describeCredential({ client: sm, prefix: PREFIX }, name)).token.tags;

describe('a sweep over hostile and healthy issuers', () => {
  it('completes within its invocation, refreshes every healthy credential and stores nothing hostile', async () => {
    const before = new Map<string, TokenRecord>();
    for (const name of [...HEALTHY, ...HOSTILE, 'repeat']) before.set(name, await read(name));
    const metrics: Record<string, number> = {};
    const context = invocation();
    const rssBefore = process.memoryUsage().rss;
    const summary = (await rotator(metrics)({ action: 'sweep' }, context)) as Record<string, unknown>;
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    // The endless stream, the bomb and the huge body cost their cap, not the Lambda's 256 MiB.
    expect(rssGrowth).toBeLessThan(128 * 1024 * 1024);
    expect(summary).toMatchObject({
      listed: 14,
      due: 14,
      refreshed: 7,
      failed: 7,
      deferred: 0,
      writeBudgetBreached: 0,
    });
    for (const name of HEALTHY) {
      const stored = await read(name);
      expect(stored.generation, name).toBe(4);
      expect(issued.has(stored.accessToken), name).toBe(true);
    }
    for (const name of [...HOSTILE, 'repeat']) {
      const stored = await read(name);
      expect(stored, `${name} keeps its token`).toEqual(before.get(name));
      const t = await tags(name);
      expect(t[TAG_KEYS.lastError], name).toMatch(/^(MalformedResponse|IssuerUnavailable)$/);
      const next = Number(t[TAG_KEYS.nextAttempt]);
      expect(Number.isInteger(next), `${name} next-attempt tag`).toBe(true);
      expect(next * 1000 - clock.now().getTime()).toBeLessThanOrEqual(MAX_RETRY_AFTER_SECONDS * 1000);
    }
  });

  it('stores the tokens of a vendor that shortened them mid-life, reports the breach, and keeps refreshing', async () => {
    shortenedLifetime = 300;
    clock.advance(1200);
    const metrics: Record<string, number> = {};
    const first = (await rotator(metrics)({ credentials: ['shorten'] }, invocation())) as { results: unknown[] };
    expect(first.results).toEqual([
      expect.objectContaining({ credential: 'shorten', ok: true, writeBudgetBreached: true }),
    ]);
    const stored = await read('shorten');
    expect(Date.parse(stored.expiresAt) - Date.parse(stored.issuedAt)).toBe(300_000);
    // Refreshed as late as the margin (two 60 s ticks) allows: one write per 180 s.
    expect(Date.parse(stored.refreshAfter)).toBe(Date.parse(stored.expiresAt) - 120_000);
    expect((await tags('shorten'))[TAG_KEYS.writeBudget]).toBe('breached');
    expect(metrics.WriteBudgetBreached).toBe(1);

    // Not blocked: at its refresh time the next sweep refreshes it again.
    clock.advance(181);
    const again = (await rotator(metrics)({ action: 'sweep' }, invocation())) as Record<string, unknown>;
    expect(again).toMatchObject({ writeBudgetBreached: 1 });
    expect((await read('shorten')).generation).toBe(stored.generation + 1);
  });

  it('never stores a repeated token as a new generation with a later expiry', async () => {
    // Past the backoff of the earlier sweeps' failures, which a forced refresh respects too.
    clock.advance(660);
    const before = await read('repeat');
    const result = (await rotator({})({ credentials: ['repeat'], force: true }, invocation())) as {
      results: unknown[];
    };
    expect(result.results).toEqual([
      expect.objectContaining({
        credential: 'repeat',
        ok: false,
        error: expect.objectContaining({ code: 'MalformedResponse' }),
      }),
    ]);
    const after = await read('repeat');
    expect(after.generation).toBe(before.generation);
    expect(after.expiresAt).toBe(before.expiresAt);
  });
});
