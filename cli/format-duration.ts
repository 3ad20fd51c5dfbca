/**
 * Human durations for the CLI's tables and result lines: "14m 3s", "in 2h 5m", "expired 2m ago".
 * Pure: the current time is always a parameter.
 */

const UNITS = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
] as const;

/**
 * A non-negative number of seconds as its two largest units, the second left out when zero:
 * `0s`, `45s`, `14m 3s`, `2m`, `2h 5m`, `3d 4h`. Fractions are dropped; negative values are
 * formatted by their magnitude.
 *
 * @example
 * ```ts
 * formatDuration(843); // '14m 3s'
 * ```
 */
export function formatDuration(seconds: number): string {
  let rest = Math.floor(Math.abs(seconds));
  if (!Number.isFinite(rest)) return '∞';
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    if (parts.length === 2) break;
    const count = Math.floor(rest / size);
    rest -= count * size;
    // Once the first unit is placed, the next one is the only other one shown (even if zero).
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`);
  }
  if (parts.length === 0) return '0s';
  if (parts[1]?.startsWith('0')) parts.pop();
  return parts.join(' ');
}

/** Whole seconds from `now` to `target` (negative when `target` is past). */
export function secondsBetween(now: Date, target: Date): number {
  const ms = target.getTime() - now.getTime();
  return ms >= 0 ? Math.floor(ms / 1000) : -Math.floor(-ms / 1000);
}

/**
 * When `target` is, relative to `now`: `in 14m 3s`, `2m ago`, or `now` within a second.
 *
 * @example
 * ```ts
 * relativeTime(new Date('2026-01-01T00:14:03Z'), new Date('2026-01-01T00:00:00Z')); // 'in 14m 3s'
 * ```
 */
export function relativeTime(target: Date, now: Date): string {
  const seconds = secondsBetween(now, target);
  if (seconds === 0) return 'now';
  return seconds > 0 ? `in ${formatDuration(seconds)}` : `${formatDuration(seconds)} ago`;
}

/**
 * When a token expires, relative to `now`: `in 14m 3s`, or `expired 2m ago` once it has (a token
 * whose expiry is this very second counts as expired, as the reader treats it).
 */
export function expiryTime(expiresAt: Date, now: Date): string {
  const seconds = secondsBetween(now, expiresAt);
  return seconds > 0 ? `in ${formatDuration(seconds)}` : `expired ${formatDuration(seconds)} ago`;
}
