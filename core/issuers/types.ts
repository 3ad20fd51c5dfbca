/** The contract between issuer implementations and their callers (provider, rotator, CLI). */
import type { BaseIssuerConfig } from './config';

/** A token as an issuer handed it over, with its expiry already resolved (see `expiry.ts`). */
export interface IssuedToken {
  accessToken: string;
  tokenType: string;
  scope?: string[] | undefined;
  /** Our clock when the request was sent: the conservative start of the token's life. */
  issuedAt: Date;
  /** The earliest of the stated lifetime and the JWT `exp`, else the kind's default, capped. */
  expiresAt: Date;
}

/** Everything an issuer needs besides its configuration. Every field is a seam for tests. */
export interface IssueContext {
  /** The credential name, for error messages. */
  credential: string;
  /** HTTP client; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Clock; defaults to `() => new Date()`. */
  now?: () => Date;
}

/** One issuer kind. Implementations know nothing of AWS. */
export interface Issuer<C extends BaseIssuerConfig = BaseIssuerConfig> {
  readonly kind: C['kind'];
  /** Obtains a fresh token, or throws a classified {@link TokenRotatorError}. */
  obtainToken(config: C, context: IssueContext): Promise<IssuedToken>;
}
