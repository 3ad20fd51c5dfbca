/**
 * The reliability soak: a day of rotation in simulated time, one sweep per simulated
 * minute (1440 ticks), 20 credentials of every kind against the issuer fakes, with faults on every
 * HTTP issuer (10 % 5xx, 2 % timeouts, seeded), a 30-minute outage of the Aspose issuer, one
 * credential revoked at the vendor and fixed later by an operator, and Secrets Manager throttling
 * injected inside the SDK's retry loop. A workload reads every credential through TokenReader
 * every simulated minute.
 *
 * The day runs against the in-memory Secrets Manager of the unit tests (through a real SDK client,
 * so throttling and retries are the SDK's own); a 3-hour variant of the same scenario runs against
 * moto, so the real server is exercised too.
 *
 * Expectations, precisely:
 * - A read returns an unexpired token whenever the newest stored token is unexpired, and fails
 *   with TokenExpiredError otherwise (never an expired token). The newest stored token may only be
 *   expired (an "expired read") for the revoked credential between its revocation and its fix,
 *   and for the outage issuer's short-lived credentials during the outage and its recovery.
 * - Which lifetimes survive the 30-minute outage: a token is first due with at least 25 % of its
 *   lifetime left (refreshFraction 0.75; jitter and the one-tick lookahead only add to that). In
 *   the worst case the outage starts at that moment, the attempts back off at 30-60 s, 1-2, 2-4,
 *   4-8, 8-16 min, and the first attempt after the outage comes at most about 48 minutes in. So a
 *   token survives when 0.25 × lifetime > ~50 min: the 4-hour Aspose/OAuth2 tokens do (60 min
 *   left) and must never be read expired; the 20-minute, 30-minute and 1-hour tokens of that
 *   issuer cannot, and the 20-minute one is asserted to have expired reads during the outage
 *   (which shows the assertion bites).
 * - Every PutSecretValue of a token secret carries a token the issuer really issued (seen on the
 *   wire, or a signed JWT that verifies with the credential's key) and the generation after the
 *   one it replaces; no credential whose refresh failed at the issuer is written in that tick.
 * - Writes respect the budget: at most 144 per secret per day, never two less than 10 minutes
 *   apart (every policy here is the default one, which allows nothing more frequent).
 * - The revoked credential is rejected (InvalidCredentials tag, CredentialsRejected metric) in the
 *   tick of its first rejected refresh, after at most the transient faults that came before it;
 *   it gets no issuer request until its client secret changes, then recovers.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { importSPKI, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenExpiredError } from '../../core/errors';
import { issueTokenRecord } from '../../core/issue';
import { generateSigningKey } from '../../core/issuers';
import { type IssuerConfigInput, parseIssuerConfig } from '../../core/issuers/config';
import { resolvePolicy } from '../../core/policy';
import {
  type ClientDocumentInput,
  createCredentialSecrets,
  deleteCredentialSecrets,
  describeCredential,
  TAG_KEYS,
  updateClientDocument,
} from '../../core/store';
import type { TokenRecord } from '../../core/token';
import { createHandler, type InvocationContext, type SweepSummaryView } from '../../lambda';
import { type AsposeFake, startAsposeFake } from '../../local-stack/fakes/aspose';
import type { FaultRates, RunningFake } from '../../local-stack/fakes/faults';
import { type HeaderJwtFake, startHeaderJwtFake } from '../../local-stack/fakes/header-jwt';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { memorySecrets } from '../../local-stack/memory-secrets';
import { TokenReader } from '../../reader';
import { secretsManagerClient } from '../helpers/aws';
import { frozenClock } from '../helpers/clock';
import {
  injectThrottling,
  memoryBackedClient,
  recordingFetch,
  recordTokenWrites,
  SIMULATED_RETRY,
  seededRandom,
  type TokenWrite,
} from '../helpers/sdk-faults';

const TICK_SECONDS = 60;
const MIN_WRITE_INTERVAL_SECONDS = 600;
const WRITES_PER_DAY = 144;
/** 10 % 5xx (half 500, half 503 with Retry-After) and 2 % held answers that time out. */
const ISSUER_FAULTS: FaultRates = { status500: 0.05, status503: 0.05, timeout: 0.02 };
/** Fraction of Secrets Manager attempts of the rotator answered with ThrottlingException. */
const THROTTLE_RATE = 0.08;
/** A held answer costs real time: issuer requests give up after 150 ms instead of 10 s. */
const ISSUER_TIMEOUT_SECONDS = 0.15;
/** How long after the outage a short-lived token of that issuer may still be read expired. */
const OUTAGE_RECOVERY_MINUTES = 70;
/** How long after the fix the revoked credential may still be read expired. */
const FIX_RECOVERY_MINUTES = 10;
const CONTEXT: InvocationContext = { getRemainingTimeInMillis: () => 900_000, functionName: 'token-rotator' };

