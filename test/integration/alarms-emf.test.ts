/**
 * The alarms TokenRotator declares agree with the metrics its Lambda emits: the real bundle (from
 * the zip the function is created with) runs in a fresh node process with the declared function
 * environment and the schedule's exact input, against moto and the Sirv fake; the EMF lines it
 * prints are parsed as CloudWatch would, and each declared alarm is evaluated on them.
 *
 * A rotator with an event bus puts its refresh events there: on a bus that exists in moto they
 * are delivered, on one that does not PutEvents refuses them, and RefreshEventsFailed (declared
 * only for such a rotator) must fire then, and only then.
 *
 * The AWS/Lambda metrics (Errors, Invocations) are CloudWatch's own, not the bundle's: they are
 * modelled from the invocations made here (one Invocations datapoint per call, Errors 1 for a call
 * that threw and 0 otherwise, with the FunctionName dimension), as Lambda documents them.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { CreateEventBusCommand, DeleteEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialSecrets, deleteCredentialSecrets } from '../../core/store';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { freeLoopbackPort } from '../../local-stack/moto';
import { secretsManagerClient } from '../helpers/aws';
import { metricAlarmProblems } from '../helpers/aws-constraints';
import { REGION } from '../helpers/pulumi-mocks';
import { tokenRecord } from '../helpers/token-record';
import { type AlarmDefinition, type EmfDatapoint, parseEmf, watchedBy, wouldFire } from './alarm-evaluation';
import { invokeBundle, unpackBundle } from './bundle-process';
import { alarmRequest, type Declared, declareRotator, rotatorFunction } from './declared-resources';

const RUN = randomUUID().slice(0, 6);
const CLIENT_ID = 'emf-client';
const CLIENT_SECRET = `emf-secret-${randomUUID()}`;

type Kind = 'fresh' | 'failing' | 'rejected' | 'expiring';
interface Case {
  credentials: Kind[];
  /** Invoke with something the handler refuses (a crash), instead of the schedule's input. */
  badEvent?: boolean;
  /** No invocation at all in the period. */
  notInvoked?: boolean;
  /** The rotator puts refresh events on a bus that exists (`delivered`) or on one that does not (`refused`). */
  events?: 'delivered' | 'refused';
  /** Keys of the alarms that must be in ALARM afterwards; every other one must not. */
  fires: string[];
}

const CASES: Record<string, Case> = {
  successes: { credentials: ['fresh', 'fresh'], fires: [] },
  failure: { credentials: ['fresh', 'fresh', 'failing'], fires: ['RefreshFailed'] },
  // A rejected refresh is a failed refresh too (summary.failed counts it): both alarms fire.
  rejection: { credentials: ['fresh', 'fresh', 'rejected'], fires: ['RefreshFailed', 'CredentialsRejected'] },
  'successes, a failure and a rejection': {
    credentials: ['fresh', 'fresh', 'failing', 'rejected'],
    fires: ['RefreshFailed', 'CredentialsRejected'],
  },
  'a failure on a token about to expire': {
    credentials: ['fresh', 'expiring'],
    fires: ['RefreshFailed', 'SecondsToExpiry'],
  },
  'a crash': { credentials: ['fresh'], badEvent: true, fires: ['Errors'] },
  'no invocation': { credentials: [], notInvoked: true, fires: ['Invocations'] },
  'refresh events delivered': { credentials: ['fresh', 'fresh'], events: 'delivered', fires: [] },
  'refresh events the bus refuses': {
    credentials: ['fresh', 'fresh'],
    events: 'refused',
    fires: ['RefreshEventsFailed'],
  },
};

const BUS = `emf-bus-${RUN}`;
const MISSING_BUS = `emf-missing-bus-${RUN}`;

let sirv: SirvFake;
let eventBridge: EventBridgeClient;
let workDir: string;
let closedPortUrl: string;
const cleanup: { prefix: string; name: string }[] = [];
const runs: Record<string, { declared: Declared; points: EmfDatapoint[]; stdout: string; result: unknown }> = {};

