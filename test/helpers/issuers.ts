/**
 * Obtaining a token from an issuer configuration as a test writes it: parsed as the provider's
 * inputs and the store's read parse it, then handed to the issuers typed.
 */

import { parseIssuerConfig } from '../../core/issuers/config';
import { obtainToken } from '../../core/issuers/obtain';
import type { IssueContext, IssuedToken } from '../../core/issuers/types';

/** `obtainToken` after the parse every real caller makes where the configuration enters. */
export async function obtainFrom(input: unknown, context: IssueContext): Promise<IssuedToken> {
  return obtainToken(parseIssuerConfig(input, { credential: context.credential }), context);
}