type Kind = 'sirv' | 'json' | 'header-jwt' | 'aspose' | 'oauth2' | 'upload' | 'signed-jwt';
type IssuerName = 'sirv' | 'header' | 'aspose' | 'local';

interface Spec {
  name: string;
  kind: Kind;
  /** Token lifetime in seconds (the fake's, capped with maxLifetimeSeconds, or the signed TTL). */
  lifetime: number;
  method?: 'GET' | 'POST';
}

/** What each fake states; shorter lifetimes are capped per credential. */
const FAKE_LIFETIME: Record<Exclude<IssuerName, 'local'>, number> = { sirv: 3600, header: 3600, aspose: 14400 };

const REVOKED = 'sirv-revoked';
const FLEET: Spec[] = [
  { name: 'sirv-1200', kind: 'sirv', lifetime: 1200 },
  { name: 'sirv-1800', kind: 'sirv', lifetime: 1800 },
  { name: 'sirv-3600', kind: 'sirv', lifetime: 3600 },
  { name: REVOKED, kind: 'sirv', lifetime: 1800 },
  { name: 'json-1200', kind: 'json', lifetime: 1200 },
  { name: 'json-1800', kind: 'json', lifetime: 1800 },
  { name: 'json-3600', kind: 'json', lifetime: 3600 },
  { name: 'header-get-3600', kind: 'header-jwt', lifetime: 3600, method: 'GET' },
  { name: 'header-post-1800', kind: 'header-jwt', lifetime: 1800, method: 'POST' },
  { name: 'header-get-1200', kind: 'header-jwt', lifetime: 1200, method: 'GET' },
  { name: 'aspose-14400', kind: 'aspose', lifetime: 14400 },
  { name: 'aspose-3600', kind: 'aspose', lifetime: 3600 },
  { name: 'aspose-1200', kind: 'aspose', lifetime: 1200 },
  { name: 'oauth2-14400', kind: 'oauth2', lifetime: 14400 },
  { name: 'oauth2-1800', kind: 'oauth2', lifetime: 1800 },
  // The shortest whole-minute lifetime the default policy accepts: 960 × 0.70 − 60 s of lookahead = 612 s.
  { name: 'upload-960', kind: 'upload', lifetime: 960 },
  { name: 'upload-1200', kind: 'upload', lifetime: 1200 },
  { name: 'upload-3600', kind: 'upload', lifetime: 3600 },
  { name: 'signed-jwt-1800', kind: 'signed-jwt', lifetime: 1800 },
  { name: 'signed-jwt-7200', kind: 'signed-jwt', lifetime: 7200 },
];

function issuerOf(kind: Kind): IssuerName {
  if (kind === 'sirv' || kind === 'json') return 'sirv';
  if (kind === 'header-jwt') return 'header';
  if (kind === 'aspose' || kind === 'oauth2') return 'aspose';
  return 'local';
}

/** Lifetimes that outlast the outage (see the file comment): 25 % of it above ~50 minutes. */
const survivesOutage = (spec: Spec) => 0.25 * spec.lifetime > 50 * 60;

/** When things happen, in minutes from the start of the simulation. */
interface Timeline {
  minutes: number;
  outage: { from: number; to: number };
  revokeAt: number;
  fixAt: number;
}

const DAY: Timeline = { minutes: 1440, outage: { from: 600, to: 630 }, revokeAt: 720, fixAt: 840 };
const THREE_HOURS: Timeline = { minutes: 180, outage: { from: 60, to: 90 }, revokeAt: 100, fixAt: 150 };

