/**
 * The workload side of token-rotator: reads `PREFIX NAME/token` from Secrets Manager, caches the
 * record until the rotator says it is due (`refreshAfter`), and never hands out an expired token.
 *
 * This file must never import `@pulumi/pulumi` (directly or through core/ modules that do):
 * workloads load it in their own processes, Lambdas and containers.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  errorFromCode,
  InvalidConfigurationError,
  IssuerUnavailableError,
  MalformedResponseError,
  StoreError,
  TokenExpiredError,
} from '../core/errors';
import { invokeRotator, verdictFor } from '../core/rotator-protocol';
import { layoutSecretNames } from '../core/store/names';
import {
  CREDENTIAL_NAME_PATTERN,
  DEFAULT_PREFIX,
  InvalidTokenRecordError,
  parseTokenRecord,
  type TokenRecord,
} from '../core/token';

export { DEFAULT_PREFIX };
/** Seconds to wait after a failed read before reading again (while the cached token is served). */
export const DEFAULT_RETRY_SECONDS = 5;
/** Seconds between re-reads while the stored record is past its `refreshAfter` (the rotator is behind). */
export const DEFAULT_RECHECK_SECONDS = 30;
/** Seconds between two on-demand rotator invocations for one credential. */
export const DEFAULT_ROTATOR_MIN_INTERVAL_SECONDS = 60;

/** The rotator Lambda to ask for an immediate refresh when the stored token is rejected. */
export interface RotatorInvokeOptions {
  /** Name or ARN of the rotator Lambda (the `TokenRotator` component's `functionName` output). */
  functionName: string;
  /** Lambda client; one with the standard configuration is created on first use. */
  client?: LambdaClient;
  /** At most one invocation per credential in this many seconds. Default 60. */
  minIntervalSeconds?: number;
}

/** Options of {@link TokenReader}. Every field has a default that works against AWS. */
export interface TokenReaderOptions {
  /** Secret name prefix; must match the one the credentials were deployed with. Default `token-rotator/`. */
  prefix?: string;
  /** Secrets Manager client; one with the standard configuration is created on first read. */
  client?: SecretsManagerClient;
  /** Clock seam. */
  now?: () => Date;
  /** HTTP seam for {@link TokenReader.fetch}; the global `fetch` by default. */
  fetch?: typeof fetch;
  /** When set, a token the API still rejects after a re-read makes the reader ask the rotator for a new one. */
  rotator?: RotatorInvokeOptions;
  /** Seconds between reads after a failed read. Default 5. */
  retrySeconds?: number;
  /** Seconds between reads while the stored record is already past `refreshAfter`. Default 30. */
  recheckSeconds?: number;
  /**
   * Told about failures the reader absorbs: a failed re-read while a cached token is still served,
   * a failed rotator invocation. Use it to log or count them; what it throws is ignored.
   */
  onError?: (error: Error, credential: string) => void;
}

/** Per-call options of {@link TokenReader.fetch}. */
export interface TokenFetchOptions {
  /** HTTP implementation for this call only; the reader's own otherwise. */
  fetch?: typeof fetch;
}

interface CacheEntry {
  record: TokenRecord | undefined;
  /** Epoch ms before which the secret is not read again (the cached answer stands). */
  nextReadAt: number;
  /** Why the last read failed; cleared by a successful one. */
  lastError: Error | undefined;
  reading: Promise<TokenRecord> | undefined;
  /** Epoch ms of the last read forced by a 401, which bounds re-reads under a storm of 401s. */
  lastForcedReadAt: number | undefined;
}

interface RotatorSettings {
  functionName: string;
  client: LambdaClient | undefined;
  minIntervalMs: number;
}

interface RotatorState {
  lastInvokeAt: number | undefined;
  pending: Promise<TokenRecord | undefined> | undefined;
}

