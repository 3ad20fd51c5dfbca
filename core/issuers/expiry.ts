/**
 * The expiry chain of DESIGN.md: the earliest of (issuedAt + stated lifetime, JWT `exp`) → else
 * the kind's default lifetime → capped by `maxLifetimeSeconds`. A token that would be unusable
 * on arrival is an error, never a write.
 */
import { decodeJwt } from 'jose';
import { MalformedResponseError } from '../errors';

/** A token expiring sooner than this after it was obtained is refused. */
export const MIN_USABLE_SECONDS = 60;

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
  /** The lifetime the issuer stated (`expires_in`…), as received: number, numeric string or absent. */
  statedLifetime?: unknown;
  /** Name of the field the lifetime came from, for messages. */
  statedLifetimeField?: string | undefined;
  /** The kind's lifetime when neither a stated lifetime nor a JWT `exp` is known. */
  defaultLifetimeSeconds?: number | undefined;
  /** Hard cap from the configuration. */
  maxLifetimeSeconds?: number | undefined;
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
  const exp = jwtExpiresAt(input.accessToken);
  if (exp !== undefined) candidates.push(exp.getTime());
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
    expiresMs = Math.min(expiresMs, issuedMs + input.maxLifetimeSeconds * 1000);
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
 * Reads a stated lifetime: a positive number, or a numeric string such as `"3600"`.
 * Returns `undefined` when absent (`undefined`/`null`); calls `onInvalid` otherwise.
 */
export function parseLifetimeSeconds(value: unknown, onInvalid: () => never): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isFinite(number) || number <= 0) return onInvalid();
  return number;
}

/**
 * The `exp` of a token when it is a JWT that carries one; `undefined` for opaque tokens.
 * Decodes without verifying: we hold the token, not the issuer's key.
 */
export function jwtExpiresAt(token: string): Date | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
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