/** Where the secrets live: the in-memory double or moto. */
interface Backend {
  label: string;
  /** The rotator's client (throttled, retried, recorded). */
  rotatorClient: SecretsManagerClient;
  /** A client for setup, the operator and the workload: no faults. */
  cleanClient: SecretsManagerClient;
  seed(name: string, doc: ClientDocumentInput, record: TokenRecord): Promise<void>;
  tokenTags(name: string): Promise<Record<string, string>>;
  dispose(): Promise<void>;
}

interface Fakes {
  sirv: SirvFake;
  header: HeaderJwtFake;
  aspose: AsposeFake;
  clients: Record<Exclude<IssuerName, 'local'>, Record<string, string>>;
}

/** Everything a run observed. */
interface SoakResult {
  label: string;
  timeline: Timeline;
  problems: string[];
  writes: TokenWrite[];
  initial: Map<string, TokenRecord>;
  issued: Set<string>;
  summaries: (SweepSummaryView | undefined)[];
  expiredReads: Map<string, number[]>;
  reads: number;
  revoked: {
    requestsPerTick: number[];
    lastErrorTag: Map<number, string | undefined>;
    nextAttemptTag: Map<number, string | undefined>;
  };
  rejectedMetric: Map<number, number>;
  throttled: Record<string, number>;
  sdkAttempts: number;
  sweepErrors: number;
  publicKeyPem: string;
  realMs: number;
}

function clientIdOf(prefix: string, name: string): string {
  return `${prefix}${name}`;
}

function issuerConfig(
  spec: Spec,
  fakes: Fakes,
  clientId: string,
  clientSecret: string,
  privateKeyPem: string,
): ClientDocumentInput['issuer'] {
  const issuer = issuerOf(spec.kind);
  const common = {
    clientId,
    clientSecret,
    allowInsecureHttp: true,
    timeoutSeconds: ISSUER_TIMEOUT_SECONDS,
    ...(issuer !== 'local' && spec.lifetime < FAKE_LIFETIME[issuer] ? { maxLifetimeSeconds: spec.lifetime } : {}),
  };
  switch (spec.kind) {
    case 'sirv':
    case 'json':
      return { kind: spec.kind, url: fakes.sirv.tokenUrl, ...common };
    case 'header-jwt':
      return { kind: 'header-jwt', url: fakes.header.tokenUrl, method: spec.method ?? 'GET', ...common };
    case 'aspose':
    case 'oauth2':
      return { kind: spec.kind, tokenUrl: fakes.aspose.tokenUrl, ...common };
    case 'upload':
    case 'signed-jwt':
      return { kind: spec.kind, subject: spec.name, privateKeyPem, ttlSeconds: spec.lifetime };
  }
}

/** The simulation's clock. */
interface Simulation {
  startMs: number;
  clock: ReturnType<typeof frozenClock>;
}

/**
 * A frozen clock at a whole minute two days before the wall clock: moto stamps a client secret's
 * LastChangedDate with the wall clock, and a rejected credential is unblocked only by a client
 * secret changed after its failure was recorded.
 */
function simulation(): Simulation {
  const startMs = Math.floor((Date.now() - 2 * 86_400_000) / 60_000) * 60_000;
  return { startMs, clock: frozenClock(new Date(startMs)) };
}

