import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clientFingerprint,
  currentVersionId,
  decodeTokenVersion,
  encodeTokenVersion,
  tokenDigest,
} from '../../core/token-version';

const record = {
  credential: 'sirv-prod',
  generation: 42,
  accessToken: 'PLANTED-access-token-1f2e',
  issuedAt: '2026-11-22T12:00:00.750Z',
  refreshAfter: '2026-11-22T12:14:03.250Z',
  expiresAt: '2026-11-22T12:20:00.000Z',
};
const CLIENT = 'b1c2d3e4-0000-4000-8000-00000000c11e';

// Instants the codec accepts: whole seconds between 2001 and 2286.
const epochSeconds = fc.integer({ min: 1_000_000_000, max: 9_999_999_999 });

describe('encodeTokenVersion and decodeTokenVersion', () => {
  it('round-trips generation, issue time, refresh-after, expiry (to the second) and client fingerprint within 32-64 characters', () => {
    const id = encodeTokenVersion(record, CLIENT);
    expect(id.length).toBeGreaterThanOrEqual(32);
    expect(id.length).toBeLessThanOrEqual(64);
    expect(decodeTokenVersion(id)).toEqual({
      generation: 42,
      issuedAt: new Date('2026-11-22T12:00:00.000Z'),
      refreshAfter: new Date('2026-11-22T12:14:03.000Z'),
      expiresAt: new Date('2026-11-22T12:20:00.000Z'),
      client: clientFingerprint(CLIENT),
      digest: tokenDigest(record),
    });
  });

  it('never contains the access token or the client version, and changes with credential, generation, token and client', () => {
    const id = encodeTokenVersion(record, CLIENT);
    expect(id).not.toContain(record.accessToken);
    expect(id).not.toContain(CLIENT);
    expect(encodeTokenVersion({ ...record, credential: 'other' }, CLIENT)).not.toBe(id);
    expect(encodeTokenVersion({ ...record, generation: 43 }, CLIENT)).not.toBe(id);
    expect(encodeTokenVersion({ ...record, accessToken: 'another' }, CLIENT)).not.toBe(id);
    expect(encodeTokenVersion(record, 'another-client-version')).not.toBe(id);
    expect(encodeTokenVersion({ ...record }, CLIENT)).toBe(id);
  });

  it('gives an unknown client version a fingerprint of its own', () => {
    expect(clientFingerprint(undefined)).toMatch(/^[0-9a-f]{6}$/);
    expect(clientFingerprint(undefined)).not.toBe(clientFingerprint(CLIENT));
  });

  it('round-trips any generation and instants the codec accepts, within 64 characters (property)', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.array(epochSeconds, { minLength: 3, maxLength: 3 }),
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.option(fc.string({ maxLength: 64 }), { nil: undefined }),
        (generation, instants, accessToken, client) => {
          const [issued = 0, refresh = 0, expires = 0] = [...instants].sort((a, b) => a - b);
          const id = encodeTokenVersion(
            {
              credential: 'c',
              generation,
              accessToken,
              issuedAt: new Date(issued * 1000),
              refreshAfter: new Date(refresh * 1000),
              expiresAt: new Date(expires * 1000),
            },
            client,
          );
          expect(id).toMatch(/^[0-9a-z-]{32,64}$/);
          const decoded = decodeTokenVersion(id);
          expect(decoded?.generation).toBe(generation);
          expect(decoded?.issuedAt.getTime()).toBe(issued * 1000);
          expect(decoded?.refreshAfter.getTime()).toBe(refresh * 1000);
          expect(decoded?.expiresAt.getTime()).toBe(expires * 1000);
          expect(decoded?.client).toBe(clientFingerprint(client));
        },
      ),
    );
  });

  it('decodes no id it did not write: UUIDs, hand-written ids, out-of-range numbers, arbitrary strings (property)', () => {
    const t = (n: number) => n.toString(36);
    const tail = `${'0'.repeat(6)}-${'0'.repeat(16)}`;
    expect(decodeTokenVersion('1b4e28ba-2fa1-51d2-883f-0016d3cca427')).toBeUndefined();
    expect(decodeTokenVersion(undefined)).toBeUndefined();
    expect(decodeTokenVersion(`tr1-1-${t(1.8e9)}-${t(1.85e9)}-${t(1.9e9)}-${tail}`)).toBeDefined();
    // Refresh-after later than expiry, an issue time later than expiry, an instant before 2001.
    expect(decodeTokenVersion(`tr1-1-${t(1.8e9)}-${t(2e9)}-${t(1.9e9)}-${tail}`)).toBeUndefined();
    expect(decodeTokenVersion(`tr1-1-${t(2e9)}-${t(1.85e9)}-${t(1.9e9)}-${tail}`)).toBeUndefined();
    expect(decodeTokenVersion(`tr1-1-${t(9e8)}-${t(1.85e9)}-${t(1.9e9)}-${tail}`)).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const decoded = decodeTokenVersion(s);
        if (decoded) expect(Number.isSafeInteger(decoded.generation)).toBe(true);
        return decoded === undefined || s.startsWith('tr1-');
      }),
    );
  });

  it('refuses to encode a generation or an instant outside its bounds', () => {
    expect(() => encodeTokenVersion({ ...record, generation: -1 }, CLIENT)).toThrow(RangeError);
    expect(() => encodeTokenVersion({ ...record, generation: 1.5 }, CLIENT)).toThrow(RangeError);
    expect(() => encodeTokenVersion({ ...record, expiresAt: 'not a date' }, CLIENT)).toThrow(/expiresAt/);
    expect(() => encodeTokenVersion({ ...record, issuedAt: 'not a date' }, CLIENT)).toThrow(/issuedAt/);
  });
});

describe('currentVersionId', () => {
  it('picks the version labelled AWSCURRENT', () => {
    expect(currentVersionId({ old: ['AWSPREVIOUS'], now: ['AWSCURRENT', 'x'] })).toBe('now');
    expect(currentVersionId({ old: ['AWSPREVIOUS'] })).toBeUndefined();
    expect(currentVersionId(undefined)).toBeUndefined();
  });
});