/**
 * Reads short-lived access tokens that the token-rotator keeps fresh in Secrets Manager.
 *
 * - reads `PREFIX NAME/token` only when due: once, then again at the record's `refreshAfter`;
 * - never returns a token past its `expiresAt` (throws {@link TokenExpiredError} instead);
 * - concurrent callers share one in-flight read;
 * - when a re-read fails while the cached token is still valid, keeps serving it and retries
 *   after a short back-off (`retrySeconds`), not on every call;
 * - {@link TokenReader.fetch} adds the `Authorization` header and, on a 401, re-reads the secret
 *   once and retries once (then, with `rotator` set, asks the rotator for a new token).
 *
 * @example
 * ```ts
 * import { TokenReader } from 'token-rotator/reader';
 *
 * const reader = new TokenReader(); // module scope: one cache per process
 *
 * export async function handler() {
 *   const response = await reader.fetch('sirv-prod', 'https://api.sirv.com/v2/account');
 *   // or, for another HTTP client:
 *   const { accessToken, tokenType } = await reader.getToken('sirv-prod');
 * }
 * ```
 */
export class TokenReader {
  private readonly prefix: string;
  private secretsClient: SecretsManagerClient | undefined;
  private lambdaClient: LambdaClient | undefined;
  private readonly now: () => Date;
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly rotator: RotatorSettings | undefined;
  private readonly retryMs: number;
  private readonly recheckMs: number;
  private readonly onError: ((error: Error, credential: string) => void) | undefined;
  private readonly entries = new Map<string, CacheEntry>();
  // Kept apart from the cache so that invalidate() cannot reset the invoke rate limit.
  private readonly rotatorStates = new Map<string, RotatorState>();