/** Runs the scenario of the file comment over `timeline` against `backend`. */
async function runSoak(
  backend: Backend,
  prefix: string,
  timeline: Timeline,
  seed: number,
  { startMs, clock }: Simulation,
): Promise<SoakResult> {
  const startedAt = Date.now();
  const setTime = (ms: number) => clock.advance((ms - clock.now().getTime()) / 1000);
  const problems: string[] = [];
  const { fetch: issuerFetch, issued } = recordingFetch();

  const clients: Fakes['clients'] = { sirv: {}, header: {}, aspose: {} };
  const [sirv, header, aspose] = await Promise.all([
    startSirvFake({ now: clock.now, lifetimeSeconds: FAKE_LIFETIME.sirv, clients: clients.sirv }),
    startHeaderJwtFake({ now: clock.now, lifetimeSeconds: FAKE_LIFETIME.header, clients: clients.header }),
    startAsposeFake({ now: clock.now, lifetimeSeconds: FAKE_LIFETIME.aspose, clients: clients.aspose }),
  ]);
  const fakes: Fakes = { sirv, header, aspose, clients };
  const fakeOf: Record<Exclude<IssuerName, 'local'>, RunningFake> = { sirv, header, aspose };
  try {
    const { privateKeyPem, publicKeyPem } = await generateSigningKey();
    const documents = new Map<string, ClientDocumentInput>();
    const initial = new Map<string, TokenRecord>();
    const jitter = seededRandom(seed);

    // First tokens, really issued, at staggered times before the start so that due times spread.
    for (const [i, spec] of FLEET.entries()) {
      const issuer = issuerOf(spec.kind);
      const clientId = clientIdOf(prefix, spec.name);
      const secret = `soak-secret-${spec.name}-${seed}`;
      if (issuer !== 'local') clients[issuer][clientId] = secret;
      const doc: ClientDocumentInput = {
        version: 1,
        issuer: issuerConfig(spec, fakes, clientId, secret, privateKeyPem),
        policy: {},
      };
      documents.set(spec.name, doc);
      const offsetMinutes = (i * 7) % Math.floor((0.6 * spec.lifetime) / 60);
      setTime(startMs - offsetMinutes * 60_000);
      // Seeding is no part of the run: a loaded machine gets more than the run's short time limit.
      const seedIssuer = 'timeoutSeconds' in doc.issuer ? { ...doc.issuer, timeoutSeconds: 10 } : doc.issuer;
      const record = await issueTokenRecord(
        {
          credential: spec.name,
          issuer: parseIssuerConfig(seedIssuer),
          policy: resolvePolicy({}),
          previousGeneration: 0,
          random: jitter,
        },
        { credential: spec.name, fetch: issuerFetch, now: clock.now },
      );
      initial.set(spec.name, record);
      await backend.seed(spec.name, doc, record);
    }
    setTime(startMs);

    // Faults from here on, each fake with its own seeded generator.
    for (const [i, fake] of [sirv, header, aspose].entries())
      fake.setFaultRate(ISSUER_FAULTS, seededRandom(seed + i + 1));
    const asposeRandom = seededRandom(seed + 10);
    let tick = -1;
    const throttles = injectThrottling(backend.rotatorClient, { rate: THROTTLE_RATE, random: seededRandom(seed + 20) });
    const writes = recordTokenWrites(backend.rotatorClient, () => tick);
    const rejectedMetric = new Map<number, number>();
    const metrics = {
      addMetric: (name: string, _unit: unknown, value: number) => {
        if (name === 'CredentialsRejected') rejectedMetric.set(tick, value);
      },
      publishStoredMetrics: () => {},
      setDefaultDimensions: () => {},
    } as unknown as Metrics;
    const handler = createHandler({
      secretsManager: backend.rotatorClient,
      fetch: issuerFetch,
      now: clock.now,
      random: seededRandom(seed + 30),
      env: { TOKEN_ROTATOR_PREFIX: prefix, TOKEN_ROTATOR_CONCURRENCY: '1', TOKEN_ROTATOR_BATCH_SIZE: '1000' },
      logger: new Logger({ serviceName: 'token-rotator', logLevel: 'SILENT' }),
      metrics,
    });
    const reader = new TokenReader({ prefix, client: backend.cleanClient, now: clock.now });

    const latest = new Map(initial);
    const expiredReads = new Map<string, number[]>();
    const summaries: (SweepSummaryView | undefined)[] = [];
    const revokedId = clientIdOf(prefix, REVOKED);
    const revoked: SoakResult['revoked'] = { requestsPerTick: [], lastErrorTag: new Map(), nextAttemptTag: new Map() };
    let seenSirvRequests = sirv.requests.length;
    let reads = 0;
    let sweepErrors = 0;

    for (let minute = 0; minute < timeline.minutes; minute++) {
      tick = minute;
      setTime(startMs + minute * TICK_SECONDS * 1000);

      if (minute === timeline.outage.from) aspose.setFaultRate({ status503: 1 }, asposeRandom);
      if (minute === timeline.outage.to) aspose.setFaultRate(ISSUER_FAULTS, asposeRandom);
      if (minute === timeline.revokeAt) sirv.revokeClient(revokedId);
      if (minute === timeline.fixAt) {
        // The operator's `pulumi up` with a new client secret: the vendor accepts it, the
        // provider writes the new client document.
        const secret = `soak-secret-${REVOKED}-rotated-${seed}`;
        clients.sirv[revokedId] = secret;
        sirv.restoreClient(revokedId);
        const doc = documents.get(REVOKED) as ClientDocumentInput;
        await updateClientDocument({ client: backend.cleanClient, prefix }, REVOKED, {
          ...doc,
          issuer: { ...doc.issuer, clientSecret: secret } as IssuerConfigInput,
        });
      }

      const writesBefore = writes.length;
      let summary: SweepSummaryView | undefined;
      try {
        summary = (await handler({ action: 'sweep' }, CONTEXT)) as SweepSummaryView;
      } catch {
        // The listing itself was throttled past the SDK's retries: this invocation failed, the
        // next tick lists again.
        sweepErrors += 1;
      }
      summaries[minute] = summary;

      // Every token written in this tick: issued, next generation, not by a credential that failed at the issuer.
      const issuerFailures = new Set(
        (summary?.failures ?? []).filter((f) => f.code !== 'StoreError').map((f) => f.credential),
      );
      for (const write of writes.slice(writesBefore)) {
        const name = write.record.credential;
        const previous = latest.get(name);
        if (write.secretId !== `${prefix}${name}/token`) problems.push(`${name}: written to ${write.secretId}`);
        if (!previous || write.record.generation !== previous.generation + 1) {
          problems.push(`${name}@${minute}: generation ${write.record.generation} after ${previous?.generation}`);
        }
        if (issuerFailures.has(name)) problems.push(`${name}@${minute}: written in a tick where its refresh failed`);
        latest.set(name, write.record);
      }

      // The revoked credential: issuer requests, tags.
      const newRequests = sirv.requests.slice(seenSirvRequests);
      seenSirvRequests = sirv.requests.length;
      revoked.requestsPerTick[minute] = newRequests.filter(
        (r) => (r.body as { clientId?: unknown } | undefined)?.clientId === revokedId,
      ).length;
      if (minute >= timeline.revokeAt && minute <= timeline.fixAt + FIX_RECOVERY_MINUTES) {
        const tags = await backend.tokenTags(REVOKED);
        revoked.lastErrorTag.set(minute, tags[TAG_KEYS.lastError]);
        revoked.nextAttemptTag.set(minute, tags[TAG_KEYS.nextAttempt]);
      }

      // The workload reads every credential.
      const nowMs = clock.now().getTime();
      for (const spec of FLEET) {
        reads += 1;
        const stored = latest.get(spec.name) as TokenRecord;
        const storedValid = nowMs < Date.parse(stored.expiresAt);
        try {
          const record = await reader.getToken(spec.name);
          if (Date.parse(record.expiresAt) <= nowMs) problems.push(`${spec.name}@${minute}: read an expired token`);
          if (!storedValid) problems.push(`${spec.name}@${minute}: read a token though the stored one is expired`);
        } catch (e) {
          if (!(e instanceof TokenExpiredError)) {
            problems.push(`${spec.name}@${minute}: read failed with ${(e as Error).name}`);
          } else if (storedValid) {
            problems.push(`${spec.name}@${minute}: read expired while the stored token is valid`);
          } else {
            const list = expiredReads.get(spec.name) ?? [];
            list.push(minute);
            expiredReads.set(spec.name, list);
          }
        }
      }
    }

    return {
      label: backend.label,
      timeline,
      problems,
      writes,
      initial,
      issued,
      summaries,
      expiredReads,
      reads,
      revoked,
      rejectedMetric,
      throttled: throttles.throttled,
      sdkAttempts: throttles.passed + throttles.total,
      sweepErrors,
      publicKeyPem,
      realMs: Date.now() - startedAt,
    };
  } finally {
    for (const fake of Object.values(fakeOf)) fake.clearFaults();
    await Promise.all([sirv.close(), header.close(), aspose.close()]);
  }
}

