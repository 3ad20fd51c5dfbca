import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../core/errors';
import { jwtExpiresAt, resolveExpiry } from '../../../core/issuers';
import { PLAUSIBLE_LIFETIME_SECONDS } from '../../../core/untrusted-time';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse, jwt, NOW, NOW_SECONDS } from './fake-fetch';
import { oauth2Config } from './issuer-cases';

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

  it('caps a claim beyond the 7-day plausibility window at maxLifetimeSeconds instead of refusing it', async () => {
    // An oauth2 answer without expires_in whose JWT exp is 30 days out.
    const value = await jwt({ exp: NOW_SECONDS + 30 * 86400 });
    const { fetch } = fakeFetch(jsonResponse({ access_token: value, token_type: 'Bearer' }));
    const token = await obtainFrom(oauth2Config({ maxLifetimeSeconds: 3600 }), {
      credential: 'c',
      fetch,
      now: frozenNow,
    });
    expect(seconds(token.expiresAt)).toBe(3600);
  });

  it('with maxLifetimeSeconds set, stores the earlier of the claim and the cap, however far the claim', async () => {
    const claim = fc.oneof(
      fc.integer({ min: 61, max: PLAUSIBLE_LIFETIME_SECONDS }),
      // Up to about 300 years: a stated lifetime a token record could not hold is bad-expiry instead.
      fc.integer({ min: PLAUSIBLE_LIFETIME_SECONDS, max: 1e10 }),
    );
    await fc.assert(
      fc.asyncProperty(claim, fc.integer({ min: 61, max: 365 * 86400 }), fc.boolean(), async (life, cap, asExp) => {
        const claimed = asExp
          ? input({ accessToken: await jwt({ exp: NOW_SECONDS + life }) })
          : input({ statedLifetime: life });
        expect(seconds(resolveExpiry({ ...claimed, maxLifetimeSeconds: cap }))).toBe(Math.min(life, cap));
      }),
      { numRuns: 100 },
    );
  });

  it('without maxLifetimeSeconds, still refuses a claim beyond 7 days', () => {
    expect(() => resolveExpiry(input({ statedLifetime: 30 * 86400 }))).toThrow(
      expect.objectContaining({ code: 'MalformedResponse', reason: 'implausible-lifetime' }),
    );
  });

  it('accepts a numeric string and ignores null', () => {
    expect(seconds(resolveExpiry(input({ statedLifetime: ' 3600 ' })))).toBe(3600);
    expect(seconds(resolveExpiry(input({ statedLifetime: null, defaultLifetimeSeconds: 60 * 5 })))).toBe(300);
  });

  it.each([['abc'], [0], [-1], [Number.NaN], [{}], [true]])('refuses the stated lifetime %j', (statedLifetime) => {
    expect(() => resolveExpiry(input({ statedLifetime }))).toThrow(MalformedResponseError);
  });

  it('refuses a token expiring within a minute of arrival', () => {
    const error = caught(() => resolveExpiry(input({ statedLifetime: 59 })));
    expect(error).toMatchObject({ code: 'MalformedResponse', reason: 'token-expired-on-arrival' });
  });

  it('measures the remaining life from arrival when the answer was slow', () => {
    const receivedAt = new Date(NOW.getTime() + 250_000);
    expect(() => resolveExpiry(input({ statedLifetime: 300, receivedAt }))).toThrow(/expires in 50 s/);
  });

  it("moves a JWT's exp onto our clock by the issuer's Date header, up to 15 minutes off", async () => {
    const dateAt = (offsetSeconds: number) => new Date(NOW.getTime() + offsetSeconds * 1000).toUTCString();
    // An issuer 10 minutes behind: its exp is already past on our clock, but its API accepts the token.
    const behind = await jwt({ iat: NOW_SECONDS - 600, exp: NOW_SECONDS - 600 + 300 });
    expect(seconds(resolveExpiry(input({ accessToken: behind, issuerDate: dateAt(-600) })))).toBe(300);
    // An issuer 10 minutes ahead: its token lives 1200 s from when we asked, not 1800.
    const ahead = await jwt({ iat: NOW_SECONDS + 600, exp: NOW_SECONDS + 600 + 1200 });
    expect(seconds(resolveExpiry(input({ accessToken: ahead, issuerDate: dateAt(600) })))).toBe(1200);
    // A stated lifetime still caps it.
    expect(seconds(resolveExpiry(input({ accessToken: ahead, issuerDate: dateAt(600), statedLifetime: 900 })))).toBe(
      900,
    );
  });

  it('takes exp as it is for a token issued minutes ago by a clock that agrees with ours (a cached token)', async () => {
    const cached = await jwt({ iat: NOW_SECONDS - 660, exp: NOW_SECONDS - 660 + 1200 });
    expect(seconds(resolveExpiry(input({ accessToken: cached, issuerDate: NOW.toUTCString() })))).toBe(540);
    expect(seconds(resolveExpiry(input({ accessToken: cached })))).toBe(540);
  });

  it('takes exp as it is past 15 minutes of skew, or with a Date header that is no HTTP-date', async () => {
    const token = await jwt({ exp: NOW_SECONDS + 500 });
    const far = new Date(NOW.getTime() - 3600_000).toUTCString();
    expect(seconds(resolveExpiry(input({ accessToken: token, issuerDate: far })))).toBe(500);
    for (const issuerDate of ['yesterday', '1796636068', '', null]) {
      expect(seconds(resolveExpiry(input({ accessToken: token, issuerDate })))).toBe(500);
    }
  });

  it('never gives a token more life than exp claims on the issuer clock, whatever the skew (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -1800, max: 1800 }),
        fc.integer({ min: 120, max: 86_400 }),
        async (skew, life) => {
          const accessToken = await jwt({ exp: NOW_SECONDS + skew + life });
          const issuerDate = new Date(NOW.getTime() + skew * 1000).toUTCString();
          let expires: Date;
          try {
            expires = resolveExpiry(input({ accessToken, issuerDate }));
          } catch (e) {
            // Only a token expired on our clock (skew past the bound) may be refused.
            expect(e).toBeInstanceOf(MalformedResponseError);
            expect(Math.abs(skew)).toBeGreaterThan(900);
            return;
          }
          if (Math.abs(skew) >= 2 && Math.abs(skew) <= 900) expect(seconds(expires)).toBe(life);
          else expect(seconds(expires)).toBe(skew + life);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('ignores a JWT-looking token whose exp is not a number', async () => {
    expect(jwtExpiresAt(await jwt({ exp: 'tomorrow' }))).toBeUndefined();
    expect(jwtExpiresAt('a.b.c')).toBeUndefined();
  });
});
