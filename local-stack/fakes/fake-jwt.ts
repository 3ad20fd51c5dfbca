/**
 * JWT minting shared by the vendor fakes, honouring the token-shaping faults: `missingExpiry`
 * (no `exp`, no stated lifetime), `expiredToken` (`exp` in the past), `shortExp` (`exp` earlier
 * than the stated lifetime).
 */
import { type KeyInput, SignJWT } from 'jose';
import type { ShapeFault } from './faults';

/** What a fake needs to mint one token. */
export interface MintOptions {
  key: KeyInput;
  alg: 'HS256' | 'RS256';
  claims: Record<string, unknown>;
  /** Lifetime the fake states and puts in `exp`. */
  lifetimeSeconds: number;
  /** `exp` offset under `shortExp`; default half the lifetime. */
  shortExpSeconds?: number | undefined;
  fault: ShapeFault | undefined;
  now: () => Date;
}

/** A minted token and the lifetime to state beside it (`undefined` under `missingExpiry`). */
export interface MintedToken {
  jwt: string;
  statedLifetime: number | undefined;
  iat: number;
  exp: number | undefined;
}

/** Mints a JWT shaped by `fault`. */
export async function mintFakeJwt(options: MintOptions): Promise<MintedToken> {
  const nowSeconds = Math.floor(options.now().getTime() / 1000);
  let iat = nowSeconds;
  let exp: number | undefined = nowSeconds + options.lifetimeSeconds;
  let statedLifetime: number | undefined = options.lifetimeSeconds;
  if (options.fault === 'missingExpiry') {
    exp = undefined;
    statedLifetime = undefined;
  } else if (options.fault === 'expiredToken') {
    iat = nowSeconds - options.lifetimeSeconds - 10;
    exp = nowSeconds - 10;
  } else if (options.fault === 'shortExp') {
    exp = nowSeconds + (options.shortExpSeconds ?? Math.floor(options.lifetimeSeconds / 2));
  }
  const jwt = new SignJWT(options.claims).setProtectedHeader({ alg: options.alg, typ: 'JWT' }).setIssuedAt(iat);
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return { jwt: await jwt.sign(options.key), statedLifetime, iat, exp };
}
