/**
 * The expiry chain of DESIGN.md: the earliest of (issuedAt + stated lifetime, JWT `exp`) → else
 * the kind's default lifetime → capped by `maxLifetimeSeconds`. Without a cap, a claim beyond
 * the plausibility window (7 days, or a configured lifetime) is refused. A token that would be
 * unusable on arrival is an error, never a write.
 */
// A subpath, not jose's index: see signed-jwt.ts.
import { decodeJwt } from 'jose/jwt/decode';
import { MalformedResponseError } from '../errors';
import { epochSecondsToMs, PLAUSIBLE_LIFETIME_SECONDS, parseHttpDate, parseLifetimeSeconds } from '../untrusted-time';

export { parseLifetimeSeconds } from '../untrusted-time';

/** A token expiring sooner than this after it was obtained is refused. */
export const MIN_USABLE_SECONDS = 60;

/**
 * How far an issuer's clock may be from ours, judged by the `Date` header of its answer (RFC 9110
 * §6.6.1: the origin's clock when it answered), for a JWT's `exp` to be moved onto our clock: the
 * vendor's API judges the token by its own clock, so an issuer minutes behind hands out tokens whose
 * `exp` our clock has already passed but which its API accepts. A token's `iat` is no evidence of
 * the clock: an issuer may hand back a token it issued minutes ago. Past this bound, or without a
 * `Date`, `exp` is taken as it is.
 */
export const MAX_ISSUER_CLOCK_SKEW_SECONDS = 900;

// The Date header has whole seconds, and the answer took some time: within this the clocks agree.
const CLOCKS_AGREE_MS = 2000;

/** What the expiry of one freshly obtained token is computed from. */
export interface ExpiryInput {
  /** Credential name, for messages. */
  credential: string;
  /** Issuer kind, for messages. */
  kind: string;
  accessToken: string;
  /** Our clock when the request was sent. */
  issuedAt: Date;
  /** Our clock when the answer arrived; defaults to `issuedAt`. */
  receivedAt?: Date | undefined;
  /** The answer's `Date` header, as received: the issuer's clock (see {@link MAX_ISSUER_CLOCK_SKEW_SECONDS}). */
  issuerDate?: string | null | undefined;
  /** The lifetime the issuer stated (`expires_in`…), as received: number, numeric string or absent. */
  statedLifetime?: unknown;
  /** Name of the field the lifetime came from, for messages. */
  statedLifetimeField?: string | undefined;
  /** The kind's lifetime when neither a stated lifetime nor a JWT `exp` is known. */
  defaultLifetimeSeconds?: number | undefined;
  /** Hard cap from the configuration. */
  maxLifetimeSeconds?: number | undefined;
  /** The stated lifetime comes from our own configuration (header-jwt), not from the issuer. */
  trustedLifetime?: boolean | undefined;
  /** Minimum remaining life on arrival; default {@link MIN_USABLE_SECONDS}. */
  minUsableSeconds?: number | undefined;
}

/**
 * Resolves when a token expires, following the expiry chain.
 *
 * @throws {@link MalformedResponseError} when the stated lifetime is unreadable (`bad-expiry`),
 * nothing gives an expiry (`missing-expiry`), or the token is expired or about to be on arrival
 * (`token-expired-on-arrival`).
 *
 * @example
 * ```ts
 * const expiresAt = resolveExpiry({
 *   credential: 'sirv-prod', kind: 'json', accessToken, issuedAt,
 *   statedLifetime: body.expiresIn, defaultLifetimeSeconds: 1200,
 * });
 * ```
 */