async function seed(prefix: string, kind: Kind, index: number): Promise<string> {
  const name = `${kind}-${index}`;
  const now = Date.now();
  const url = kind === 'failing' || kind === 'expiring' ? closedPortUrl : sirv.tokenUrl;
  const expiresIn = kind === 'expiring' ? 60_000 : 3_600_000;
  await createCredentialSecrets(
    { client: secretsManagerClient({ region: REGION }), prefix },
    {
      name,
      clientDocument: {
        version: 1,
        issuer: {
          kind: 'sirv',
          url,
          allowInsecureHttp: true,
          clientId: CLIENT_ID,
          clientSecret: kind === 'rejected' ? 'not-the-secret' : CLIENT_SECRET,
        },
        policy: {},
      },
      // Due now: refreshAfter has passed.
      token: tokenRecord(
        name,
        { at: now, issued: -600, refresh: -1, expires: expiresIn / 1000 },
        { accessToken: `old-${name}` },
      ),
    },
  );
  cleanup.push({ prefix, name });
  return name;
}

beforeAll(async () => {
  // The zip the function is created with, unpacked as Lambda unpacks it into /var/task.
  ({ dir: workDir } = await unpackBundle());
  sirv = await startSirvFake({ clients: { [CLIENT_ID]: CLIENT_SECRET } });
  // Nothing listens there: a refresh against it fails like an issuer that is down.
  closedPortUrl = `http://127.0.0.1:${await freeLoopbackPort()}/v2/token`;
  eventBridge = new EventBridgeClient({ region: REGION });
  await eventBridge.send(new CreateEventBusCommand({ Name: BUS }));

  let n = 0;
  for (const [label, c] of Object.entries(CASES)) {
    n += 1;
    const prefix = `it-emf-${RUN}-${n}/`;
    const eventBusName = c.events === 'delivered' ? BUS : c.events === 'refused' ? MISSING_BUS : undefined;
    const declared = await declareRotator(`emf${RUN}c${n}`, { prefix, ...(eventBusName ? { eventBusName } : {}) });
    for (const [i, kind] of c.credentials.entries()) await seed(prefix, kind, i);
    const schedule = declared.one('aws:scheduler/schedule:Schedule').inputs;
    const fnName = rotatorFunction(declared).inputs.name as string;
    const lambdaPoint = (metricName: string, value: number): EmfDatapoint => ({
      namespace: 'AWS/Lambda',
      metricName,
      unit: 'Count',
      dimensions: { FunctionName: fnName },
      value,
    });
    if (c.notInvoked) {
      runs[label] = { declared, points: [], stdout: '', result: undefined };
      continue;
    }
    const outcome = await invokeBundle(
      workDir,
      declared,
      c.badEvent ? { action: 'sweeep' } : JSON.parse(schedule.target.input),
    );
    const { stdout } = outcome;
    runs[label] = {
      declared,
      stdout,
      result: outcome,
      points: [...parseEmf(stdout), lambdaPoint('Invocations', 1), lambdaPoint('Errors', outcome.ok ? 0 : 1)],
    };
  }
}, 240_000);

afterAll(async () => {
  await sirv?.close();
  await eventBridge?.send(new DeleteEventBusCommand({ Name: BUS })).catch(() => undefined);
  if (workDir) await rm(workDir, { recursive: true, force: true });
  for (const { prefix, name } of cleanup) {
    await deleteCredentialSecrets({ client: secretsManagerClient({ region: REGION }), prefix }, name, {
      forceDeleteWithoutRecovery: true,
    }).catch(() => undefined);
  }
});

const alarmsOf = (declared: Declared) =>
  declared.all('aws:cloudwatch/metricAlarm:MetricAlarm').map((r) => alarmRequest(r) as AlarmDefinition);

