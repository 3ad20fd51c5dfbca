/**
 * The provider's creates at once against a throttled Secrets Manager (the throttling proxy in
 * front of moto): its clients share one adaptive rate limiter per account and region, so many
 * credentials created together slow down to the quota instead of spending their attempts on
 * throttled calls. The clients are the provider's own (no seam): the endpoint comes from the
 * environment, as a user's would.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { startThrottlingProxy, type ThrottlingProxy } from '../../local-stack/throttling-proxy';
import { create } from '../../provider/runtime';
import { motoEndpoint } from '../helpers/aws';

/** Credentials created at once, against {@link WRITES_PER_SECOND}: two writes each (both secrets, tags included). */
const COUNT = 60;
const WRITES_PER_SECOND = 10;
// Test values planted in the fake's client table, not secrets.
const clients = Object.fromEntries(
  Array.from({ length: COUNT }, (_, i) => [`throttled-client-${i}`, `throttled-secret-${i}-planted`]),
);

describe('the provider creating many credentials at once under write throttling', () => {
  let proxy: ThrottlingProxy;
  let sirv: SirvFake;

  beforeAll(async () => {
    proxy = await startThrottlingProxy(motoEndpoint(), { writesPerSecond: WRITES_PER_SECOND });
    sirv = await startSirvFake({ clients });
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', proxy.endpoint);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await proxy?.close();
    await sirv?.close();
  });

  it('creates every one, with fewer throttled calls than half its writes (each client on its own: about two per write)', async () => {
    // Prepare
    const prefix = `it-throttled-${randomUUID().slice(0, 8)}/`;
    const inputs = Object.keys(clients).map((clientId, i) => ({
      name: `cred-${i}`,
      prefix,
      recoveryWindowInDays: 0,
      issuer: {
        kind: 'sirv',
        url: sirv.tokenUrl,
        allowInsecureHttp: true,
        clientId,
        clientSecret: clients[clientId],
      },
      aws: { region: process.env.AWS_REGION ?? 'us-east-1' },
      codeVersion: '0.1.0',
    }));

    // Act
    const results = await Promise.allSettled(inputs.map((props) => create(props)));

    // Assess
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(failures).toEqual([]);
    const counts = proxy.counts();
    expect(counts.peakWritesPerSecond).toBe(WRITES_PER_SECOND);
    // Without a shared limiter each client retries on its own and the proxy refuses about two
    // calls per write made; with it, the rate settles at the quota.
    expect(counts.throttled).toBeGreaterThan(0);
    expect(counts.throttled).toBeLessThan(counts.forwardedWrites / 2);
  }, 180_000);
});