  constructor(options: TokenReaderOptions = {}) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    if (typeof this.prefix !== 'string') {
      throw new InvalidConfigurationError('TokenReader: prefix must be a string.', { field: 'prefix' });
    }
    this.secretsClient = options.client;
    this.now = options.now ?? (() => new Date());
    this.fetchImpl = options.fetch;
    this.retryMs = seconds(options.retrySeconds ?? DEFAULT_RETRY_SECONDS, 'retrySeconds');
    this.recheckMs = seconds(options.recheckSeconds ?? DEFAULT_RECHECK_SECONDS, 'recheckSeconds');
    this.onError = options.onError;
    const rotator = options.rotator;
    if (rotator !== undefined) {
      if (typeof rotator.functionName !== 'string' || rotator.functionName === '') {
        throw new InvalidConfigurationError('TokenReader: rotator.functionName must be a non-empty string.', {
          field: 'rotator.functionName',
        });
      }
      this.rotator = {
        functionName: rotator.functionName,
        client: rotator.client,
        minIntervalMs: seconds(
          rotator.minIntervalSeconds ?? DEFAULT_ROTATOR_MIN_INTERVAL_SECONDS,
          'rotator.minIntervalSeconds',
        ),
      };
    }
  }

  /**
   * The current token record of credential `name`, read from Secrets Manager only when due.
   *
   * @throws {@link TokenExpiredError} when the only token available is past its `expiresAt`.
   * @throws {@link StoreError} or `InvalidTokenRecordError` when no token could be read at all.
   */
  async getToken(name: string): Promise<TokenRecord> {
    checkCredentialName(name);
    const entry = this.entry(name);
    const now = this.nowMs();
    // Inside the interval the cached answer stands, including a recent failure (no read storm).
    if (now < entry.nextReadAt) return this.answer(name, entry, now);
    return this.read(name, entry);
  }

  /** The access token of credential `name` (see {@link TokenReader.getToken}). */
  async getAccessToken(name: string): Promise<string> {
    return (await this.getToken(name)).accessToken;
  }

  /** The `Authorization` header value for credential `name`, e.g. `Bearer eyJ…`. */
  async getAuthorizationHeader(name: string): Promise<string> {
    return authorizationFor(await this.getToken(name));
  }

  /**
   * `fetch` with `Authorization: <tokenType> <accessToken>` of credential `name`.
   * On a 401 the secret is re-read once (bypassing the cache) and the request retried once if the
   * token changed; when it is still rejected and `rotator` is configured, the rotator is asked
   * for a new token (rate limited) and the request retried once more. At most three requests are
   * sent; a body that cannot be replayed (a stream) is never retried.
   */
  async fetch(
    name: string,
    url: string | URL,
    init: RequestInit = {},
    options: TokenFetchOptions = {},
  ): Promise<Response> {
    const fetchImpl = options.fetch ?? this.fetchImpl ?? globalThis.fetch;
    const prepare = sendPreparers.get(init);
    const send = (record: TokenRecord) => {
      const sent = withAuthorization(init, record);
      return fetchImpl(url, prepare === undefined ? sent : prepare(sent, record.accessToken));
    };
    let used = await this.getToken(name);
    let response = await send(used);
    if (response.status !== 401 || !isReplayable(init.body)) return response;

    const reread = await this.reReadAfterRejection(name);
    if (reread.accessToken !== used.accessToken) {
      await discard(response);
      used = reread;
      response = await send(used);
      if (response.status !== 401) return response;
    }
    if (this.rotator === undefined) return response;

    const refreshed = await this.refreshThroughRotator(name, this.rotator);
    if (refreshed === undefined || refreshed.accessToken === used.accessToken) return response;
    await discard(response);
    return send(refreshed);
  }

  /** Forgets the cached record of `name` (or of every credential), so the next call reads the secret. */
  invalidate(name?: string): void {
    if (name === undefined) this.entries.clear();
    else this.entries.delete(name);
  }

  /** The name of the token secret of credential `name` under this reader's prefix. */
  secretName(name: string): string {
    return layoutSecretNames(name, this.prefix).token;
  }

  private entry(name: string): CacheEntry {
    let entry = this.entries.get(name);
    if (entry === undefined) {
      entry = {
        record: undefined,
        nextReadAt: 0,
        lastError: undefined,
        reading: undefined,
        lastForcedReadAt: undefined,
      };
      this.entries.set(name, entry);
    }
    return entry;
  }

  private nowMs(): number {
    return this.now().getTime();
  }

  /** The cached record when it is still valid; otherwise the error that explains why there is none. */
  private answer(name: string, entry: CacheEntry, now: number): TokenRecord {
    const record = entry.record;
    if (record !== undefined && now < Date.parse(record.expiresAt)) return record;
    if (record !== undefined) throw this.expired(name, record, entry.lastError);
    throw entry.lastError ?? new StoreError(`Credential "${name}": no token has been read yet.`, { credential: name });
  }

  /** One read for every concurrent caller: the first starts it, the others await the same promise. */
  private read(name: string, entry: CacheEntry): Promise<TokenRecord> {
    entry.reading ??= this.readOnce(name, entry).finally(() => {
      entry.reading = undefined;
    });
    return entry.reading;
  }

  private async readOnce(name: string, entry: CacheEntry): Promise<TokenRecord> {
    let fresh: TokenRecord;
    try {
      fresh = await this.readSecret(name);
    } catch (caught) {
      const error = asError(caught);
      const now = this.nowMs();
      entry.lastError = error;
      const cached = entry.record;
      const servingStale = cached !== undefined && now < Date.parse(cached.expiresAt);
      // While a cached token is served, the back-off ends no later than its expiry (then read again).
      entry.nextReadAt = servingStale ? Math.min(now + this.retryMs, Date.parse(cached.expiresAt)) : now + this.retryMs;
      if (servingStale) this.report(error, name);
      return this.answer(name, entry, now);
    }
    const now = this.nowMs();
    const cached = entry.record;
    // Never step back to an older generation (a stale replica) while the newer one is valid.
    const keep =
      cached !== undefined && cached.generation > fresh.generation && now < Date.parse(cached.expiresAt)
        ? cached
        : fresh;
    entry.record = keep;
    entry.lastError = undefined;
    entry.nextReadAt = this.nextReadAt(keep, now);
    return this.answer(name, entry, now);
  }

  private nextReadAt(record: TokenRecord, now: number): number {
    const refreshAfter = Date.parse(record.refreshAfter);
    const expiresAt = Date.parse(record.expiresAt);
    // An expired record means the rotator is down: look again soon, but not on every call.
    if (now >= expiresAt) return now + this.retryMs;
    if (now < refreshAfter) return Math.min(refreshAfter, expiresAt);
    // Past refreshAfter the rotator is behind: serve this token while valid, recheck periodically.
    return Math.min(now + this.recheckMs, expiresAt);
  }

  private async readSecret(name: string): Promise<TokenRecord> {
    const secretId = this.secretName(name);
    this.secretsClient ??= new SecretsManagerClient({});
    let secretString: string | undefined;
    try {
      const output = await this.secretsClient.send(new GetSecretValueCommand({ SecretId: secretId }));
      secretString = output.SecretString;
    } catch (error) {
      throw classifyReadError(name, secretId, error);
    }
    if (secretString === undefined) {
      throw new InvalidTokenRecordError(
        `Credential "${name}": the token secret "${secretId}" holds no string value; it was not written by token-rotator.`,
        { credential: name },
      );
    }
    return parseTokenRecord(secretString, name);
  }

  /**
   * The record to retry with after a 401. Joins a read in flight; forces one otherwise, at most
   * once per `retrySeconds`, so a storm of 401s cannot turn into a storm of reads.
   */
  private async reReadAfterRejection(name: string): Promise<TokenRecord> {
    const entry = this.entry(name);
    if (entry.reading !== undefined) return entry.reading;
    const now = this.nowMs();
    if (entry.lastForcedReadAt !== undefined && now - entry.lastForcedReadAt < this.retryMs) {
      return this.answer(name, entry, now);
    }
    entry.lastForcedReadAt = now;
    return this.read(name, entry);
  }

  /** Invokes the rotator for `name` (shared by concurrent callers, rate limited) and re-reads. */
  private refreshThroughRotator(name: string, rotator: RotatorSettings): Promise<TokenRecord | undefined> {
    let state = this.rotatorStates.get(name);
    if (state === undefined) {
      state = { lastInvokeAt: undefined, pending: undefined };
      this.rotatorStates.set(name, state);
    }
    if (state.pending !== undefined) return state.pending;
    const now = this.nowMs();
    if (state.lastInvokeAt !== undefined && now - state.lastInvokeAt < rotator.minIntervalMs) {
      return Promise.resolve(undefined);
    }
    state.lastInvokeAt = now;
    const current = state;
    current.pending = this.invokeRotator(name, rotator).finally(() => {
      current.pending = undefined;
    });
    return current.pending;
  }

  private async invokeRotator(name: string, rotator: RotatorSettings): Promise<TokenRecord | undefined> {
    try {
      // The Lambda client is loaded only here: most workloads never configure a rotator and should
      // not pay for it.
      const { LambdaClient } = await import('@aws-sdk/client-lambda');
      this.lambdaClient ??= rotator.client ?? new LambdaClient({});
      const reply = await invokeRotator(this.lambdaClient, rotator.functionName, {
        credentials: [name],
        force: true,
      });
      if (reply.kind === 'function-error') {
        throw new IssuerUnavailableError(
          `Credential "${name}": the rotator Lambda "${rotator.functionName}" failed (${reply.functionError}); check its logs.`,
          { credential: name, reason: 'rotator-failed' },
        );
      }
      rotatorResultFor(name, reply.payload, rotator.functionName);
      const entry = this.entry(name);
      // A read that started before the rotator wrote would return the old token: wait it out.
      await entry.reading?.catch(() => undefined);
      return await this.read(name, entry);
    } catch (caught) {
      this.report(asError(caught), name);
      return undefined;
    }
  }

  private expired(name: string, record: TokenRecord, cause: Error | undefined): TokenExpiredError {
    return new TokenExpiredError(
      `Credential "${name}": the stored token expired at ${record.expiresAt} (generation ${record.generation}) ` +
        `and no newer one could be read from "${this.secretName(name)}". The rotator has not refreshed it: ` +
        `check the TokenRotator Lambda, its RefreshFailed / SecondsToExpiry alarms and its logs for this credential.`,
      { credential: name, reason: cause === undefined ? 'not-refreshed' : 'read-failed', cause },
    );
  }

  private report(error: Error, name: string): void {
    try {
      this.onError?.(error, name);
    } catch {
      // An observer must not turn a served token into a failure.
    }
  }
}

