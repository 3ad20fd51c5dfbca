import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../core/errors';
import { jwtExpiresAt, resolveExpiry } from '../../../core/issuers';
import { jwt, NOW, NOW_SECONDS } from './fake-fetch';

const input = (overrides: Partial<Parameters<typeof resolveExpiry>[0]> = {}) => ({
  credential: 'c',
  kind: 'json',
  accessToken: 'opaque-token',
  issuedAt: NOW,
  ...overrides,
});
const seconds = (date: Date) => (date.getTime() - NOW.getTime()) / 1000;

describe('resolveExpiry', () => {
  it('uses the stated lifetime for an opaque token', () => {
    expect(seconds(resolveExpiry(input({ statedLifetime: 1200 })))).toBe(1200);
  });

  it('takes the earliest of stated lifetime and JWT exp', async () => {
    const accessToken = await jwt({ exp: NOW_SECONDS + 100 });
    expect(seconds(resolveExpiry(input({ accessToken, statedLifetime: 1200 })))).toBe(100);
    expect(seconds(resolveExpiry(input({ accessToken, statedLifetime: 90 })))).toBe(90);
  });

  it('falls back to the default only when neither a lifetime nor an exp is known', async () => {
    expect(seconds(resolveExpiry(input({ defaultLifetimeSeconds: 3600 })))).toBe(3600);
    const accessToken = await jwt({ exp: NOW_SECONDS + 7200 });
    expect(seconds(resolveExpiry(input({ accessToken, defaultLifetimeSeconds: 3600 })))).toBe(7200);
  });

  it('caps at maxLifetimeSeconds', () => {
    expect(seconds(resolveExpiry(input({ statedLifetime: 86400, maxLifetimeSeconds: 600 })))).toBe(600);
  });

  it('accepts a numeric string and ignores null', () => {
    expect(seconds(resolveExpiry(input({ statedLifetime: ' 3600 ' })))).toBe(3600);
    expect(seconds(resolveExpiry(input({ statedLifetime: null, defaultLifetimeSeconds: 60 * 5 })))).toBe(300);
  });

  it.each([['abc'], [0], [-1], [Number.NaN], [{}], [true]])('refuses the stated lifetime %j', (statedLifetime) => {
    expect(() => resolveExpiry(input({ statedLifetime }))).toThrow(MalformedResponseError);
  });

  it('refuses a token expiring within a minute of arrival', () => {
    const error = (() => {
      try {
        resolveExpiry(input({ statedLifetime: 59 }));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ code: 'MalformedResponse', reason: 'token-expired-on-arrival' });
  });

  it('measures the remaining life from arrival when the answer was slow', () => {
    const receivedAt = new Date(NOW.getTime() + 250_000);
    expect(() => resolveExpiry(input({ statedLifetime: 300, receivedAt }))).toThrow(/expires in 50 s/);
  });

  it('ignores a JWT-looking token whose exp is not a number', async () => {
    expect(jwtExpiresAt(await jwt({ exp: 'tomorrow' }))).toBeUndefined();
    expect(jwtExpiresAt('a.b.c')).toBeUndefined();
  });
});
