/** The contract between issuer implementations and their callers (provider, rotator, CLI). */

import type { BaseIssuerConfig } from './config';
import type { AssertionAlgorithm } from './private-key';

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
  /** Signs with a key that never leaves its service (KMS); defaults to KMS (`core/kms-signer.ts`) with a standard client. */
  keySigner?: KeySigner | undefined;
}

/**
 * A signing key held by a service that signs for us (KMS). The issuer knows only this interface;
 * the AWS implementation is `core/kms-signer.ts`.
 */
export interface KeySigner {
  /** An RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of `message` by key `keyId`. */
  signRs256(keyId: string, message: Uint8Array, credential: string): Promise<Uint8Array>;
  /** An ES256 (ECDSA P-256 with SHA-256) signature of `message` by key `keyId`, as JWS carries it: R || S, 64 bytes. */
  signEs256(keyId: string, message: Uint8Array, credential: string): Promise<Uint8Array>;
  /** The key's public half as SPKI PEM, after checking that it can sign `alg` (RS256 when not given). */
  publicKeyPem(keyId: string, credential: string, alg?: AssertionAlgorithm): Promise<string>;
}

/** One issuer kind. Implementations know nothing of AWS. */
export interface Issuer<C extends BaseIssuerConfig = BaseIssuerConfig> {
  readonly kind: C['kind'];
  /** Obtains a fresh token, or throws a classified {@link TokenRotatorError}. */
  obtainToken(config: C, context: IssueContext): Promise<IssuedToken>;
}