/** Called just before each request one {@link TokenReader.fetch} call sends; returns the init to send. */
type SendPreparer = (init: RequestInit, accessToken: string) => RequestInit;

const sendPreparers = new WeakMap<RequestInit, SendPreparer>();

/**
 * Internal hook, not exported by the package: a caller that quotes an API's answer (reader/sirv.ts)
 * must redact every token the request carried, and one `fetch` call may send up to three (re-read,
 * rotator). Registering `init` here makes {@link TokenReader.fetch} hand each request's init and
 * token to `prepare` before sending it; `prepare` may return another init (its own signal).
 */
export function prepareEachSend(init: RequestInit, prepare: SendPreparer): RequestInit {
  sendPreparers.set(init, prepare);
  return init;
}

/** `Bearer` in its canonical case (OAuth2 servers often say `bearer`; some APIs only accept `Bearer`). */
export function authorizationFor(record: Pick<TokenRecord, 'tokenType' | 'accessToken'>): string {
  const scheme = record.tokenType.toLowerCase() === 'bearer' ? 'Bearer' : record.tokenType;
  return `${scheme} ${record.accessToken}`;
}

function withAuthorization(init: RequestInit, record: TokenRecord): RequestInit {
  const headers = new Headers(init.headers);
  try {
    headers.set('authorization', authorizationFor(record));
  } catch {
    // The platform's TypeError quotes the whole header value, token included: never pass it on.
    throw new InvalidTokenRecordError(
      `Credential "${record.credential}": the stored token cannot be sent in an Authorization header (it holds characters a header cannot carry); refresh it with token-rotator refresh.`,
      { credential: record.credential },
    );
  }
  return { ...init, headers };
}

