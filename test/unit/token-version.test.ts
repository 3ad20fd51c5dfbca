import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currentVersionId, decodeTokenVersion, encodeTokenVersion, tokenDigest } from '../../core/token-version';

const record = {
  credential: 'sirv-prod',
  generation: 42,
  accessToken: 'PLANTED-access-token-1f2e',
  refreshAfter: '2026-11-22T12:14:03.250Z',
  expiresAt: '2026-11-22T12:20:00.000Z',
};

// Instants the codec accepts: whole seconds between 2001 and 2286.
const epochSeconds = fc.integer({ min: 1_000_000_000, max: 9_999_999_999 });

describe('encodeTokenVersion and decodeTokenVersion', () => {
  it('round-trips generation, refresh-after and expiry (to the second) within 32-64 characters', () => {
    const id = encodeTokenVersion(record);
    expect(id.length).toBeGreaterThanOrEqual(32);
    expect(id.length).toBeLessThanOrEqual(64);
    expect(decodeTokenVersion(id)).toEqual({
      generation: 42,
      refreshAfter: new Date('2026-11-22T12:14:03.000Z'),
      expiresAt: new Date('2026-11-22T12:20:00.000Z'),
      digest: tokenDigest(record),
    });
  });

  it('never contains the access token, and changes with credential, generation and token', () => {
    const id = encodeTokenVersion(record);
    expect(id).not.toContain(record.accessToken);
    expect(encodeTokenVersion({ ...record, credential: 'other' })).not.toBe(id);
    expect(encodeTokenVersion({ ...record, generation: 43 })).not.toBe(id);
    expect(encodeTokenVersion({ ...record, accessToken: 'another' })).not.toBe(id);
    expect(encodeTokenVersion({ ...record })).toBe(id);
  });

  it('round-trips any generation and pair of instants the codec accepts (property)', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        epochSeconds,
        epochSeconds,
        fc.string({ minLength: 1, maxLength: 200 }),
        (generation, a, b, accessToken) => {
          const [refresh, expires] = a <= b ? [a, b] : [b, a];
          const id = encodeTokenVersion({
            credential: 'c',
            generation,
            accessToken,
            refreshAfter: new Date(refresh * 1000),
            expiresAt: new Date(expires * 1000),
          });
          expect(id).toMatch(/^[0-9a-z-]{32,64}$/);
          const decoded = decodeTokenVersion(id);
          expect(decoded?.generation).toBe(generation);
          expect(decoded?.refreshAfter.getTime()).toBe(refresh * 1000);
          expect(decoded?.expiresAt.getTime()).toBe(expires * 1000);
        },
      ),
    );
  });

  it('decodes no id it did not write: UUIDs, hand-written ids, out-of-range numbers, arbitrary strings (property)', () => {
    expect(decodeTokenVersion('1b4e28ba-2fa1-51d2-883f-0016d3cca427')).toBeUndefined();
    expect(decodeTokenVersion(undefined)).toBeUndefined();
    // Refresh-after later than expiry, and an instant before 2001.
    expect(decodeTokenVersion(`tr1-1-${(2e9).toString(36)}-${(1.9e9).toString(36)}-${'0'.repeat(24)}`)).toBeUndefined();
    expect(decodeTokenVersion(`tr1-1-${(9e8).toString(36)}-${(1.9e9).toString(36)}-${'0'.repeat(24)}`)).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const decoded = decodeTokenVersion(s);
        if (decoded) expect(Number.isSafeInteger(decoded.generation)).toBe(true);
        return decoded === undefined || s.startsWith('tr1-');
      }),
    );
  });

  it('refuses to encode a generation or an instant outside its bounds', () => {
    expect(() => encodeTokenVersion({ ...record, generation: -1 })).toThrow(RangeError);
    expect(() => encodeTokenVersion({ ...record, generation: 1.5 })).toThrow(RangeError);
    expect(() => encodeTokenVersion({ ...record, expiresAt: 'not a date' })).toThrow(/expiresAt/);
  });
});

describe('currentVersionId', () => {
  it('picks the version labelled AWSCURRENT', () => {
    expect(currentVersionId({ old: ['AWSPREVIOUS'], now: ['AWSCURRENT', 'x'] })).toBe('now');
    expect(currentVersionId({ old: ['AWSPREVIOUS'] })).toBeUndefined();
    expect(currentVersionId(undefined)).toBeUndefined();
  });
});
