import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../core/errors';
import { ROTATOR_ENV, rotatorConfigFromEnv, rotatorEnvironment } from '../../../core/rotator-environment';
import { alarmSpecs, metricPeriodSeconds } from '../../../infra/alarms';
import { expressionOfInterval } from '../../../infra/schedule';
import {
  DEFAULT_LAMBDA_RUNTIME,
  defaultBundleDir,
  defaultFunctionName,
  LAMBDA_NODE_RUNTIMES,
  resolveSettings,
  type TokenRotatorArgs,
} from '../../../infra/settings';
import { LAMBDA_ESM_OPTIONS } from '../../../scripts/lambda-esbuild-options.mjs';
import { metricAlarmProblems } from '../../helpers/aws-constraints';
import { caught } from '../../helpers/caught';

const context = { project: 'platform', stack: 'prod' };
let bundleDir: string;

beforeAll(() => {
  bundleDir = mkdtempSync(join(tmpdir(), 'token-rotator-bundle-'));
  writeFileSync(join(bundleDir, 'index.mjs'), 'export const handler = async () => ({});\n');
});

const settle = (args: TokenRotatorArgs) => resolveSettings('rotator', { bundleDir, ...args }, context);

describe('resolveSettings', () => {
  it('fills in the documented defaults', () => {
    expect(settle({})).toEqual({
      prefix: 'token-rotator/',
      scheduleExpression: 'rate(1 minute)',
      scheduleIntervalSeconds: 60,
      concurrency: 8,
      writesPerSecond: 40,
      runtime: 'nodejs24.x',
      logRetentionInDays: 30,
      secondsToExpiryThreshold: 120,
      bundleDir,
      functionName: defaultFunctionName('rotator', context),
      logLevel: 'INFO',
    });
  });

  it('runs the Lambda on nodejs24.x unless told nodejs22.x', () => {
    expect(DEFAULT_LAMBDA_RUNTIME).toBe('nodejs24.x');
    expect(settle({ runtime: 'nodejs22.x' })).toMatchObject({ runtime: 'nodejs22.x' });
  });

  it('builds the bundle for the oldest runtime it may run on', () => {
    const oldest = LAMBDA_NODE_RUNTIMES.at(-1) ?? '';
    expect(LAMBDA_ESM_OPTIONS.target).toBe(`node${/^nodejs(\d+)\.x$/.exec(oldest)?.[1]}`);
  });

  it('derives the schedule expression and the alarm threshold from the interval', () => {
    expect(settle({ scheduleIntervalSeconds: 300 })).toMatchObject({
      scheduleExpression: 'rate(5 minutes)',
      scheduleIntervalSeconds: 300,
      secondsToExpiryThreshold: 600,
    });
    expect(settle({ scheduleIntervalSeconds: 86_400 })).toMatchObject({ scheduleExpression: 'rate(1440 minutes)' });
  });

  it('sets the environment the Lambda reads back as the same settings', () => {
    const settings = settle({
      prefix: 'team-a/prod/',
      scheduleIntervalSeconds: 600,
      concurrency: 3,
      writesPerSecond: 12,
    });
    const env = rotatorEnvironment({ ...settings, eventBusName: 'platform-events' });
    expect(rotatorConfigFromEnv(env)).toMatchObject({
      prefix: 'team-a/prod/',
      scheduleIntervalSeconds: 600,
      concurrency: 3,
      writesPerSecond: 12,
      eventBusName: 'platform-events',
    });
    expect(Object.keys(env).every((name) => (Object.values(ROTATOR_ENV) as string[]).includes(name))).toBe(true);
  });

  it('accepts exactly the prefixes and intervals the Lambda accepts', () => {
    const accepted = (read: () => unknown) => {
      try {
        read();
        return true;
      } catch {
        return false;
      }
    };
    const prefixLike = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_/ *-]{0,12}$/),
      fc.integer({ min: 250, max: 260 }).map((n) => `${'p'.repeat(n)}/`),
    );
    fc.assert(
      fc.property(
        prefixLike,
        (prefix) =>
          accepted(() => settle({ prefix })) === accepted(() => rotatorConfigFromEnv({ [ROTATOR_ENV.prefix]: prefix })),
      ),
    );
    // The Lambda takes any whole number of seconds in range; the schedule whole minutes of them.
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 1500 }).map((n) => n * 60),
        (seconds) =>
          accepted(() => settle({ scheduleIntervalSeconds: seconds })) ===
          accepted(() => rotatorConfigFromEnv({ [ROTATOR_ENV.scheduleIntervalSeconds]: String(seconds) })),
      ),
    );
  });

  it('accepts nested prefixes and retention 0 (never expire)', () => {
    expect(settle({ prefix: 'teams/platform/', logRetentionInDays: 0 })).toMatchObject({
      prefix: 'teams/platform/',
      logRetentionInDays: 0,
    });
  });

  const invalid: [string, TokenRotatorArgs, RegExp][] = [
    ['prefix', { prefix: 'token-rotator' }, /ending with "\/"/],
    ['prefix', { prefix: '' }, /path segments.*one or more/],
    ['prefix', { prefix: '/token-rotator/' }, /path segments/],
    ['prefix', { prefix: 'token rotator/' }, /path segments/],
    ['prefix', { prefix: '*/' }, /path segments/],
    ['prefix', { prefix: `${'a'.repeat(256)}/` }, /at most 256/],
    ['concurrency', { concurrency: 0 }, /from 1 to 64; got 0/],
    ['concurrency', { concurrency: 2.5 }, /integer/],
    ['writesPerSecond', { writesPerSecond: 0 }, /above 0 and at most 50.*got 0/],
    ['writesPerSecond', { writesPerSecond: 51 }, /at most 50/],
    ['writesPerSecond', { writesPerSecond: Number.NaN }, /got NaN/],
    ['logRetentionInDays', { logRetentionInDays: -1 }, /expected one of 0, 1, 3/],
    ['logRetentionInDays', { logRetentionInDays: 2 }, /got 2/],
    ['scheduleIntervalSeconds', { scheduleIntervalSeconds: 0 }, /whole number of minutes from 60 to 86400/],
    ['scheduleIntervalSeconds', { scheduleIntervalSeconds: 86_460 }, /whole number of minutes from 60 to 86400/],
    ['scheduleIntervalSeconds', { scheduleIntervalSeconds: 30 }, /whole number of minutes/],
    ['scheduleIntervalSeconds', { scheduleIntervalSeconds: 90 }, /whole number of minutes/],
    ['secondsToExpiryThreshold', { secondsToExpiryThreshold: 0 }, /positive integer/],
    ['logLevel', { logLevel: 'VERBOSE' as never }, /expected one of DEBUG, INFO/],
    ['runtime', { runtime: 'nodejs20.x' as never }, /expected one of nodejs24\.x, nodejs22\.x; got "nodejs20\.x"/],
    ['functionName', { functionName: 'has space' }, /letters, digits/],
    ['functionName', { functionName: 'x'.repeat(65) }, /1 to 64/],
    ['alarmTopicArn', { alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:t', createAlarmTopic: true }, /not both/],
    ['alarmTopicArn', { alarmTopicArn: 'my-topic' }, /SNS topic ARN/],
    ['kmsKeyArn', { kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/secrets' }, /not an alias/],
    [
      'clientSecretSources[0]',
      { clientSecretSources: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:platform/sirv'] },
      /complete ARN.*got "arn:aws:secretsmanager:eu-west-1:123456789012:secret:platform\/sirv"/,
    ],
    ['clientSecretSources[0]', { clientSecretSources: ['platform/sirv'] }, /Secrets Manager secret's complete ARN/],
    [
      'clientSecretSourceKeyArns[0]',
      { clientSecretSourceKeyArns: ['arn:aws:kms:eu-west-1:123456789012:alias/sources'] },
      /not an alias/,
    ],
    ['bundleDir', { bundleDir: '/nonexistent/lambda-bundle' }, /build:lambda/],
    // A stray space from stack config, or a character no bus name has: the Lambda would refuse its
    // environment on every invocation.
    ['eventBusName', { eventBusName: 'platform-events ' }, /event bus name or ARN.*got "platform-events "/],
    ['eventBusName', { eventBusName: 'platform events' }, /event bus name or ARN/],
    ['eventBusName', { eventBusName: 'events#1' }, /event bus name or ARN/],
    ['eventBusName', { eventBusName: 'b'.repeat(1601) }, /at most 1600 characters/],
  ];

  it.each(invalid)('rejects a bad %s with an error naming the field (%j)', (field, args, message) => {
    const error = caught(() => settle(args), InvalidConfigurationError);
    expect(error.code).toBe('InvalidConfiguration');
    expect(error.field).toBe(field);
    expect(error.message).toContain(`${field}: `);
    expect(error.message).toMatch(message);
  });

  it('takes a bundle directory whose entry the runtime finds for index.handler, and only such a one', () => {
    // Arrange: our build (index.mjs and a chunk), a CommonJS bundle of one's own, and chunks alone.
    const esm = mkdtempSync(join(tmpdir(), 'token-rotator-esm-'));
    writeFileSync(join(esm, 'index.mjs'), "export { handler } from './chunk-A.mjs';\n");
    writeFileSync(join(esm, 'chunk-A.mjs'), 'export const handler = async () => ({});\n');
    const cjs = mkdtempSync(join(tmpdir(), 'token-rotator-cjs-'));
    writeFileSync(join(cjs, 'index.js'), 'exports.handler = async () => ({});\n');
    const chunksOnly = mkdtempSync(join(tmpdir(), 'token-rotator-chunks-'));
    writeFileSync(join(chunksOnly, 'chunk-A.mjs'), 'export const handler = async () => ({});\n');
    // Act, Assess
    expect(settle({ bundleDir: esm }).bundleDir).toBe(esm);
    expect(settle({ bundleDir: cjs }).bundleDir).toBe(cjs);
    expect(() => settle({ bundleDir: chunksOnly })).toThrow(/bundleDir: no index\.mjs \(or index\.js\)/);
  });

  it('accepts exactly the eventBusName values the Lambda accepts in TOKEN_ROTATOR_EVENT_BUS', () => {
    const lambdaAccepts = (bus: string) => {
      try {
        rotatorConfigFromEnv({ TOKEN_ROTATOR_EVENT_BUS: bus });
        return true;
      } catch {
        return false;
      }
    };
    const settingsAccept = (bus: string) => {
      try {
        settle({ eventBusName: bus });
        return true;
      } catch {
        return false;
      }
    };
    const busLike = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9._\-/:# @]{0,40}$/),
      fc.string({ maxLength: 40 }),
      fc.integer({ min: 1590, max: 1610 }).map((n) => 'b'.repeat(n)),
    );
    fc.assert(fc.property(busLike, (bus) => settingsAccept(bus) === lambdaAccepts(bus)));
    expect(settingsAccept('arn:aws:events:eu-west-1:123456789012:event-bus/platform')).toBe(true);
  });

  it('reports every bad field at once, the first one in `field`', () => {
    expect(() => settle({ prefix: 'x', concurrency: 0, logRetentionInDays: 4 })).toThrow(
      /prefix: .*\n.*concurrency: .*\n.*logRetentionInDays: /,
    );
  });
});

describe('expressionOfInterval', () => {
  it('writes whole minutes as a rate with the right grammatical number', () => {
    expect(expressionOfInterval(60)).toBe('rate(1 minute)');
    expect(expressionOfInterval(120)).toBe('rate(2 minutes)');
  });
});

describe('defaultFunctionName', () => {
  it('is the name plus a stable hash of project, stack and name', () => {
    const a = defaultFunctionName('rotator', context);
    expect(a).toMatch(/^rotator-[0-9a-f]{7}$/);
    expect(defaultFunctionName('rotator', context)).toBe(a);
    expect(defaultFunctionName('rotator', { ...context, stack: 'dev' })).not.toBe(a);
  });

  it('sanitises and shortens names Lambda would refuse', () => {
    const n = defaultFunctionName(`my.rotator/${'x'.repeat(80)}`, context);
    expect(n).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(n.startsWith('my-rotator-')).toBe(true);
  });
});

describe('defaultBundleDir', () => {
  it("resolves to the repository's dist/lambda-bundle from the sources", () => {
    expect(defaultBundleDir(resolve(__dirname, '../../../infra'))).toBe(
      resolve(__dirname, '../../../dist/lambda-bundle'),
    );
  });

  it('resolves inside the installed package from its compiled dist/infra', () => {
    const root = mkdtempSync(join(tmpdir(), 'token-rotator-pkg-'));
    const pkg = join(root, 'node_modules', 'token-rotator');
    mkdirSync(join(pkg, 'dist', 'infra'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"token-rotator"}');
    expect(defaultBundleDir(join(pkg, 'dist', 'infra'))).toBe(join(pkg, 'dist', 'lambda-bundle'));
  });
});

describe('alarmSpecs', () => {
  it('aligns the metric period with the schedule, in whole minutes, at most one day', () => {
    expect(metricPeriodSeconds(60)).toBe(60);
    expect(metricPeriodSeconds(90)).toBe(120);
    expect(metricPeriodSeconds(86_400)).toBe(86_400);
  });

  it('keeps every alarm within CloudWatch limits (period a multiple of 60 up to a day; period x evaluations at most a day, 7 days for periods of an hour or more)', () => {
    for (const interval of [60, 300, 3600, 50_400, 86_400]) {
      const settings = {
        prefix: 'token-rotator/',
        scheduleIntervalSeconds: interval,
        secondsToExpiryThreshold: 2 * interval,
      };
      for (const spec of alarmSpecs(settings, { refreshEvents: true })) {
        expect(spec.period % 60).toBe(0);
        expect(spec.period).toBeLessThanOrEqual(86_400);
        expect(spec.period * spec.evaluationPeriods).toBeLessThanOrEqual(spec.period >= 3600 ? 604_800 : 86_400);
      }
    }
  });

  it('waits two schedule intervals (at least 5 minutes) before notInvoked fires, for every allowed interval', () => {
    // The longest prefix makes the longest descriptions; CloudWatch's own request limits judge each alarm.
    const prefix = `${'p'.repeat(255)}/`;
    for (let interval = 60; interval <= 86_400; interval += 60) {
      const specs = alarmSpecs(
        { prefix, scheduleIntervalSeconds: interval, secondsToExpiryThreshold: 2 * interval },
        { refreshEvents: true },
      );
      const notInvoked = specs.find((a) => a.key === 'notInvoked');
      expect(notInvoked?.description).toContain('two schedule intervals');
      // A multi-period alarm fires only when every one of its evaluation periods breaches.
      const window = (notInvoked?.period ?? 0) * (notInvoked?.evaluationPeriods ?? 0);
      expect(window, `interval ${interval}`).toBeGreaterThanOrEqual(Math.max(300, 2 * interval));
      // No longer than that, rounded up to the minute-aligned metric period.
      expect(window, `interval ${interval}`).toBeLessThanOrEqual(Math.max(300, 2 * metricPeriodSeconds(interval)));
      for (const spec of specs) {
        const problems = metricAlarmProblems({
          AlarmName: `rotator-${spec.resourceSuffix}`,
          AlarmDescription: spec.description,
          Namespace: spec.namespace,
          MetricName: spec.metricName,
          Dimensions: Object.entries(spec.dimensions ?? { FunctionName: 'rotator' }).map(([Name, Value]) => ({
            Name,
            Value,
          })),
          Statistic: spec.statistic,
          Period: spec.period,
          EvaluationPeriods: spec.evaluationPeriods,
          Threshold: spec.threshold,
          ComparisonOperator: spec.comparisonOperator,
          TreatMissingData: spec.treatMissingData,
        });
        expect(problems, `${spec.key} at interval ${interval}`).toEqual([]);
      }
    }
    expect(alarmSpecs({ prefix, scheduleIntervalSeconds: 86_400, secondsToExpiryThreshold: 1 })).toContainEqual(
      expect.objectContaining({ key: 'notInvoked', period: 86_400, evaluationPeriods: 2 }),
    );
  });

  it('adds the RefreshEventsFailed alarm only for a rotator that puts refresh events on a bus', () => {
    const settings = { prefix: 'token-rotator/', scheduleIntervalSeconds: 300, secondsToExpiryThreshold: 600 };
    const keys = (specs: ReturnType<typeof alarmSpecs>) => specs.map((s) => s.key);
    expect(keys(alarmSpecs(settings))).not.toContain('refreshEventsFailed');
    expect(keys(alarmSpecs(settings, { refreshEvents: true }))).toEqual([
      ...keys(alarmSpecs(settings)),
      'refreshEventsFailed',
    ]);
    expect(alarmSpecs(settings, { refreshEvents: true }).at(-1)).toMatchObject({
      metricName: 'RefreshEventsFailed',
      period: 300,
      statistic: 'Sum',
      threshold: 1,
    });
  });
});
