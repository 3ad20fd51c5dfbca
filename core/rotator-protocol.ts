/**
 * The rotator Lambda's protocol, written once: the events it accepts, the answers it gives, their
 * schemas, and {@link invokeRotator}, the one synchronous invocation its callers use (the provider's
 * first token for an issuer only the rotator reaches, the CLI's `refresh --function`, the reader's
 * on-demand refresh). An invoker names credentials and may ask for sooner; it never hands the
 * rotator issuer configuration, claims or a state to trust.
 *
 * zod (core/zod.ts) and the Lambda client loaded on first use: the reader imports this module, so it must
 * never reach `@pulumi/pulumi`, and the Lambda bundle carries it, so it stays small.
 */
import type { InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { CREDENTIAL_NAME_PATTERN } from './token';
import * as z from './zod';

// ---------------------------------------------------------------------------------------------
// Events

const credentialName = z.lazy(() =>
  z.string().check(z.minLength(1), z.maxLength(64), z.regex(CREDENTIAL_NAME_PATTERN)),
);

/** Credentials one targeted refresh may name. */
export const MAX_TARGETED_CREDENTIALS = 1000;
/** Credentials one fan-out batch may name. */
export const MAX_BATCH_CREDENTIALS = 10_000;
/** The highest write rate a batch may be handed: Secrets Manager's write quota is about 50 per second. */
export const MAX_WRITES_PER_SECOND = 50;
/**
 * The write rate the rotator (and the CLI's in-process refresh) allows itself by default: below the
 * quota, leaving room for the provider and other writers.
 */
export const DEFAULT_WRITES_PER_SECOND = 40;
/**
 * The most bytes one fan-out event may take. Lambda takes up to 1 MB per asynchronous invocation
 * (256 KB before 2025, and still for the older InvokeAsync API): a batch whose names would not fit
 * under this is split over several invocations, so an event never comes near either limit.
 */
export const MAX_BATCH_PAYLOAD_BYTES = 240 * 1024;
/**
 * A forced refresh (`force: true` in an event) does not rewrite a token written less than this long
 * ago with the current client document: whoever may invoke the rotator may ask for sooner, never
 * for more writes than Secrets Manager's guidance of one per secret every 10 minutes. A token
 * obtained with an older client document is rewritten at once (new credentials take effect). An
 * operator overrides the floor only in-process (`token-rotator refresh --force` without
 * `--function`), with their own AWS credentials; no event carries an override.
 */
export const FORCED_REFRESH_FLOOR_SECONDS = 600;

/**
 * Every event the rotator accepts, each turned into one `action`: the scheduled sweep (ours, or
 * EventBridge's own scheduled-event shape for rules that send no input), a fan-out batch, and a
 * targeted refresh `{ credentials, force }`.
 */
export const rotatorEventSchema = z.lazy(() =>
  z.union([
    z.object({ action: z.literal('sweep') }),
    z.pipe(
      z.object({ 'detail-type': z.literal('Scheduled Event') }),
      z.transform(() => ({ action: 'sweep' as const })),
    ),
    z.strictObject({
      action: z.literal('refresh-batch'),
      credentials: z.array(credentialName).check(z.minLength(1), z.maxLength(MAX_BATCH_CREDENTIALS)),
      /** This batch's share of the sweep's Secrets Manager write rate (never above the quota). */
      writesPerSecond: z.optional(z.number().check(z.positive(), z.maximum(MAX_WRITES_PER_SECOND))),
    }),
    z.pipe(
      z.strictObject({
        credentials: z.array(credentialName).check(z.minLength(1), z.maxLength(MAX_TARGETED_CREDENTIALS)),
        force: z.optional(z.boolean()),
      }),
      z.transform((e) => ({ action: 'refresh' as const, credentials: e.credentials, force: e.force ?? false })),
    ),
  ]),
);

/** Credentials one request to the request entry point may name. */
export const MAX_REQUESTED_CREDENTIALS = 20;
/**
 * The Secrets Manager write rate of one invocation of the request entry point, and how many of
 * them may run at once (its function's reserved concurrency): however many workloads ask, their
 * requests together never write faster than the product, 10 a second, beside the sweep's 40.
 */
export const REQUEST_WRITES_PER_SECOND = 5;
export const REQUEST_CONCURRENCY = 2;

/**
 * The one event the request entry point (`index.requests`, the function workloads may invoke)
 * accepts: name credentials, and ask that they be refreshed now (`force`) or when due. Nothing
 * else: no sweep, no batch, no write rate.
 */
export const refreshRequestSchema = z.lazy(() =>
  z.pipe(
    z.strictObject({
      credentials: z.array(credentialName).check(z.minLength(1), z.maxLength(MAX_REQUESTED_CREDENTIALS)),
      force: z.optional(z.boolean()),
    }),
    z.transform((e) => ({ action: 'refresh' as const, credentials: e.credentials, force: e.force ?? false })),
  ),
);

/** An event the rotator understands, as a caller sends it. */
export type RotatorEvent = z.input<typeof rotatorEventSchema>;

/** A targeted refresh of named credentials; `force` refreshes them even when not due. */
export interface RefreshEvent {
  credentials: string[];
  force?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Answers

const errorSchema = z.lazy(() =>
  z.object({
    code: z.string(),
    message: z.string(),
    transient: z.boolean(),
    retryAfterSeconds: z.optional(z.number()),
  }),
);

const deferredSchema = z.lazy(() => z.object({ credential: z.string(), deferred: z.literal(true) }));

/**
 * Why a refresh wrote nothing, judged on the token secret as DescribeSecret shows it: not due yet,
 * backing off after a failure, blocked until the client document changes, or (a forced refresh)
 * written less than {@link FORCED_REFRESH_FLOOR_SECONDS} ago.
 */
export const SKIP_REASONS = ['not-due', 'backoff', 'blocked', 'floor'] as const;

const refreshResultSchema = z.lazy(() =>
  z.union([
    z.object({
      credential: z.string(),
      ok: z.literal(true),
      skipped: z.enum(SKIP_REASONS),
      generation: z.number(),
      expiresAt: z.string(),
      refreshAfter: z.string(),
      secondsToExpiry: z.number(),
      /**
       * When a backing-off credential is tried again, or a blocked one's `clientSecretSource`
       * (whose client secret the issuer rejected) is looked at again.
       */
      nextAttempt: z.optional(z.string()),
    }),
    z.object({
      credential: z.string(),
      ok: z.literal(true),
      generation: z.number(),
      expiresAt: z.string(),
      refreshAfter: z.string(),
      secondsToExpiry: z.number(),
      /** The issuer's real token lifetime breaks the write budget: stored anyway, reported. */
      writeBudgetBreached: z.optional(z.literal(true)),
      /**
       * The token was stored, but a tag call after the write failed (the AWS error name): the
       * tags left are harmless, and the next write or tag repair brings them in line.
       */
      tagsFailed: z.optional(z.string()),
    }),
    z.object({
      credential: z.string(),
      ok: z.literal(false),
      error: errorSchema,
      nextAttempt: z.optional(z.string()),
      /**
       * The failure could not be recorded in the token secret's tags (the AWS error name): only
       * this container remembers its backoff.
       */
      notRecorded: z.optional(z.string()),
      /** Seconds left on the token that stays in place, when there is one. */
      secondsToExpiry: z.optional(z.number()),
      /** Generation and expiry of the token that stays in place, when there is one. */
      generation: z.optional(z.number()),
      expiresAt: z.optional(z.string()),
    }),
  ]),
);

/** The outcome for one credential, as returned to targeted callers. No secret in it. */
export type RefreshResult = z.infer<typeof refreshResultSchema>;

/** A credential that was due but not started because the invocation ran short. */
export type Deferred = z.infer<typeof deferredSchema>;

/** The answer to a targeted refresh. */
export const targetedResultSchema = z.lazy(() =>
  z.object({ results: z.array(z.union([deferredSchema, refreshResultSchema])) }),
);

/** The answer to a targeted refresh: one entry per credential (credentials it left out were not refreshed). */
export type TargetedResult = z.infer<typeof targetedResultSchema>;

/**
 * The rotator's verdict on one credential of a targeted answer, read leniently: a reader needs
 * only `ok` and the error code, so it keeps working with a rotator that adds or drops other fields.
 */
const verdictSchema = z.lazy(() =>
  z.object({
    results: z.array(
      z.looseObject({
        credential: z.unknown(),
        ok: z.optional(z.unknown()),
        error: z.optional(z.union([z.looseObject({ code: z.optional(z.unknown()) }), z.string()])),
      }),
    ),
  }),
);

/** `{ ok: true }`, `{ ok: false, code }` (code `undefined` when the answer gave none), or `undefined` when `payload` says nothing of `credential`. */
export function verdictFor(
  payload: unknown,
  credential: string,
): { ok: true } | { ok: false; code: string | undefined } | undefined {
  const parsed = verdictSchema.safeParse(payload);
  if (!parsed.success) return undefined;
  const result = parsed.data.results.find((r) => r.credential === credential);
  if (result === undefined) return undefined;
  if (result.ok === true) return { ok: true };
  const code = typeof result.error === 'string' ? result.error : result.error?.code;
  return { ok: false, code: typeof code === 'string' ? code : undefined };
}

// ---------------------------------------------------------------------------------------------
// Invocation

/** What a synchronous invocation came back with: the answer's JSON, or the function's own failure. */
export type RotatorReply =
  | { kind: 'answer'; payload: unknown }
  | {
      kind: 'function-error';
      /** Lambda's `FunctionError` (`Unhandled`, …). */
      functionError: string;
      /** The runtime's `errorType`, when the payload says (at most 64 characters). */
      errorType: string | undefined;
      /** The runtime's `errorMessage`, when the payload says. Not ours: redact before showing it. */
      errorMessage: string | undefined;
    };

/** Options of {@link invokeRotator}. */
export interface InvokeRotatorOptions {
  /** Aborts the invocation (the SDK throws its abort error). */
  signal?: AbortSignal | undefined;
}

/**
 * Invokes the rotator `functionName` synchronously with `event` and returns what it answered. An
 * answer that is not JSON comes back as `payload: undefined`: each caller judges the answer with
 * the schema of the event it sent. SDK failures (network, permissions, abort) are thrown as the
 * SDK raised them, for the caller to word.
 *
 * @example
 * ```ts
 * const reply = await invokeRotator(lambda, 'token-rotator-fn', { credentials: ['sirv-prod'], force: true });
 * if (reply.kind === 'answer') console.log(targetedResultSchema.safeParse(reply.payload).success);
 * ```
 */
export async function invokeRotator(
  lambda: LambdaClient,
  functionName: string,
  event: RefreshEvent,
  options: InvokeRotatorOptions = {},
): Promise<RotatorReply> {
  // Loaded on first use: the provider is serialized with its closures, and most readers never invoke.
  // An import(), not a require(): the Lambda bundle carries this module, and esbuild splits only
  // an import() into a chunk loaded when reached.
  const { InvokeCommand } = await import('./lambda-sdk.js');
  const output: InvokeCommandOutput = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    }),
    options.signal ? { abortSignal: options.signal } : undefined,
  );
  const text = output.Payload ? new TextDecoder().decode(output.Payload) : '';
  let payload: unknown;
  try {
    payload = text ? JSON.parse(text) : undefined;
  } catch {
    payload = undefined;
  }
  if (output.FunctionError !== undefined) {
    const error = (typeof payload === 'object' && payload !== null ? payload : {}) as {
      errorType?: unknown;
      errorMessage?: unknown;
    };
    return {
      kind: 'function-error',
      functionError: output.FunctionError,
      errorType: typeof error.errorType === 'string' ? error.errorType.slice(0, 64) : undefined,
      errorMessage: typeof error.errorMessage === 'string' ? error.errorMessage : undefined,
    };
  }
  return { kind: 'answer', payload };
}
