/**
 * A small fleet of Sirv-kind credentials rotated by several rotator containers on the weak-guarantee
 * stack (local-stack/weak-aws.ts), in simulated time, with every fault the model-based test injects
 * and a record of everything its invariants are judged on: each issuer request (which container,
 * when, what it answered), each accepted token write, each log line and each error text.
 *
 * A container is one `createHandler()` (its own client cache and refresh memory), running one
 * invocation at a time as Lambda does; a delivery or a sweep finding every container busy starts a
 * new one, and some start new ones anyway, as Lambda may not reuse a container.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { type ClientDocumentInput, secretNames, TAG_KEYS } from '../core/store';
import { parseTokenRecord, type TokenRecord } from '../core/token';
import { createHandler, type InvocationContext } from '../lambda/handler';
import type { AsyncInvocations, DeliveryPolicy } from './async-invocations';
import type { LagChoice } from './eventual-consistency';
import { type MemorySecrets, memorySecrets } from './memory-secrets';
import { VirtualTime } from './virtual-time';
import { weakAws } from './weak-aws';

export const PREFIX = 'model-rotator/';
export const TOKEN_URL = 'http://sirv.test/v2/token';
/** Every client secret starts with this; no log line or error may show one. */
export const PLANTED_CLIENT_SECRET = 'PLANTEDclientsecret';
/** Every issued token ends with this and a serial; no log line or error may show one. */
export const PLANTED_TOKEN_MARK = 'PLANTEDtokensig';
/** What the fake issuer states (and puts in the JWT): Sirv's 20 minutes. */
export const LIFETIME_SECONDS = 1200;
/** An invocation's time budget (the rotator's Lambda timeout). */
const INVOCATION_MS = 900_000;
/** The most containers one run starts. */
const MAX_CONTAINERS = 8;

/** How the fake issuer answers one credential. */
export type IssuerMode = 'token' | 'skew-ahead' | 'skew-behind' | 'slow' | '5xx' | '429' | '401';
/** The Retry-After a 429 carries, in seconds. */
export const RETRY_AFTER_SECONDS = 120;
/** How long a slow answer takes (simulated), under the issuer timeout. */
export const SLOW_MS = 4_000;
/** The issuer clock's offset under a skew mode: ±10 minutes. */
export const SKEW_SECONDS = 600;

/** Store calls the harness can throttle once. */
export type ThrottledCommand =
  | 'ListSecretsCommand'
  | 'DescribeSecretCommand'
  | 'PutSecretValueCommand'
  | 'TagResourceCommand';

/** One request the fake issuer received. */
export interface IssuerRequest {
  credential: string;
  container: number;
  invocation: number;
  at: number;
  mode: IssuerMode;
  /** Order of this request among the store calls and requests the harness saw. */
  sequence: number;
  /** Order of the DescribeSecret this request was decided on (its container's last of this secret). */
  describedAt: number;
  /** Set once the invocation that made it has ended. */
  done?: boolean;
  /** Set once the invocation's log says this refresh failed. */
  failed?: { nextAttempt: number | undefined; recorded: boolean; recordedAt?: number };
}

/** One accepted PutSecretValue of a token secret. */
export interface TokenWrite {
  credential: string;
  at: number;
  generation: number;
  container: number;
  /** Order of this write among the store calls the harness saw. */
  sequence: number;
  /** Order of the DescribeSecret this write was decided on (its container's last of this secret). */
  describedAt: number;
}

interface Container {
  id: number;
  handler: ReturnType<typeof createHandler>;
  busy: boolean;
  invocation: number;
}

/** Options of {@link weakRotatorWorld}. */
export interface WorldOptions {
  seed: number;
  credentials: number;
  batchSize: number;
  lag: LagChoice;
  /** How self-invocations arrive; by default a seeded mix of duplicates and late copies (up to 150 s). */
  delivery?: DeliveryPolicy;
  /** How old a ListSecrets answer may be; AWS's 5 minutes when absent, 0 for a strongly consistent store. */
  listLagMs?: number;
  /** The chance a delivered event starts a new container rather than reuse an idle one; 0.3 when absent. */
  freshContainerChance?: number;
  /** The first tokens fall due over this many seconds from the start; 30 s apart when absent. */
  dueSpreadSeconds?: number;
  /** Judge racing writes (two refreshes in flight at once) like any other (the known-defect test). */
  strictRaces?: boolean;
}