export function resolveExpiry(input: ExpiryInput): Date {
  const issuedMs = input.issuedAt.getTime();
  const who = `Credential "${input.credential}": ${input.kind} issuer`;
  const stated = parseLifetimeSeconds(input.statedLifetime, () => {
    throw new MalformedResponseError(
      `${who} stated an unusable lifetime in "${input.statedLifetimeField ?? 'expires_in'}" (expected a positive number of seconds); retry later, and report it to the issuer if it persists.`,
      { credential: input.credential, reason: 'bad-expiry' },
    );
  });
  const candidates: number[] = [];
  if (stated !== undefined) candidates.push(issuedMs + stated * 1000);
  // Any finite exp counts here, however far: the plausibility check below judges it.
  const exp = jwtExpRaw(input.accessToken);
  if (exp !== undefined) candidates.push(exp * 1000 - issuerClockSkewMs(input, issuedMs));
  if (candidates.length === 0 && input.defaultLifetimeSeconds !== undefined) {
    candidates.push(issuedMs + input.defaultLifetimeSeconds * 1000);
  }
  if (candidates.length === 0) {
    throw new MalformedResponseError(
      `${who} returned a token with missing expiry (no lifetime field, not a JWT with exp, no default); set defaultLifetimeSeconds in the issuer configuration.`,
      { credential: input.credential, reason: 'missing-expiry' },
    );
  }
  let expiresMs = Math.min(...candidates);
  if (input.maxLifetimeSeconds !== undefined) {
    // "Capped by maxLifetimeSeconds when set" (DESIGN.md): a configured cap bounds what the issuer
    // claims, however far, so nothing is left for the plausibility window to refuse.
    expiresMs = Math.min(expiresMs, issuedMs + input.maxLifetimeSeconds * 1000);
  }
  // Configured lifetimes are trusted; only what the issuer claims beyond them is judged (with a
  // cap, the capped expiry is always within it).
  const plausibleSeconds = Math.max(
    PLAUSIBLE_LIFETIME_SECONDS,
    input.maxLifetimeSeconds ?? 0,
    input.defaultLifetimeSeconds ?? 0,
    input.trustedLifetime === true && stated !== undefined ? stated : 0,
  );
  if (!Number.isFinite(expiresMs) || expiresMs - issuedMs > plausibleSeconds * 1000) {
    throw new MalformedResponseError(
      `${who} returned a token that claims to live more than ${Math.round(plausibleSeconds / 86400)} days (is a lifetime in milliseconds read as seconds?); the token is not stored. Set maxLifetimeSeconds to cap this issuer's tokens at a lifetime you trust (a longer claim is then capped, not refused), and report it to the issuer otherwise.`,
      { credential: input.credential, reason: 'implausible-lifetime' },
    );
  }
  const fromMs = Math.max(issuedMs, input.receivedAt?.getTime() ?? issuedMs);
  const minUsable = input.minUsableSeconds ?? MIN_USABLE_SECONDS;
  if (expiresMs - fromMs < minUsable * 1000) {
    const left = Math.round((expiresMs - fromMs) / 1000);
    throw new MalformedResponseError(
      `${who} returned a token that ${left <= 0 ? 'had already expired' : `expires in ${left} s`} on arrival (under ${minUsable} s of use); check the issuer's clock and token lifetime, then retry.`,
      { credential: input.credential, reason: 'token-expired-on-arrival' },
    );
  }
  return new Date(expiresMs);
}

/**
 * The `exp` of a token when it is a JWT that carries one; `undefined` for opaque tokens.
 * Decodes without verifying: we hold the token, not the issuer's key.
 */
export function jwtExpiresAt(token: string): Date | undefined {
  const ms = epochSecondsToMs(jwtExpRaw(token));
  return ms === undefined ? undefined : new Date(ms);
}

/** The `exp` claim as a finite number of seconds, however large; `undefined` when absent. */
function jwtExpRaw(token: string): number | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How far the issuer's clock is ahead of ours (negative: behind), from its answer's `Date` header
 * against the middle of our request; 0 when there is no readable `Date`, when the clocks agree
 * within the header's resolution, or past {@link MAX_ISSUER_CLOCK_SKEW_SECONDS}.
 */
function issuerClockSkewMs(input: ExpiryInput, issuedMs: number): number {
  if (typeof input.issuerDate !== 'string') return 0;
  const receivedMs = input.receivedAt?.getTime() ?? issuedMs;
  const theirs = parseHttpDate(input.issuerDate.trim(), receivedMs);
  if (theirs === undefined) return 0;
  const skew = theirs - (issuedMs + receivedMs) / 2;
  return Math.abs(skew) < CLOCKS_AGREE_MS || Math.abs(skew) > MAX_ISSUER_CLOCK_SKEW_SECONDS * 1000 ? 0 : skew;
}

/** True when the token decodes as a JWT (signature not checked). */
export function isJwt(token: string): boolean {
  if (token.split('.').length !== 3) return false;
  try {
    decodeJwt(token);
    return true;
  } catch {
    return false;
  }
}
