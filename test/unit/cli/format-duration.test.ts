import { describe, expect, it } from 'vitest';
import { expiryTime, formatDuration, relativeTime, secondsBetween } from '../../../cli/format-duration';

const NOW = new Date('2026-01-01T12:00:00.000Z');
const at = (offsetSeconds: number) => new Date(NOW.getTime() + offsetSeconds * 1000);

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [0.9, '0s'],
    [45, '45s'],
    [60, '1m'],
    [120, '2m'],
    [843, '14m 3s'],
    [3600, '1h'],
    [3600 + 5 * 60 + 7, '1h 5m'],
    [86_400 * 3 + 4 * 3600 + 59, '3d 4h'],
    [86_400 + 30, '1d'],
    [-130, '2m 10s'],
  ])('formats %s seconds as "%s"', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('secondsBetween', () => {
  it('counts whole seconds towards zero in both directions', () => {
    expect(secondsBetween(NOW, new Date(NOW.getTime() + 1999))).toBe(1);
    expect(secondsBetween(NOW, new Date(NOW.getTime() - 1999))).toBe(-1);
  });
});

describe('relativeTime', () => {
  it('says "in …" for the future, "… ago" for the past and "now" within a second', () => {
    expect(relativeTime(at(843), NOW)).toBe('in 14m 3s');
    expect(relativeTime(at(-120), NOW)).toBe('2m ago');
    expect(relativeTime(at(0.5), NOW)).toBe('now');
  });
});

describe('expiryTime', () => {
  it('says when a live token expires and how long ago a dead one did', () => {
    expect(expiryTime(at(843), NOW)).toBe('in 14m 3s');
    expect(expiryTime(at(-120), NOW)).toBe('expired 2m ago');
  });

  it('counts a token expiring this very second as expired', () => {
    expect(expiryTime(at(0), NOW)).toBe('expired 0s ago');
  });
});
