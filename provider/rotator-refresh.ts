/**
 * A credential's token obtained by the deployed rotator instead of in-process, for issuers reachable
 * only from the rotator's network. The provider writes the client document first, then asks the
 * rotator to refresh that credential by name (the rotator reads the document itself: an invoker
 * never hands it issuer configuration), and undoes the document when the rotator could not.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { errorFromCode, IssuerUnavailableError, MalformedResponseError } from '../core/errors';
import { invokeRotator, type RefreshResult, type RotatorReply, targetedResultSchema } from '../core/rotator-protocol';

/** Default time to wait for the rotator's answer. */
export const DEFAULT_INVOKE_TIMEOUT_MS = 60_000;

/** What the rotator wrote: the new token's state, never the token. */
export type RotatorRefresh = Exclude<Extract<RefreshResult, { ok: true }>, { skipped: string }>;

/**
 * Asks the rotator `functionName` to refresh `credential` now (a forced refresh, synchronously) and
 * returns what it wrote, or throws the classified error it reported. A function error, a timeout,
 * or a refresh the rotator held back (`skipped`) is `IssuerUnavailable`: the issuer was not judged.
 *
 * @example
 * ```ts
 * await refreshViaRotator(lambda, 'token-rotator-prod', 'vendor-prod');
 * ```
 */
export async function refreshViaRotator(
  lambda: LambdaClient,
  functionName: string,
  credential: string,
  timeoutMs = DEFAULT_INVOKE_TIMEOUT_MS,
): Promise<RotatorRefresh> {
  const who = `Credential "${credential}"`;
  let reply: RotatorReply;
  try {
    reply = await invokeRotator(
      lambda,
      functionName,
      { credentials: [credential], force: true },
      { signal: AbortSignal.timeout(timeoutMs) },
    );
  } catch (e) {
    const name = (e as { name?: string }).name ?? 'Error';
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new IssuerUnavailableError(
        `${who}: the rotator function "${functionName}" did not answer within ${Math.round(timeoutMs / 1000)} s. ` +
          'Check that it is deployed and can reach the issuer, then retry.',
        { credential, reason: 'timeout' },
      );
    }
    throw new IssuerUnavailableError(
      `${who}: invoking the rotator function "${functionName}" failed (${name}). Check the function name and that ` +
        'this deployment may call lambda:InvokeFunction on it.',
      { credential, reason: 'invoke-failed' },
    );
  }
  if (reply.kind === 'function-error') {
    // The runtime's errorMessage is left out: it is not ours and may quote anything.
    throw new IssuerUnavailableError(
      `${who}: the rotator function "${functionName}" failed (${reply.functionError}, ${reply.errorType ?? 'unknown'}). ` +
        'See its CloudWatch logs, then retry.',
      { credential, reason: 'function-error' },
    );
  }
  const parsed = targetedResultSchema.safeParse(reply.payload);
  const result = parsed.success ? parsed.data.results.find((r) => r.credential === credential) : undefined;
  if (result === undefined || 'deferred' in result) {
    throw new MalformedResponseError(
      `${who}: the rotator function "${functionName}" answered without a result for it${result ? ' (it ran out of time)' : ''}; retry.`,
      { credential },
    );
  }
  // The rotator composed this message from our own error classes: it carries no secret.
  if (!result.ok) throw errorFromCode(result.error.code, result.error.message, { credential });
  if ('skipped' in result) {
    const until = result.nextAttempt ? ` until ${result.nextAttempt}` : '';
    throw new IssuerUnavailableError(
      `${who}: the rotator held the refresh back (${result.skipped === 'backoff' ? `backing off after a failure${until}` : result.skipped}) and wrote no token for the new client document; run pulumi up again${until ? ' after that' : ''}.`,
      { credential, reason: `skipped-${result.skipped}` },
    );
  }
  return result;
}