/** The counts the soak prints. */
function countsOf(result: SoakResult) {
  const failuresByCode: Record<string, number> = {};
  let refreshed = 0;
  for (const s of result.summaries) {
    refreshed += s?.refreshed ?? 0;
    for (const f of s?.failures ?? []) failuresByCode[f.code] = (failuresByCode[f.code] ?? 0) + 1;
  }
  return {
    backend: result.label,
    simulatedMinutes: result.timeline.minutes,
    credentials: FLEET.length,
    refreshes: refreshed,
    tokenWrites: result.writes.length,
    failuresByCode,
    failedSweeps: result.sweepErrors,
    throttledAttempts: result.throttled,
    secretsManagerAttempts: result.sdkAttempts,
    reads: result.reads,
    expiredReads: Object.fromEntries(result.expiredReads),
    realSeconds: Math.round(result.realMs / 100) / 10,
  };
}

/** The assertions of the file comment, for either backend. */
async function assertSoak(result: SoakResult): Promise<void> {
  const { timeline } = result;
  const counts = countsOf(result);
  console.log(`soak (${result.label}):`, JSON.stringify({ ...counts, expiredReads: undefined }));
  console.log(
    `soak (${result.label}) expired reads, minutes by credential:`,
    JSON.stringify(
      Object.fromEntries([...result.expiredReads].map(([k, v]) => [k, `${v[0]}-${v.at(-1)} (${v.length})`])),
    ),
  );

  // Reads and writes as checked tick by tick.
  expect(result.problems).toEqual([]);

  // Expired reads only where the scenario excuses them.
  for (const [name, minutes] of result.expiredReads) {
    const spec = FLEET.find((s) => s.name === name) as Spec;
    const inOutage = (m: number) => m >= timeline.outage.from && m <= timeline.outage.to + OUTAGE_RECOVERY_MINUTES;
    const inRevocation = (m: number) => m >= timeline.revokeAt && m <= timeline.fixAt + FIX_RECOVERY_MINUTES;
    const excused =
      name === REVOKED
        ? minutes.every(inRevocation)
        : issuerOf(spec.kind) === 'aspose' && !survivesOutage(spec) && minutes.every(inOutage);
    expect(excused, `${name} read expired at minutes ${minutes.join(',')}`).toBe(true);
  }
  // The 20-minute Aspose token cannot outlive a 30-minute outage: the expectation above bites.
  expect(result.expiredReads.get('aspose-1200')?.length ?? 0).toBeGreaterThan(0);
  for (const spec of FLEET.filter((s) => issuerOf(s.kind) === 'aspose' && survivesOutage(s))) {
    expect(result.expiredReads.get(spec.name), spec.name).toBeUndefined();
  }

  // Every written token was issued: seen on the wire, or a signed JWT of the credential's key.
  const publicKey = await importSPKI(result.publicKeyPem, 'RS256');
  for (const write of result.writes) {
    const spec = FLEET.find((s) => s.name === write.record.credential) as Spec;
    if (issuerOf(spec.kind) === 'local') {
      const { payload } = await jwtVerify(write.record.accessToken, publicKey, {
        currentDate: new Date(write.record.issuedAt),
      });
      expect(payload.sub).toBe(spec.name);
    } else {
      expect(result.issued.has(write.record.accessToken), `${spec.name} gen ${write.record.generation}`).toBe(true);
    }
  }

  // The write budget.
  const maxWrites = Math.ceil((WRITES_PER_DAY * timeline.minutes) / 1440);
  for (const spec of FLEET) {
    const times = result.writes
      .filter((w) => w.record.credential === spec.name)
      .map((w) => Date.parse(w.record.issuedAt));
    expect(times.length, `${spec.name} writes`).toBeLessThanOrEqual(maxWrites);
    const initialIssued = Date.parse(result.initial.get(spec.name)?.issuedAt ?? '');
    const gaps = [initialIssued, ...times].slice(1).map((t, i) => (t - ([initialIssued, ...times][i] ?? 0)) / 1000);
    expect(Math.min(...gaps, Infinity), `${spec.name} shortest gap between writes`).toBeGreaterThanOrEqual(
      MIN_WRITE_INTERVAL_SECONDS,
    );
    // Healthy credentials kept being refreshed all along.
    if (spec.name !== REVOKED) expect(times.length, `${spec.name} writes`).toBeGreaterThan(0);
  }

  // The revocation.
  const failuresOf = (minute: number) =>
    (result.summaries[minute]?.failures ?? []).filter((f) => f.credential === REVOKED).map((f) => f.code);
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  const detectedAt = range(timeline.revokeAt, timeline.fixAt).find((m) => failuresOf(m).includes('InvalidCredentials'));
  expect(detectedAt, 'the revocation was detected before the fix').toBeDefined();
  const detected = detectedAt as number;
  // Before it: only transient faults, one issuer request per failed attempt.
  const before = range(timeline.revokeAt, detected).flatMap(failuresOf);
  expect(before.every((code) => code === 'IssuerUnavailable' || code === 'MalformedResponse')).toBe(true);
  const requestsUpTo = range(timeline.revokeAt, detected + 1).reduce(
    (sum, m) => sum + (result.revoked.requestsPerTick[m] ?? 0),
    0,
  );
  expect(requestsUpTo).toBe(before.length + 1);
  // In the tick of the rejection: tagged, counted, no next attempt planned.
  expect(result.revoked.lastErrorTag.get(detected)).toBe('InvalidCredentials');
  expect(result.revoked.nextAttemptTag.get(detected)).toBeUndefined();
  expect(result.summaries[detected]?.rejected).toBe(1);
  expect(result.rejectedMetric.get(detected)).toBe(1);
  // Not retried until the client secret changed, and no write meanwhile.
  const idle = range(detected + 1, timeline.fixAt);
  expect(idle.map((m) => result.revoked.requestsPerTick[m] ?? 0).every((n) => n === 0)).toBe(true);
  expect(idle.map((m) => result.revoked.lastErrorTag.get(m)).every((code) => code === 'InvalidCredentials')).toBe(true);
  const revokedWrites = result.writes.filter((w) => w.record.credential === REVOKED);
  expect(revokedWrites.filter((w) => w.tick >= timeline.revokeAt && w.tick < timeline.fixAt)).toEqual([]);
  // The fix is picked up on its own tick and the credential recovers.
  expect(result.revoked.requestsPerTick[timeline.fixAt] ?? 0).toBeGreaterThan(0);
  const recoveredAt = revokedWrites.find((w) => w.tick >= timeline.fixAt)?.tick;
  expect(recoveredAt).toBeDefined();
  expect(recoveredAt as number).toBeLessThanOrEqual(timeline.fixAt + FIX_RECOVERY_MINUTES);

  // Throttling happened and was mostly absorbed by the SDK's retries.
  expect(Object.values(result.throttled).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
}

describe('a simulated day of rotation with faults (in-memory Secrets Manager)', () => {
  const PREFIX = 'soak-day/';
  let memory: ReturnType<typeof memorySecrets>;
  let result: SoakResult;

  beforeAll(async () => {
    const sim = simulation();
    // The double stamps LastChangedDate with the simulation's clock, as AWS does with its own.
    memory = memorySecrets({ now: sim.clock.now });
    const rotatorClient = memoryBackedClient(memory.client, SIMULATED_RETRY);
    const backend: Backend = {
      label: 'in-memory, 24 h',
      rotatorClient,
      cleanClient: memory.client,
      seed: async (name, clientDocument, token) =>
        memory.addCredential({ name, prefix: PREFIX, clientDocument, token }),
      tokenTags: async (name) => memory.tokenTags(name, PREFIX),
      dispose: async () => memory.restore(),
    };
    result = await runSoak(backend, PREFIX, DAY, 6, sim);
  }, 240_000);

  afterAll(() => memory?.restore());

  it('serves unexpired tokens, writes only issued tokens within the budget, and handles the revocation', async () => {
    await assertSoak(result);
  });
});

describe('three simulated hours of the same scenario against moto', () => {
  const PREFIX = `soak-moto-${Date.now().toString(36)}/`;
  let clean: SecretsManagerClient;
  let result: SoakResult;

  beforeAll(async () => {
    clean = secretsManagerClient();
    const rotatorClient = secretsManagerClient(SIMULATED_RETRY);
    const backend: Backend = {
      label: 'moto, 3 h',
      rotatorClient,
      cleanClient: clean,
      seed: async (name, clientDocument, token) => {
        await createCredentialSecrets({ client: clean, prefix: PREFIX }, { name, clientDocument, token });
      },
      tokenTags: async (name) => (await describeCredential({ client: clean, prefix: PREFIX }, name)).token.tags,
      dispose: async () => {},
    };
    result = await runSoak(backend, PREFIX, THREE_HOURS, 11, simulation());
  }, 240_000);

  afterAll(async () => {
    for (const spec of FLEET) {
      await deleteCredentialSecrets({ client: clean, prefix: PREFIX }, spec.name, { forceDeleteWithoutRecovery: true });
    }
  }, 60_000);

  it('serves unexpired tokens, writes only issued tokens within the budget, and handles the revocation', async () => {
    await assertSoak(result);
  });
});