/** Starts a world; `close()` it after the run. */
export function weakRotatorWorld(options: WorldOptions) {
  const vt = new VirtualTime(WORLD_EPOCH);
  const random = seededRandom(options.seed);
  const weak = weakAws({
    now: vt.now,
    sleep: vt.sleep,
    random,
    lag: options.lag,
    ...(options.listLagMs !== undefined ? { listLagMs: options.listLagMs } : {}),
    delivery: options.delivery ?? { kind: 'mixed', duplicateChance: 0.5, lateChance: 0.5, maxDelayMs: 150_000 },
  });
  const sm: MemorySecrets = memorySecrets({ ...weak.secrets });
  const names = Array.from({ length: options.credentials }, (_, i) => `c${i}`);
  const clientRotations = new Map<string, { at: number; sequence: number }[]>(names.map((n) => [n, []]));
  const clientSerial = new Map<string, number>(names.map((n) => [n, 1]));
  for (const [i, name] of names.entries()) {
    // By default 30 s apart from the first 30 s, so the first sweeps find several due (and fan out).
    const offset =
      options.dueSpreadSeconds === undefined ? 30 * i : Math.floor((options.dueSpreadSeconds * i) / names.length);
    const due = new Date(WORLD_EPOCH.getTime() + (30 + offset) * 1000);
    sm.addCredential({
      name,
      prefix: PREFIX,
      clientDocument: clientDocument(name, 1),
      token: firstRecord(name, due),
    });
  }

  const now = () => vt.now().getTime();
  const modes = new Map<string, IssuerMode>(names.map((n) => [n, 'token']));
  const requests: IssuerRequest[] = [];
  const writes: TokenWrite[] = [];
  const texts: string[] = [];
  const issuedTokens: string[] = [];
  const deleted = new Map<string, number>();
  const deleteOnIssue = new Set<string>();
  const throttleNext = new Set<ThrottledCommand>();
  const deniedUntil = new Map<string, number>();
  const calls: Record<string, number> = {};
  let serial = 0;

  // Each container's client: the weak double, with the harness's store faults in front of it.
  const base = sm.client;
  let sequence = 0;
  const lastDescribe = new Map<string, number>();
  const failureRecords: { credential: string; container: number; sequence: number }[] = [];
  const clientFor = (container: number): SecretsManagerClient => {
    const client = Object.create(base) as SecretsManagerClient;
    const tokenSecretOf = (id: string | undefined) =>
      names.find((n) => id !== undefined && secretNames(n, PREFIX).token === id);
    client.send = (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      calls[name] = (calls[name] ?? 0) + 1;
      const id = typeof command.input.SecretId === 'string' ? command.input.SecretId : undefined;
      if (throttleNext.has(name as ThrottledCommand)) {
        throttleNext.delete(name as ThrottledCommand);
        throw awsError('ThrottlingException', 'Rate exceeded');
      }
      const writeCall =
        name === 'PutSecretValueCommand' || name === 'TagResourceCommand' || name === 'UntagResourceCommand';
      if (writeCall && id !== undefined && (deniedUntil.get(id) ?? 0) > now()) {
        throw awsError(
          'AccessDeniedException',
          `User is not authorized to perform ${name.replace('Command', '')} on ${id}`,
        );
      }
      // The double reads and writes when called: the call's place in the order is taken before it.
      const order = ++sequence;
      const out = await (base.send as (c: unknown) => Promise<unknown>)(command);
      const credential = tokenSecretOf(id);
      const tags = (command.input.Tags ?? []) as { Key?: string }[];
      if (name === 'TagResourceCommand' && credential !== undefined && tags.some((t) => t.Key === TAG_KEYS.lastError)) {
        failureRecords.push({ credential, container, sequence: order });
      }
      if (name === 'DescribeSecretCommand' && credential !== undefined) {
        lastDescribe.set(`${container}/${credential}`, order);
      }
      if (name === 'PutSecretValueCommand' && credential !== undefined) {
        const record = parseTokenRecord(String(command.input.SecretString), credential);
        writes.push({
          credential,
          at: now(),
          generation: record.generation,
          container,
          sequence: order,
          describedAt: lastDescribe.get(`${container}/${credential}`) ?? 0,
        });
      }
      return out;
    }) as SecretsManagerClient['send'];
    return client;
  };

  const containers: Container[] = [];
  let lambda: AsyncInvocations | undefined;
  const newContainer = (): Container => {
    const id = containers.length;
    const logger = captureLogger(texts);
    const container: Container = {
      id,
      busy: false,
      invocation: 0,
      handler: createHandler({
        secretsManager: clientFor(id),
        lambda: (lambda as AsyncInvocations).client,
        fetch: issuerFetch(() => container),
        now: vt.now,
        sleep: vt.sleep,
        random,
        env: { TOKEN_ROTATOR_PREFIX: PREFIX, TOKEN_ROTATOR_BATCH_SIZE: String(options.batchSize) },
        logger,
        metrics: SILENT_METRICS,
      }),
    };
    containers.push(container);
    return container;
  };
  /** An idle container: a new one with `freshChance`, or when all are busy (up to the cap). */
  const pick = (freshChance: number): Container => {
    const idle = containers.filter((c) => !c.busy);
    if (containers.length < MAX_CONTAINERS && (idle.length === 0 || random() < freshChance)) return newContainer();
    if (idle.length === 0) throw new Error(`weak-rotator world: more than ${MAX_CONTAINERS} containers busy at once`);
    return idle[Math.floor(random() * idle.length)] as Container;
  };

  /** Runs one event in `container`, then marks the failed issuer requests of that invocation from its log. */
  const invoke = async (container: Container, event: unknown): Promise<unknown> => {
    container.busy = true;
    container.invocation += 1;
    const invocation = container.invocation;
    const logFrom = texts.length;
    const started = now();
    const context: InvocationContext = {
      getRemainingTimeInMillis: () => started + INVOCATION_MS - now(),
      functionName: 'token-rotator',
    };
    try {
      const result = await container.handler(event, context);
      texts.push(JSON.stringify(result));
      return result;
    } catch (e) {
      texts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      throw e;
    } finally {
      container.busy = false;
      markFailures(container.id, invocation, texts.slice(logFrom));
    }
  };
  const markFailures = (container: number, invocation: number, lines: string[]) => {
    const failed = new Map<string, { nextAttempt: number | undefined; recorded: boolean }>();
    const entries = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as { message?: string; credential?: string; nextAttempt?: string }];
      } catch {
        return [];
      }
    });
    for (const entry of entries) {
      if (entry.message === 'Refresh failed' && entry.credential) {
        const nextAttempt = entry.nextAttempt ? Date.parse(entry.nextAttempt) : undefined;
        failed.set(entry.credential, { nextAttempt, recorded: true });
      }
    }
    for (const entry of entries) {
      const f = entry.message === 'Failure not recorded in tags' && entry.credential && failed.get(entry.credential);
      if (f) f.recorded = false;
    }
    for (const r of requests) {
      if (r.container !== container || r.invocation !== invocation) continue;
      r.done = true;
      const f = failed.get(r.credential);
      if (!f) continue;
      // The failure tags this container wrote for it: from then on every describe shows the backoff.
      const record = failureRecords.find(
        (x) => x.credential === r.credential && x.container === container && x.sequence > r.sequence,
      );
      r.failed = { ...f, ...(f.recorded && record ? { recordedAt: record.sequence } : {}) };
    }
  };
  lambda = weak.selfInvocations((event) => invoke(pick(options.freshContainerChance ?? 0.3), event));

  function issuerFetch(container: () => Container): typeof fetch {
    return (async (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const body = JSON.parse(typeof init?.body === 'string' ? init.body : '{}') as {
        clientId?: string;
        clientSecret?: string;
      };
      const credential = String(body.clientId).replace(/^id-/, '');
      const mode = modes.get(credential) ?? 'token';
      const { id, invocation } = container();
      requests.push({
        credential,
        container: id,
        invocation,
        at: now(),
        mode,
        sequence: ++sequence,
        describedAt: lastDescribe.get(`${id}/${credential}`) ?? 0,
      });
      if (deleteOnIssue.delete(credential)) {
        // Gone between the listing (and the describe) and the write.
        sm.secrets.delete(secretNames(credential, PREFIX).token);
        deleted.set(credential, now());
      }
      if (mode === 'slow') await vt.sleep(SLOW_MS);
      // A hostile 5xx echoes the request, client secret included: the rotator must not quote it.
      if (mode === '5xx') return json(503, { error: 'unavailable', request: body });
      if (mode === '429') return json(429, { error: 'slow down' }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
      if (mode === '401') return json(401, { error: 'invalid_client' });
      serial += 1;
      const skew = mode === 'skew-ahead' ? SKEW_SECONDS : mode === 'skew-behind' ? -SKEW_SECONDS : 0;
      const iat = Math.floor(now() / 1000) + skew;
      const token = jwt({ iat, exp: iat + LIFETIME_SECONDS, sub: credential }, `${PLANTED_TOKEN_MARK}${serial}`);
      issuedTokens.push(token);
      // As every HTTP server does, it says its own clock in Date: how the rotator reads the skew.
      const date = new Date(now() + skew * 1000).toUTCString();
      return json(200, { token, expiresIn: LIFETIME_SECONDS, scope: ['files:read'] }, { date });
    }) as typeof fetch;
  }

  return {
    options,
    vt,
    sm,
    names,
    modes,
    requests,
    writes,
    texts,
    issuedTokens,
    deleted,
    deleteOnIssue,
    throttleNext,
    deniedUntil,
    calls,
    clientRotations,
    containers,
    now,
    /** The token secret's name (what `deniedUntil` is keyed by). */
    tokenSecret: (credential: string) => secretNames(credential, PREFIX).token,
    get lambda() {
      return lambda as AsyncInvocations;
    },
    /** Runs `work` on the simulated clock (bounded: six simulated hours). */
    run<T>(work: () => Promise<T>): Promise<T> {
      return vt.run(work(), 6 * 3600_000);
    },
    /** A scheduled sweep in an idle container (a new one with `freshChance`). */
    sweep(freshChance: number) {
      return invoke(pick(freshChance), { action: 'sweep' });
    },
    /** A targeted refresh, as the provider or CLI sends it. */
    refresh(credential: string, force: boolean, freshChance: number) {
      return invoke(pick(freshChance), { credentials: [credential], force });
    },
    /** What a workload reads: the token record, or `undefined` when the secret is gone. */
    async read(credential: string): Promise<TokenRecord | undefined> {
      const id = secretNames(credential, PREFIX).token;
      if (!sm.secrets.has(id)) return undefined;
      const out = await base.send(new GetSecretValueCommand({ SecretId: id }));
      return parseTokenRecord(out.SecretString ?? '', credential);
    },
    /** The provider rotates the client secret: a new client document version, tagged on the token secret. */
    async rotateClient(credential: string) {
      const names2 = secretNames(credential, PREFIX);
      const next = (clientSerial.get(credential) ?? 1) + 1;
      clientSerial.set(credential, next);
      const put = await base.send(
        new PutSecretValueCommand({
          SecretId: names2.client,
          SecretString: JSON.stringify(clientDocument(credential, next)),
        }),
      );
      if (sm.secrets.has(names2.token)) {
        await base.send(
          new TagResourceCommand({
            SecretId: names2.token,
            Tags: [{ Key: TAG_KEYS.clientVersion, Value: put.VersionId ?? '' }],
          }),
        );
      }
      clientRotations.get(credential)?.push({ at: now(), sequence: ++sequence });
    },
    close() {
      lambda?.restore();
      sm.restore();
    },
  };
}

