import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenRotatorError } from '../../../core/errors';
import type { RunningFake } from '../../../local-stack/fakes/faults';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { FAKE_CASES, FAULT_EXPECTATIONS } from './fake-cases';

describe.each(FAKE_CASES)('$name over loopback HTTP', (fakeCase) => {
  let fake: RunningFake & { tokenUrl: string };
  beforeAll(async () => {
    fake = await fakeCase.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.clearFaults();
    fake.setLatency(0);
  });
  const obtain = (overrides: Record<string, unknown> = {}) =>
    obtainFrom(fakeCase.config(fake, overrides), { credential: `it-${fakeCase.name}` });

  it('obtains a token whose expiry is the stated lifetime', async () => {
    // Prepare
    const before = Date.now();
    const issuedBefore = fake.tokensIssued;
    // Act
    const token = await obtain();
    // Assess
    expect(token.tokenType).toBe('Bearer');
    expect(decodeJwt(token.accessToken).exp).toBeTypeOf('number');
    const lifetime = (token.expiresAt.getTime() - token.issuedAt.getTime()) / 1000;
    expect(lifetime).toBeGreaterThan(fakeCase.lifetimeSeconds - 2);
    expect(lifetime).toBeLessThanOrEqual(fakeCase.lifetimeSeconds);
    expect(token.issuedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(fake.tokensIssued).toBe(issuedBefore + 1);
  });

  it.each(FAULT_EXPECTATIONS)(
    'maps the injected fault $fault to $code',
    async ({ fault, code, reason, retryAfterSeconds }) => {
      fake.injectFault(fault);
      const error = await caught(obtain({ timeoutSeconds: 0.3 }), TokenRotatorError);
      expect(error).toBeInstanceOf(TokenRotatorError);
      expect(error.code).toBe(code);
      if (reason !== undefined) expect(error.reason).toBe(reason);
      if (retryAfterSeconds !== undefined) expect(error.retryAfterSeconds).toBe(retryAfterSeconds);
      expect(error.credential).toBe(`it-${fakeCase.name}`);
    },
  );

  it('recovers on the next request once a queued fault is spent', async () => {
    fake.injectFault({ status: 503 }, 2);
    await expect(obtain()).rejects.toMatchObject({ code: 'IssuerUnavailable' });
    await expect(obtain()).rejects.toMatchObject({ code: 'IssuerUnavailable' });
    await expect(obtain()).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('lets a JWT exp earlier than the stated lifetime win (shortExp)', async () => {
    fake.injectFault('shortExp');
    const token = await obtain();
    const exp = decodeJwt(token.accessToken).exp ?? 0;
    expect(token.expiresAt.getTime()).toBe(exp * 1000);
    expect((token.expiresAt.getTime() - token.issuedAt.getTime()) / 1000).toBeLessThan(fakeCase.lifetimeSeconds);
  });

  it('falls back to the kind default when no expiry is stated (missingExpiry)', async () => {
    fake.injectFault('missingExpiry');
    const token = await obtain();
    expect(decodeJwt(token.accessToken).exp).toBeUndefined();
    const lifetime = (token.expiresAt.getTime() - token.issuedAt.getTime()) / 1000;
    expect(lifetime).toBe(fakeCase.lifetimeSeconds);
  });

  it('caps the expiry at maxLifetimeSeconds', async () => {
    const token = await obtain({ maxLifetimeSeconds: 300 });
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBe(300_000);
  });

  it('rejects a revoked client as invalid credentials, and accepts it again once restored', async () => {
    fake.revokeClient(fakeCase.clientId);
    await expect(obtain()).rejects.toMatchObject({ code: 'InvalidCredentials' });
    fake.restoreClient(fakeCase.clientId);
    await expect(obtain()).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('rejects a wrong secret as invalid credentials', async () => {
    await expect(obtain({ clientSecret: 'definitely-wrong-secret' })).rejects.toMatchObject({
      code: 'InvalidCredentials',
    });
  });

  it('times out on latency longer than timeoutSeconds, and the fake still closes cleanly', async () => {
    fake.setLatency(400);
    await expect(obtain({ timeoutSeconds: 0.1 })).rejects.toMatchObject({
      code: 'IssuerUnavailable',
      reason: 'timeout',
    });
  });

  it('records each request for assertions', async () => {
    const before = fake.requests.length;
    await obtain();
    const request = fake.requests[before];
    expect(request?.path).toBe(new URL(fake.tokenUrl).pathname);
    expect(JSON.stringify([request?.headers, request?.body])).toContain(fakeCase.clientId);
  });

  it('draws persistent faults from an injected random source', async () => {
    const draws = [0.05, 0.5, 0.05, 0.9];
    let i = 0;
    fake.setFaultRate({ status500: 0.1 }, () => draws[i++ % draws.length] ?? 0.99);
    const outcomes: string[] = [];
    for (let n = 0; n < 4; n++) {
      outcomes.push(
        await obtain().then(
          () => 'ok',
          (error: TokenRotatorError) => error.code,
        ),
      );
    }
    expect(outcomes).toEqual(['IssuerUnavailable', 'ok', 'IssuerUnavailable', 'ok']);
  });
});
