import { describe, expect, it } from 'vitest';
import type { CredentialListing } from '../../../core/store';
import { REMEMBER_WRITES_MS, RefreshMemory } from '../../../lambda/refresh-memory';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const listing = (overrides: Partial<CredentialListing> = {}): CredentialListing => ({
  name: 'sirv-prod',
  tokenSecretArn: 'arn',
  versionId: 'v-7',
  generation: 7,
  refreshAfter: at(-30),
  expiresAt: at(270),
  clientVersion: 'c-1',
  failures: 0,
  ...overrides,
});

describe('RefreshMemory', () => {
  it('puts its own newer write over a listing that does not show it yet, until the listing could', () => {
    const memory = new RefreshMemory();
    memory.wrote('sirv-prod', { versionId: 'v-8', generation: 8, refreshAfter: at(900), expiresAt: at(1200) }, NOW);
    expect(memory.overlay(listing(), at(60))).toMatchObject({ generation: 8, versionId: 'v-8', refreshAfter: at(900) });
    // A listing that already shows it (or a later write) wins.
    expect(memory.overlay(listing({ generation: 9, versionId: 'v-9' }), at(60))).toMatchObject({ generation: 9 });
    // Forgotten once the listing's lag has certainly passed.
    expect(memory.overlay(listing(), new Date(NOW.getTime() + REMEMBER_WRITES_MS))).toMatchObject({ generation: 7 });
  });

  it('keeps an unrecorded block over a listed backoff, and the later of two backoffs', () => {
    const blocked = new RefreshMemory();
    blocked.failedUnrecorded(
      'sirv-prod',
      { failures: 1, lastError: 'InvalidCredentials', clientVersion: 'c-1', tokenVersion: 'v-7' },
      NOW,
    );
    const listedBackoff = listing({
      failures: 2,
      lastError: 'IssuerUnavailable',
      nextAttempt: at(60),
      failedClientVersion: 'c-1',
    });
    expect(blocked.overlay(listedBackoff, at(10))).toMatchObject({
      lastError: 'InvalidCredentials',
      nextAttempt: undefined,
    });

    const backingOff = new RefreshMemory();
    backingOff.failedUnrecorded(
      'sirv-prod',
      { failures: 1, lastError: 'IssuerUnavailable', nextAttempt: at(300), clientVersion: 'c-1', tokenVersion: 'v-7' },
      NOW,
    );
    expect(backingOff.overlay(listedBackoff, at(10))).toMatchObject({ failures: 2, nextAttempt: at(300) });
    const laterListed = listing({ failures: 3, lastError: 'IssuerUnavailable', nextAttempt: at(500) });
    expect(backingOff.overlay(laterListed, at(10))).toMatchObject({ failures: 3, nextAttempt: at(500) });
  });

  it('takes the later next look of a listed and a remembered block, and none when the remembered block has none', () => {
    const listedBlock = listing({
      failures: 1,
      lastError: 'InvalidCredentials',
      failedClientVersion: 'c-1',
      failedSourceVersion: 's-1',
      nextAttempt: at(-60),
    });
    // A held look at the source whose next-attempt tag could not be written.
    const heldLook = new RefreshMemory();
    heldLook.failedUnrecorded(
      'sirv-prod',
      { failures: 1, lastError: 'InvalidCredentials', nextAttempt: at(300), clientVersion: 'c-1', tokenVersion: 'v-7' },
      NOW,
    );
    expect(heldLook.overlay(listedBlock, at(10))).toMatchObject({ nextAttempt: at(300), failedSourceVersion: 's-1' });
    expect(heldLook.overlay({ ...listedBlock, nextAttempt: at(900) }, at(10))).toMatchObject({ nextAttempt: at(900) });
    // An inline block whose UntagResource of a stale next-attempt tag failed: no look is due.
    const inline = new RefreshMemory();
    inline.failedUnrecorded(
      'sirv-prod',
      { failures: 2, lastError: 'InvalidCredentials', clientVersion: 'c-1', tokenVersion: 'v-7' },
      NOW,
    );
    expect(inline.overlay(listedBlock, at(10))).toMatchObject({
      lastError: 'InvalidCredentials',
      nextAttempt: undefined,
    });
  });

  it('puts the source version and failure count of a block it could not tag over the listed block, past its next look', () => {
    // Prepare: blocked on source version s-1; this container then saw s-2 rejected too, untagged.
    const listedBlock = listing({
      failures: 1,
      lastError: 'InvalidCredentials',
      failedClientVersion: 'c-1',
      failedSourceVersion: 's-1',
      nextAttempt: at(-60),
    });
    const memory = new RefreshMemory();
    memory.failedUnrecorded(
      'sirv-prod',
      {
        failures: 2,
        lastError: 'InvalidCredentials',
        nextAttempt: at(300),
        clientVersion: 'c-1',
        sourceVersion: 's-2',
        tokenVersion: 'v-7',
      },
      NOW,
    );

    // Act: before its next look, and long after it.
    const soon = memory.overlay(listedBlock, at(10));
    const later = memory.overlay(listedBlock, at(3 * 3600));

    // Assess: a recheck compares the source with s-2, the version the issuer rejected last.
    expect(soon).toMatchObject({ failures: 2, failedSourceVersion: 's-2', nextAttempt: at(300) });
    expect(later).toMatchObject({ failures: 2, failedSourceVersion: 's-2' });
  });

  it('lets a new client document lift a remembered block, and a new token forget a remembered failure', () => {
    const memory = new RefreshMemory();
    memory.failedUnrecorded(
      'sirv-prod',
      { failures: 1, lastError: 'InvalidCredentials', clientVersion: 'c-1', tokenVersion: 'v-7' },
      NOW,
    );
    expect(memory.overlay(listing({ clientVersion: 'c-2' }), at(10)).lastError).toBeUndefined();
    expect(memory.overlay(listing(), at(10)).lastError).toBe('InvalidCredentials');
    expect(memory.overlay(listing({ versionId: 'v-8', generation: 8 }), at(10)).lastError).toBeUndefined();
    // Forgotten for good once another token was written.
    expect(memory.overlay(listing(), at(10)).lastError).toBeUndefined();
  });

  it('holds no more than its bound of credentials', () => {
    const memory = new RefreshMemory({ maxEntries: 3 });
    for (let i = 0; i < 10; i += 1) {
      memory.wrote(`c${i}`, { versionId: `v-${i}`, generation: 1, refreshAfter: at(900), expiresAt: at(1200) }, NOW);
    }
    expect(memory.size).toBe(3);
  });
});
