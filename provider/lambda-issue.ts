/**
 * Obtains a first token through the deployed rotator Lambda instead of in-process, for issuers
 * reachable only from the Lambda's network. The Lambda answers an `issue` event with the token;
 * nothing is stored until the provider has it.
 */
import type { InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  MalformedResponseError,
  type TokenRotatorError,
} from '../core/errors';
import type { IssuedToken } from '../core/issuers/types';

/** The event the rotator Lambda answers with a freshly issued token (no write). */
export interface IssueEvent {
  action: 'issue';
  credential: string;
  issuer: unknown;
}

/** The rotator Lambda's answer to an {@link IssueEvent}. */
export type IssueResult =
  | {
      ok: true;
      token: { accessToken: string; tokenType: string; scope?: string[]; issuedAt: string; expiresAt: string };
    }
  | { ok: false; error: { code: string; message: string; retryAfterSeconds?: number; status?: number } };

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
  // Required here, not at module scope: the provider is serialized and must load SDKs lazily.
  const { InvokeCommand } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  const credential = event.credential;
  const who = `Credential "${credential}"`;
  let response: InvokeCommandOutput;
  try {
    response = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
      { abortSignal: AbortSignal.timeout(timeoutMs) },
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
  const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
  if (response.FunctionError) {
    let errorType = 'unknown';
    try {
      errorType = String((JSON.parse(text) as { errorType?: unknown }).errorType ?? 'unknown').slice(0, 64);
    } catch {
      // An unparseable error payload is reported by its kind alone.
    }
    throw new IssuerUnavailableError(
      `${who}: the rotator function "${functionName}" failed (${response.FunctionError}, ${errorType}). ` +
        'See its CloudWatch logs, then retry.',
      { credential, reason: 'function-error' },
    );
  }
  let result: IssueResult;
  try {
    result = JSON.parse(text) as IssueResult;
  } catch {
    throw new MalformedResponseError(
      `${who}: the rotator function "${functionName}" answered with something that is not JSON.`,
      {
        credential,
      },
    );
  }
  if (!result || typeof result !== 'object' || typeof result.ok !== 'boolean') {
    throw new MalformedResponseError(`${who}: the rotator function "${functionName}" answered without an "ok" field.`, {
      credential,
    });
  }
  if (!result.ok) throw errorFromResult(credential, result.error);
  const t = result.token;
  const issuedAt = new Date(t?.issuedAt ?? Number.NaN);
  const expiresAt = new Date(t?.expiresAt ?? Number.NaN);
  if (
    !t ||
    typeof t.accessToken !== 'string' ||
    !t.accessToken ||
    Number.isNaN(issuedAt.getTime()) ||
    Number.isNaN(expiresAt.getTime())
  ) {
    throw new MalformedResponseError(
      `${who}: the rotator function "${functionName}" answered without a complete token.`,
      {
        credential,
      },
    );
  }
  return { accessToken: t.accessToken, tokenType: t.tokenType || 'Bearer', scope: t.scope, issuedAt, expiresAt };
}

function errorFromResult(
  credential: string,
  error: { code?: string; message?: string; retryAfterSeconds?: number; status?: number } | undefined,
): TokenRotatorError {
  // The Lambda composed this message from our own error classes: it carries no secret.
  const message = error?.message ?? `Credential "${credential}": the rotator could not obtain a token.`;
  const options = { credential, status: error?.status, retryAfterSeconds: error?.retryAfterSeconds };
  switch (error?.code) {
    case 'InvalidCredentials':
      return new InvalidCredentialsError(message, options);
    case 'InvalidConfiguration':
      return new InvalidConfigurationError(message, options);
    case 'MalformedResponse':
      return new MalformedResponseError(message, options);
    default:
      return new IssuerUnavailableError(message, options);
  }
}
