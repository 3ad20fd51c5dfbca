import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  secretsManagerOperation,
  startThrottlingProxy,
  type ThrottlingProxy,
  WriteWindow,
} from '../../local-stack/throttling-proxy';
import { motoEndpoint, secretsManagerClient } from '../helpers/aws';

const PREFIX = 'throttling-proxy-test/';

describe('the throttling proxy in front of moto', () => {
  let proxy: ThrottlingProxy;
  let nowMs = 0;
  let viaProxy: SecretsManagerClient;
  let retrying: SecretsManagerClient;
  let direct: SecretsManagerClient;

  beforeAll(async () => {
    proxy = await startThrottlingProxy(motoEndpoint(), { writesPerSecond: 5, now: () => nowMs });
    // One attempt: the test sees each throttling answer instead of the SDK retrying it away.
    viaProxy = secretsManagerClient({ endpoint: proxy.endpoint, maxAttempts: 1 });
    // Two attempts: the SDK retries only what it classes as retryable (throttling among them).
    retrying = secretsManagerClient({ endpoint: proxy.endpoint, maxAttempts: 2 });
    direct = secretsManagerClient();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('answers the write past the limit within one second with ThrottlingException, lets reads pass, and admits writes again a second later', async () => {
    // Prepare: five writes within the same instant fill the window.
    nowMs = 10_000;
    for (let i = 0; i < 5; i++) {
      await viaProxy.send(new CreateSecretCommand({ Name: `${PREFIX}ok-${i}`, SecretString: 'v' }));
    }

    // Act
    const refused = await retrying.send(new CreateSecretCommand({ Name: `${PREFIX}refused`, SecretString: 'v' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    const read = await viaProxy.send(new DescribeSecretCommand({ SecretId: `${PREFIX}ok-0` }));
    nowMs += 999;
    const stillRefused = await viaProxy
      .send(new DeleteSecretCommand({ SecretId: `${PREFIX}ok-0`, ForceDeleteWithoutRecovery: true }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    nowMs += 1;
    const admitted = await viaProxy.send(
      new DeleteSecretCommand({ SecretId: `${PREFIX}ok-0`, ForceDeleteWithoutRecovery: true }),
    );

    // Assess: the SDK parses the proxy's answer as Secrets Manager's throttling error and retries
    // it (the clock stands still, so the retry is throttled too).
    expect(refused).toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400, attempts: 2 },
    });
    expect(stillRefused).toMatchObject({ name: 'ThrottlingException' });
    expect(read.Name).toBe(`${PREFIX}ok-0`);
    expect(admitted.Name).toBe(`${PREFIX}ok-0`);
    // The refused write never reached moto.
    await expect(direct.send(new DescribeSecretCommand({ SecretId: `${PREFIX}refused` }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    expect(proxy.counts()).toEqual({
      forwardedWrites: 6,
      throttled: 3,
      forwardedOther: 1,
      throttledByOperation: { CreateSecret: 2, DeleteSecret: 1 },
      peakWritesPerSecond: 5,
    });
  });

  it('refuses to forward anywhere but a loopback http endpoint', async () => {
    await expect(startThrottlingProxy('https://secretsmanager.us-east-1.amazonaws.com')).rejects.toThrow(/loopback/);
    await expect(startThrottlingProxy('http://10.0.0.1:4566')).rejects.toThrow(/loopback/);
  });
});

describe('the write window', () => {
  it('never admits more than the limit within any one second, and refuses only a write that would exceed it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 200 }),
        (limit, gaps) => {
          let now = 0;
          const window = new WriteWindow(limit, () => now);
          const admitted: number[] = [];
          for (const gap of gaps) {
            now += gap;
            const inWindow = admitted.filter((t) => t > now - 1000).length;
            const ok = window.admit();
            expect(ok).toBe(inWindow < limit);
            if (ok) admitted.push(now);
          }
          expect(window.peak).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });

  it('reads the operation from X-Amz-Target and ignores other services', () => {
    expect(secretsManagerOperation('secretsmanager.PutSecretValue')).toBe('PutSecretValue');
    expect(secretsManagerOperation(['secretsmanager.TagResource'])).toBe('TagResource');
    expect(secretsManagerOperation('AWSLambda.Invoke')).toBeUndefined();
    expect(secretsManagerOperation(undefined)).toBeUndefined();
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new WriteWindow(0, () => 0)).toThrow(/writesPerSecond/);
    expect(() => new WriteWindow(1.5, () => 0)).toThrow(/writesPerSecond/);
  });
});
