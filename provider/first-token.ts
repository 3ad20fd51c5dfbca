/**
 * The token a create, an update or a repair writes with the client document: obtained here from
 * the issuer, or by the rotator from inside its network, and judged against the write budget
 * before anything is written.
 */
import { InvalidConfigurationError, InvalidTokenRecordError } from '../core/errors';
import { toTokenRecord } from '../core/issue';
import { obtainToken } from '../core/issuers';
import { resolvePolicy, writeBudgetBreached } from '../core/policy';
import * as store from '../core/store';
import type { TokenRecord } from '../core/token';
import { keySigner, lambda, type ProviderSeams } from './aws-clients';
import type { AwsSettings } from './aws-settings';
import type { PreparedDocument } from './client-document';
import type { CredentialInputs } from './inputs';
import { type RotatorRefresh, refreshViaRotator } from './rotator-refresh';
import { writeBudgetRefusal } from './write-budget';

/**
 * Obtains the first token from the issuer and judges its lifetime against the write budget.
 *
 * @param previousGeneration the generation the stored token has (or how to find it): the new
 * record follows it, so generations never go back.
 */
export async function firstTokenRecord(
  inputs: CredentialInputs,
  prepared: PreparedDocument,
  seams: ProviderSeams,
  previousGeneration: () => Promise<number>,
): Promise<TokenRecord> {
  const token = await obtainToken(prepared.issuer, {
    credential: inputs.name,
    fetch: seams.fetch,
    now: seams.now,
    keySigner: keySigner(seams, inputs.aws ?? {}, prepared.issuer),
  });
  assertFirstTokenFits(inputs, Math.floor((token.expiresAt.getTime() - token.issuedAt.getTime()) / 1000));
  return toTokenRecord(token, {
    credential: inputs.name,
    issuer: prepared.issuer,
    policy: prepared.policy,
    previousGeneration: await previousGeneration(),
    random: seams.random,
  });
}

/** Asks the rotator to write the credential's token from its (just written) client document, and judges it. */
export async function rotatorWritesToken(
  inputs: CredentialInputs & { rotatorFunctionName: string },
  settings: Partial<AwsSettings>,
  seams: ProviderSeams,
): Promise<RotatorRefresh> {
  const written = await refreshViaRotator(lambda(seams, settings), inputs.rotatorFunctionName, inputs.name);
  const now = (seams.now ?? (() => new Date()))();
  assertFirstTokenFits(inputs, Math.floor((Date.parse(written.expiresAt) - now.getTime()) / 1000));
  return written;
}

/**
 * The generation the next token follows: the stored record's, else (the stored value is not a
 * token record: a hand edit or a bad write, which must not block new credentials) the one its
 * version id carries, else 0 (the generation starts over).
 */
export async function previousGeneration(
  where: store.SecretStore,
  name: string,
  listing: store.CredentialListing | undefined,
): Promise<number> {
  try {
    return (await store.readToken(where, name))?.generation ?? 0;
  } catch (e) {
    if (!(e instanceof InvalidTokenRecordError)) throw e;
    return listing?.generation ?? 0;
  }
}

/**
 * Judged against the real token, for kinds whose lifetime only the issuer knows (the others were
 * judged at check); refused before `pulumi up` leaves anything behind.
 */
function assertFirstTokenFits(inputs: CredentialInputs, seconds: number): void {
  const policy = resolvePolicy(inputs.policy, { credential: inputs.name });
  if (!writeBudgetBreached(seconds, policy)) return;
  const refusal = writeBudgetRefusal(inputs.name, { seconds, source: 'as the issuer answered' }, inputs.policy);
  throw new InvalidConfigurationError(
    refusal ?? `Credential "${inputs.name}": the refresh policy breaks the write budget.`,
    {
      credential: inputs.name,
      field: 'policy',
    },
  );
}