/** Bodies that can be sent twice; a stream is consumed by the first request. */
function isReplayable(body: RequestInit['body']): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData
  );
}

/** Releases the connection of a response we are not going to return. */
async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to release.
  }
}

function checkCredentialName(name: string): void {
  if (typeof name !== 'string' || !CREDENTIAL_NAME_PATTERN.test(name)) {
    throw new InvalidConfigurationError(
      'TokenReader: the credential name must be 1–64 letters, digits and _+=.@-, starting with a letter or digit (the NAME of PREFIX NAME/token).',
      { field: 'name' },
    );
  }
}

function seconds(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidConfigurationError(`TokenReader: ${field} must be a number of seconds, 0 or more.`, { field });
  }
  return value * 1000;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

const PERMANENT_READ_ERRORS: Record<string, { reason: string; hint: string }> = {
  ResourceNotFoundException: {
    reason: 'not-found',
    hint: 'check that the credential was deployed (ProviderCredential) and that the reader uses the same prefix',
  },
  AccessDeniedException: {
    reason: 'access-denied',
    hint: "grant the workload's role the credential's readPolicy output (secretsmanager:GetSecretValue and DescribeSecret on this secret)",
  },
  DecryptionFailure: {
    reason: 'decryption-failed',
    hint: "grant the workload's role kms:Decrypt on the secret's KMS key",
  },
  InvalidRequestException: {
    reason: 'invalid-request',
    hint: 'the secret may be scheduled for deletion; check the credential is still deployed',
  },
};

/** A failed GetSecretValue as a {@link StoreError}: permanent for what only a change can fix, transient otherwise. */
function classifyReadError(name: string, secretId: string, error: unknown): StoreError {
  const errorName = error instanceof Error ? error.name : 'UnknownError';
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const permanent = PERMANENT_READ_ERRORS[errorName];
  const hint = permanent?.hint ?? 'Secrets Manager is throttling or unreachable; the read is retried after a back-off';
  return new StoreError(
    `Credential "${name}": reading the token secret "${secretId}" failed (${errorName}): ${hint}.`,
    {
      credential: name,
      status,
      reason: permanent?.reason ?? 'read-failed',
      transient: permanent === undefined,
      cause: error,
    },
  );
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
