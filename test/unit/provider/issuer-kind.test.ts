import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ISSUER_KINDS } from '../../../core/issuers/config';
import { closestKind, unknownKindReason } from '../../../provider/issuer-kind';

describe('closestKind', () => {
  it.each([
    ['sirb', 'sirv'],
    ['Sirv', 'sirv'],
    ['oauth', 'oauth2'],
    ['header_jwt', 'header-jwt'],
    ['headerjwt', 'header-jwt'],
    ['uplaod', 'upload'],
    ['signed-jwd', 'signed-jwt'],
  ])('suggests %s → %s', (typo, kind) => {
    expect(closestKind(typo)).toBe(kind);
  });

  it('suggests nothing for a word that is no near kind', () => {
    expect(closestKind('magic')).toBeUndefined();
    expect(closestKind('')).toBeUndefined();
  });

  it('suggests the kind itself for every kind one edit away', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ISSUER_KINDS), fc.nat(), fc.constantFrom('x', '-', '2'), (kind, at, extra) => {
        const i = at % (kind.length + 1);
        const typo = kind.slice(0, i) + extra + kind.slice(i);
        // One insertion: the suggestion is a kind at most one edit from the typo (this one, or an equally near one).
        const suggested = closestKind(typo);
        expect(suggested).toBeDefined();
        expect(ISSUER_KINDS).toContain(suggested);
      }),
    );
  });
});

describe('unknownKindReason', () => {
  it('stays short and quotes at most 40 characters of any value', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10_000 }), (kind) => {
        const reason = unknownKindReason(kind);
        expect(reason.length).toBeLessThan(260);
        expect(reason.endsWith(`Expected one of ${ISSUER_KINDS.join(', ')}`)).toBe(true);
        if (kind.length > 40) expect(reason).not.toContain(kind);
      }),
    );
  });
});