describe('the alarms and the metrics the bundle emits', () => {
  it('ran each sweep as intended (the cases are what they claim)', () => {
    const mixed = runs['successes, a failure and a rejection']?.result as {
      ok: boolean;
      result: Record<string, unknown>;
    };
    expect(mixed.ok).toBe(true);
    expect(mixed.result).toMatchObject({ listed: 4, due: 4, refreshed: 2, failed: 2, rejected: 1 });
    expect(runs['a crash']?.result).toMatchObject({
      ok: false,
      message: expect.stringContaining('unrecognised event'),
    });
    // With a bus: two refreshes, two events; on the missing bus both are lost and counted, the
    // refreshes stand.
    const lost = (label: string) => {
      const run = runs[label];
      expect((run?.result as { result?: unknown } | undefined)?.result, label).toMatchObject({
        refreshed: 2,
        failed: 0,
      });
      return run?.points.filter((p) => p.metricName === 'RefreshEventsFailed').map((p) => p.value);
    };
    expect(lost('refresh events delivered')).toEqual([0]);
    expect(lost('refresh events the bus refuses')).toEqual([2]);
    // No bus, no such metric.
    expect(lost('successes')).toEqual([]);
  });

  it.each(['successes, a failure and a rejection', 'refresh events the bus refuses'])(
    'agree on namespace, metric name, dimensions, statistic and unit (%s)',
    (label) => {
      const { declared, points } = runs[label] ?? {};
      if (!declared || !points) throw new Error(`no run for ${label}`);
      const emitted = points.filter((p) => p.namespace !== 'AWS/Lambda');
      expect(emitted.length).toBeGreaterThan(0);
      for (const alarm of alarmsOf(declared)) {
        const watched = watchedBy(alarm, points);
        expect(
          watched.length,
          `${alarm.MetricName}: no datapoint with namespace ${alarm.Namespace} and dimensions ${JSON.stringify(alarm.Dimensions)}`,
        ).toBeGreaterThan(0);
        // No unit on the alarm (it sees every unit) or the unit the Lambda publishes.
        for (const p of watched) if (alarm.Unit !== undefined) expect(p.unit).toBe(alarm.Unit);
        // Counts are summed; the expiry is a duration in seconds whose minimum matters.
        const units = new Set(watched.map((p) => p.unit));
        expect([...units], alarm.MetricName).toEqual([alarm.Statistic === 'Minimum' ? 'Seconds' : 'Count']);
      }
      // Every metric the bundle emits is watched, except the success count (a good-news metric).
      const watchedNames = new Set(alarmsOf(declared).map((a) => a.MetricName));
      const unwatched = [...new Set(emitted.map((p) => p.metricName))].filter((m) => !watchedNames.has(m));
      expect(unwatched).toEqual(['RefreshSucceeded']);
    },
  );

  it('declares RefreshEventsFailed only for a rotator with an event bus, within what CloudWatch accepts', () => {
    for (const [label, c] of Object.entries(CASES)) {
      const run = runs[label];
      if (!run) throw new Error(`no run for ${label}`);
      const alarms = run.declared.all('aws:cloudwatch/metricAlarm:MetricAlarm');
      const events = alarms.filter((a) => a.inputs.metricName === 'RefreshEventsFailed');
      expect(events, label).toHaveLength(c.events ? 1 : 0);
      for (const a of events) expect(metricAlarmProblems(alarmRequest(a)), label).toEqual([]);
    }
  });

  it.each(Object.entries(CASES))('%s: exactly the alarms for that case fire', (label, c) => {
    const run = runs[label];
    if (!run) throw new Error(`no run for ${label}`);
    const firing = alarmsOf(run.declared)
      .filter((a) => wouldFire(a, run.points))
      .map((a) => a.MetricName)
      .sort();
    expect(firing, run.stdout.slice(-2000)).toEqual([...c.fires].sort());
  });

  it("watch each rotator's own metrics: another rotator's failures in the account never reach them", () => {
    // Each case is a rotator of its own prefix in one account and region, as two teams' would be.
    const failing = runs.failure;
    const healthy = runs.successes;
    if (!failing || !healthy) throw new Error('no run for failure or successes');
    const refreshFailed = alarmsOf(healthy.declared).find((a) => a.MetricName === 'RefreshFailed');
    if (!refreshFailed) throw new Error('no RefreshFailed alarm');
    expect(wouldFire(refreshFailed, failing.points)).toBe(false);
    expect(refreshFailed.Dimensions).toContainEqual({ Name: 'prefix', Value: `it-emf-${RUN}-1/` });
    for (const [label, run] of Object.entries(runs)) {
      for (const [otherLabel, other] of Object.entries(runs)) {
        if (other === run) continue;
        const theirs = other.points.filter((p) => p.namespace !== 'AWS/Lambda');
        for (const alarm of alarmsOf(run.declared).filter((a) => a.Namespace !== 'AWS/Lambda')) {
          expect(watchedBy(alarm, theirs), `${label}'s ${alarm.MetricName} watches ${otherLabel}'s metrics`).toEqual(
            [],
          );
        }
      }
    }
  });

  it('prints no client secret or token with its metrics and logs', () => {
    for (const run of Object.values(runs)) expect(run.stdout).not.toContain(CLIENT_SECRET);
  });
});
