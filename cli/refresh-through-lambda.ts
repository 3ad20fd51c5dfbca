/**
 * `refresh --function`: the deployed rotator Lambda refreshes, from its own network and with its
 * own role, through synchronous invocations carrying the targeted event
 * `{ "credentials": [...], "force": bool }`; its answer `{ results: [...] }` is read per
 * credential.
 */
import {
  type Deferred,
  invokeRotator,
  MAX_REQUESTED_CREDENTIALS,
  type RotatorReply,
  targetedResultSchema,
} from '../core/rotator-protocol';
import type { CredentialListing } from '../core/store';
import type { CliContext } from './context';
import { CliError, foreignMessage } from './error-report';
import { EXIT_CODES } from './exit-codes';
import { outcomeOf, type RefreshOutcome } from './refresh-outcome';

/**
 * Credentials per invocation: what the request entry point takes (MAX_REQUESTED_CREDENTIALS), so
 * `--function` works against the rotator or its request function alike, each call well within
 * the timeout.
 */
export const INVOKE_BATCH_SIZE = MAX_REQUESTED_CREDENTIALS;

/**
 * Refreshes `names` through the rotator Lambda `functionName`, {@link INVOKE_BATCH_SIZE} per
 * synchronous invocation, one invocation at a time. Each outcome goes to `onOutcome`. After
 * Ctrl-C the invocation in flight is abandoned and the rest are reported as deferred.
 *
 * @throws {CliError} (exit 2) when the invocation fails, the function reports an error, or its
 * answer is not a targeted-refresh answer.
 */
export async function refreshThroughLambda(
  context: CliContext,
  functionName: string,
  names: readonly string[],
  options: {
    force: boolean;
    /** The credentials' listings, when listed: a skipped result's refresh time comes from there. */
    listings?: ReadonlyMap<string, CredentialListing> | undefined;
  },
  onOutcome: (outcome: RefreshOutcome) => void,
): Promise<void> {
  const lambda = context.lambda();
  const interrupted = (credential: string): RefreshOutcome => ({
    credential,
    outcome: 'deferred',
    reason: 'interrupted',
  });
  for (let start = 0; start < names.length; start += INVOKE_BATCH_SIZE) {
    const batch = names.slice(start, start + INVOKE_BATCH_SIZE);
    if (context.signal?.aborted) {
      for (const credential of batch) onOutcome(interrupted(credential));
      continue;
    }
    let reply: RotatorReply;
    try {
      reply = await invokeRotator(
        lambda,
        functionName,
        { credentials: batch, force: options.force },
        { signal: context.signal },
      );
    } catch (e) {
      if (context.signal?.aborted) {
        for (const credential of batch) onOutcome(interrupted(credential));
        continue;
      }
      throw invokeError(functionName, e);
    }
    for (const result of readAnswer(functionName, reply, batch)) {
      onOutcome(outcomeOf(result, 'out-of-time', options.listings?.get(result.credential)));
    }
  }
}

function invokeError(functionName: string, e: unknown): CliError {
  const name = e instanceof Error ? e.name : 'UnknownError';
  const status = (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  const message = e instanceof Error && e.message ? `: ${foreignMessage(e.message)}` : '';
  return new CliError(
    `Invoking the rotator "${functionName}" failed with ${name}${status ? ` (HTTP ${status})` : ''}${message}. ` +
      'Check --function, --region and your permission to call lambda:InvokeFunction on it.',
    EXIT_CODES.aws,
    { cause: e },
  );
}

function readAnswer(functionName: string, reply: RotatorReply, batch: readonly string[]) {
  if (reply.kind === 'function-error') {
    const kind = reply.errorType ?? reply.functionError;
    const message = reply.errorMessage !== undefined ? `: ${foreignMessage(reply.errorMessage)}` : '';
    throw new CliError(
      `The rotator "${functionName}" failed (${kind}${message}) refreshing ${batch.join(', ')}. Check its logs in CloudWatch.`,
      EXIT_CODES.aws,
    );
  }
  const parsed = targetedResultSchema.safeParse(reply.payload);
  if (!parsed.success) {
    throw new CliError(
      `The rotator "${functionName}" answered with something other than {"results": [...]}; ` +
        'is it a token-rotator function of a matching version?',
      EXIT_CODES.aws,
    );
  }
  // Credentials the answer left out were not refreshed: say so rather than count them as done.
  const answered = new Set(parsed.data.results.map((r) => r.credential));
  const missing: Deferred[] = batch
    .filter((c) => !answered.has(c))
    .map((credential) => ({ credential, deferred: true }));
  return [...parsed.data.results, ...missing];
}
