/**
 * The last step after an API rejected a token that a re-read did not replace: ask the rotator
 * Lambda for a forced refresh of that credential, then read the new token. Shared by concurrent
 * callers and rate limited per credential, so a storm of 401s sends one invocation.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { errorFromCode, IssuerUnavailableError, MalformedResponseError } from '../core/errors';
import { invokeRotator, verdictFor } from '../core/rotator-protocol';
import type { TokenRecord } from '../core/token';
import { LruMap } from './lru-map';

/** Seconds between two on-demand rotator invocations for one credential. */
export const DEFAULT_ROTATOR_MIN_INTERVAL_SECONDS = 60;

// Credentials whose invocation times are kept; only credentials that were read and then rejected
// get here, so the bound is met only by a workload of very many credentials, which then forgets
// the rate limit of the least recently rejected first.
const MAX_TRACKED_CREDENTIALS = 1000;

/** The rotator Lambda to ask for an immediate refresh when the stored token is rejected. */
export interface RotatorInvokeOptions {
  /** Name or ARN of the request entry point (the `TokenRotator` component's `requestFunctionName` output). */
  functionName: string;
  /** Lambda client; one with the standard configuration is created on first use. */
  client?: LambdaClient;
  /** At most one invocation per credential in this many seconds. Default 60. */
  minIntervalSeconds?: number;
}

/** What the escalation needs of its reader. */
export interface EscalationHooks {
  now: () => number;
  /** Reads the credential's secret again once the rotator has answered (after any read in flight). */
  readAfterRefresh: (name: string) => Promise<TokenRecord>;
  /** Told about a failed invocation; the caller keeps its 401. */
  report: (error: Error, name: string) => void;
}

interface RotatorState {
  lastInvokeAt: number | undefined;
  pending: Promise<TokenRecord | undefined> | undefined;
}

/** Invokes the rotator for a credential whose token an API keeps rejecting. */
export class RotatorEscalation {
  private lambdaClient: LambdaClient | undefined;
  // Kept apart from the token cache so that invalidate() cannot reset the invoke rate limit.
  private readonly states = new LruMap<string, RotatorState>(MAX_TRACKED_CREDENTIALS);

  constructor(
    private readonly functionName: string,
    client: LambdaClient | undefined,
    private readonly minIntervalMs: number,
    private readonly hooks: EscalationHooks,
  ) {
    this.lambdaClient = client;
  }

  /**
   * The token the rotator wrote for `name`, or `undefined` when it was not asked (rate limit) or
   * failed (reported to the hooks).
   */
  refresh(name: string): Promise<TokenRecord | undefined> {
    let state = this.states.get(name);
    if (state === undefined) {
      state = { lastInvokeAt: undefined, pending: undefined };
      this.states.set(name, state);
    }
    if (state.pending !== undefined) return state.pending;
    const now = this.hooks.now();
    if (state.lastInvokeAt !== undefined && now - state.lastInvokeAt < this.minIntervalMs) {
      return Promise.resolve(undefined);
    }
    state.lastInvokeAt = now;
    const current = state;
    current.pending = this.invoke(name).finally(() => {
      current.pending = undefined;
    });
    return current.pending;
  }

  private async invoke(name: string): Promise<TokenRecord | undefined> {
    try {
      // The Lambda client is loaded only here: most workloads never configure a rotator and should
      // not pay for it.
      const { LambdaClient } = await import('@aws-sdk/client-lambda');
      this.lambdaClient ??= new LambdaClient({});
      const reply = await invokeRotator(this.lambdaClient, this.functionName, { credentials: [name], force: true });
      if (reply.kind === 'function-error') {
        throw new IssuerUnavailableError(
          `Credential "${name}": the rotator Lambda "${this.functionName}" failed (${reply.functionError}); check its logs.`,
          { credential: name, reason: 'rotator-failed' },
        );
      }
      rotatorResultFor(name, reply.payload, this.functionName);
      return await this.hooks.readAfterRefresh(name);
    } catch (caught) {
      this.hooks.report(caught instanceof Error ? caught : new Error(String(caught)), name);
      return undefined;
    }
  }
}

/**
 * Checks the rotator's per-credential answer `{ results: [{ credential, ok, generation?, error? }] }`
 * and throws the classified error it reports.
 */
function rotatorResultFor(name: string, payload: unknown, functionName: string): void {
  const verdict = verdictFor(payload, name);
  if (verdict === undefined) {
    throw new MalformedResponseError(
      `Credential "${name}": the rotator Lambda "${functionName}" returned no result for this credential.`,
      { credential: name, reason: 'rotator-no-result' },
    );
  }
  if (verdict.ok) return;
  const code = verdict.code;
  const message = `Credential "${name}": the rotator could not refresh the token (${typeof code === 'string' ? code : 'unknown error'}); check the TokenRotator alarms and logs.`;
  throw errorFromCode(code, message, { credential: name, reason: 'rotator-refresh-failed' });
}
