/**
 * Obtains a first token through the deployed rotator Lambda instead of in-process, for issuers
 * reachable only from the Lambda's network. The Lambda answers an `issue` event with the token;
 * nothing is stored until the provider has it.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { errorFromCode, IssuerUnavailableError, MalformedResponseError, type TokenRotatorError } from '../core/errors';
import type { IssuedToken } from '../core/issuers/types';
import { type IssueEvent, invokeRotator, issueResultSchema, type RotatorReply } from '../core/rotator-protocol';

export type { IssueEvent, IssueResult } from '../core/rotator-protocol';

/** Default time to wait for the Lambda's answer. */
export const DEFAULT_INVOKE_TIMEOUT_MS = 60_000;

/**
 * Invokes the rotator synchronously and returns the token it obtained, or throws the classified
 * error it reported. A function error or a timeout is `IssuerUnavailable` (the issuer was not
 * judged), naming the function.
 */
export async function issueViaLambda(
  lambda: LambdaClient,
  functionName: string,
  event: IssueEvent,
  timeoutMs = DEFAULT_INVOKE_TIMEOUT_MS,
): Promise<IssuedToken> {
  const credential = event.credential;
  const who = `Credential "${credential}"`;
  let reply: RotatorReply;
  try {
    reply = await invokeRotator(lambda, functionName, event, { signal: AbortSignal.timeout(timeoutMs) });
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
  if (reply.payload === undefined) {
    throw new MalformedResponseError(
      `${who}: the rotator function "${functionName}" answered with something that is not JSON.`,
      { credential },
    );
  }
  const parsed = issueResultSchema.safeParse(reply.payload);
  if (!parsed.success) {
    const hasOk = typeof (reply.payload as { ok?: unknown } | null)?.ok === 'boolean';
    throw new MalformedResponseError(
      hasOk
        ? `${who}: the rotator function "${functionName}" answered without a complete token.`
        : `${who}: the rotator function "${functionName}" answered without an "ok" field.`,
      { credential },
    );
  }
  const result = parsed.data;
  if (!result.ok) throw errorFromResult(credential, result.error);
  const t = result.token;
  return {
    accessToken: t.accessToken,
    tokenType: t.tokenType || 'Bearer',
    scope: t.scope,
    issuedAt: new Date(t.issuedAt),
    expiresAt: new Date(t.expiresAt),
  };
}

function errorFromResult(
  credential: string,
  error: { code: string; message: string; retryAfterSeconds?: number | undefined; status?: number | undefined },
): TokenRotatorError {
  // The Lambda composed this message from our own error classes: it carries no secret.
  return errorFromCode(error.code, error.message, {
    credential,
    status: error.status,
    retryAfterSeconds: error.retryAfterSeconds,
  });
}