export type WeakRotatorWorld = ReturnType<typeof weakRotatorWorld>;

function clientDocument(name: string, serial: number): ClientDocumentInput {
  return {
    version: 1,
    issuer: {
      kind: 'sirv',
      url: TOKEN_URL,
      allowInsecureHttp: true,
      clientId: `id-${name}`,
      clientSecret: `${PLANTED_CLIENT_SECRET}${name}v${serial}`,
    },
    policy: {},
  };
}

/** An unsigned JWT (the rotator reads its claims, never verifies them) with a planted signature part. */
function jwt(claims: Record<string, unknown>, signature: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.${signature}`;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

/** A logger keeping each line as the JSON Powertools would print (message and attributes). */
function captureLogger(lines: string[]): Logger {
  const line =
    (level: string) =>
    (message: string, ...extra: unknown[]) => {
      lines.push(JSON.stringify({ level, message, ...Object.assign({}, ...extra.map((e) => serialisable(e))) }));
    };
  return { debug: line('DEBUG'), info: line('INFO'), warn: line('WARN'), error: line('ERROR') } as unknown as Logger;
}

function serialisable(value: unknown): Record<string, unknown> {
  if (value instanceof Error) return { error: { name: value.name, message: value.message, stack: value.stack } };
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : { extra: value };
}

const SILENT_METRICS = {
  addMetric() {},
  publishStoredMetrics() {},
  setDefaultDimensions() {},
} as unknown as Metrics;

/** Where every world's simulated clock starts. */
const WORLD_EPOCH = new Date('2026-11-22T12:00:00.000Z');

/** A small linear congruential generator: the same sequence for the same seed, so a failure replays. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A credential's token before the run: generation 7, due at `due`, issued 15 minutes before it. */
function firstRecord(credential: string, due: Date): TokenRecord {
  const iso = (offsetSeconds: number) => new Date(due.getTime() + offsetSeconds * 1000).toISOString();
  return {
    version: 1,
    credential,
    issuer: 'sirv',
    accessToken: `token-of-${credential}`,
    tokenType: 'Bearer',
    issuedAt: iso(-900),
    expiresAt: iso(300),
    refreshAfter: iso(0),
    generation: 7,
  };
}
