/**
 * AWS API constraints that moto 5.2.5 does NOT enforce, written down from the API references so
 * the acceptance test can fail on them (moto accepts, e.g., any runtime, handler, schedule
 * expression, comparison operator or statistic). Enumerations come from the AWS SDK's own
 * generated enums, not from a list of ours. Each check returns problems, `[]` when it is valid.
 */
import { ComparisonOperator, Statistic } from '@aws-sdk/client-cloudwatch';
import { Architecture, Runtime } from '@aws-sdk/client-lambda';
import { FlexibleTimeWindowMode, ScheduleState } from '@aws-sdk/client-scheduler';

const inRange = (field: string, v: unknown, min: number, max: number): string[] =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
    ? []
    : [`${field}: ${JSON.stringify(v)} is not an integer in [${min}, ${max}]`];
const oneOf = (field: string, v: unknown, values: readonly unknown[]): string[] =>
  values.includes(v) ? [] : [`${field}: ${JSON.stringify(v)} is not one of ${values.join(', ')}`];

/** Lambda CreateFunction (API reference, CreateFunction request parameters). */
export function lambdaFunctionProblems(fn: {
  FunctionName?: string;
  Runtime?: string;
  Handler?: string;
  MemorySize?: number;
  Timeout?: number;
  Architectures?: string[];
  Description?: string;
  Environment?: { Variables?: Record<string, string> };
}): string[] {
  const problems: string[] = [];
  if (!/^[a-zA-Z0-9-_]{1,64}$/.test(fn.FunctionName ?? '')) problems.push(`FunctionName: ${fn.FunctionName}`);
  problems.push(...oneOf('Runtime', fn.Runtime, Object.values(Runtime)));
  // Handler: `^[^\s]+$`, at most 128 characters.
  if (!/^[^\s]{1,128}$/.test(fn.Handler ?? '')) problems.push(`Handler: ${JSON.stringify(fn.Handler)}`);
  problems.push(...inRange('MemorySize', fn.MemorySize, 128, 10_240));
  problems.push(...inRange('Timeout', fn.Timeout, 1, 900));
  if (fn.Architectures?.length !== 1) problems.push('Architectures: exactly one expected');
  for (const a of fn.Architectures ?? []) problems.push(...oneOf('Architectures', a, Object.values(Architecture)));
  if ((fn.Description ?? '').length > 256) problems.push('Description: over 256 characters');
  const vars = fn.Environment?.Variables ?? {};
  for (const key of Object.keys(vars)) {
    // Keys start with a letter, then letters, digits and underscores; AWS reserves some names.
    if (!/^[a-zA-Z][a-zA-Z0-9_]+$/.test(key)) problems.push(`Environment: bad variable name ${key}`);
    if (
      /^(AWS_|_HANDLER$|LAMBDA_TASK_ROOT$|LAMBDA_RUNTIME_DIR$)/.test(key) &&
      key !== 'AWS_NODEJS_CONNECTION_REUSE_ENABLED'
    )
      problems.push(`Environment: ${key} is reserved by Lambda`);
  }
  // The whole environment is at most 4 KB.
  if (Buffer.byteLength(JSON.stringify(vars)) > 4096) problems.push('Environment: over 4 KB');
  return problems;
}

/** Lambda PutFunctionEventInvokeConfig. */
export function eventInvokeConfigProblems(c: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number }) {
  return [
    ...inRange('MaximumRetryAttempts', c.MaximumRetryAttempts, 0, 2),
    ...inRange('MaximumEventAgeInSeconds', c.MaximumEventAgeInSeconds, 60, 21_600),
  ];
}

/**
 * An EventBridge Scheduler expression: `rate(value unit)` (unit singular exactly when value is 1),
 * `cron(minutes hours day-of-month month day-of-week year)` with `?` in exactly one of the two day
 * fields, or `at(yyyy-mm-ddThh:mm:ss)`.
 */
export function scheduleExpressionProblems(expression: string): string[] {
  const rate = /^rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const singular = !rate[2]?.endsWith('s');
    return (rate[1] === '1') === singular
      ? []
      : [`ScheduleExpression: "${expression}" (1 takes a singular unit, more a plural)`];
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (cron) {
    const fields = cron[1]?.split(' ') ?? [];
    if (fields.length !== 6) return [`ScheduleExpression: "${expression}" needs 6 cron fields`];
    if ((fields[2] === '?') === (fields[4] === '?'))
      return [`ScheduleExpression: "${expression}" needs "?" in exactly one of day-of-month and day-of-week`];
    return [];
  }
  if (/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/.test(expression)) return [];
  return [`ScheduleExpression: "${expression}" is neither rate(...), cron(...) nor at(...)`];
}

/** Scheduler CreateSchedule, beyond the expression. */
export function scheduleProblems(s: {
  Name?: string;
  ScheduleExpression?: string;
  State?: string;
  FlexibleTimeWindow?: { Mode?: string; MaximumWindowInMinutes?: number };
  Target?: {
    Arn?: string;
    RoleArn?: string;
    Input?: string;
    RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  };
}): string[] {
  const problems = [...scheduleExpressionProblems(s.ScheduleExpression ?? '')];
  if (!/^[0-9a-zA-Z-_.]{1,64}$/.test(s.Name ?? '')) problems.push(`Name: ${s.Name}`);
  problems.push(...oneOf('State', s.State, Object.values(ScheduleState)));
  problems.push(...oneOf('FlexibleTimeWindow.Mode', s.FlexibleTimeWindow?.Mode, Object.values(FlexibleTimeWindowMode)));
  if (!/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9-_]+$/.test(s.Target?.Arn ?? ''))
    problems.push(`Target.Arn: ${s.Target?.Arn} is not a Lambda function ARN`);
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(s.Target?.RoleArn ?? ''))
    problems.push(`Target.RoleArn: ${s.Target?.RoleArn} is not an IAM role ARN`);
  if (s.Target?.RetryPolicy) {
    problems.push(...inRange('RetryPolicy.MaximumRetryAttempts', s.Target.RetryPolicy.MaximumRetryAttempts, 0, 185));
    problems.push(
      ...inRange('RetryPolicy.MaximumEventAgeInSeconds', s.Target.RetryPolicy.MaximumEventAgeInSeconds, 60, 86_400),
    );
  }
  try {
    JSON.parse(s.Target?.Input ?? '');
  } catch {
    problems.push('Target.Input: not JSON (Lambda targets take a JSON event)');
  }
  return problems;
}

/** CloudWatch PutMetricAlarm for a single-metric, standard-resolution alarm. */
export function metricAlarmProblems(a: {
  AlarmName?: string;
  Namespace?: string;
  MetricName?: string;
  Statistic?: string;
  Period?: number;
  EvaluationPeriods?: number;
  Threshold?: number;
  ComparisonOperator?: string;
  TreatMissingData?: string;
  Dimensions?: { Name?: string; Value?: string }[];
  AlarmActions?: string[];
  OKActions?: string[];
  AlarmDescription?: string;
}): string[] {
  const problems: string[] = [];
  if (!a.AlarmName || a.AlarmName.length > 255) problems.push(`AlarmName: ${a.AlarmName}`);
  if (!/^[^:].{0,254}$/.test(a.Namespace ?? '')) problems.push(`Namespace: ${a.Namespace}`);
  if (!a.MetricName || a.MetricName.length > 255) problems.push(`MetricName: ${a.MetricName}`);
  problems.push(...oneOf('Statistic', a.Statistic, Object.values(Statistic)));
  // Standard resolution: 10, 20, 30 or a multiple of 60 seconds.
  if (!(typeof a.Period === 'number' && ([10, 20, 30].includes(a.Period) || (a.Period >= 60 && a.Period % 60 === 0))))
    problems.push(`Period: ${a.Period}`);
  problems.push(...inRange('EvaluationPeriods', a.EvaluationPeriods, 1, 100_000));
  // Periods times evaluation periods: at most a day, or 7 days for periods of an hour or more.
  const span = (a.Period ?? 0) * (a.EvaluationPeriods ?? 0);
  if (span > ((a.Period ?? 0) >= 3600 ? 604_800 : 86_400)) problems.push(`Period x EvaluationPeriods: ${span} s`);
  if (typeof a.Threshold !== 'number' || !Number.isFinite(a.Threshold)) problems.push(`Threshold: ${a.Threshold}`);
  problems.push(...oneOf('ComparisonOperator', a.ComparisonOperator, Object.values(ComparisonOperator)));
  problems.push(...oneOf('TreatMissingData', a.TreatMissingData, ['breaching', 'notBreaching', 'ignore', 'missing']));
  if ((a.Dimensions?.length ?? 0) > 30) problems.push('Dimensions: over 30');
  for (const d of a.Dimensions ?? []) if (!d.Name || !d.Value) problems.push(`Dimensions: ${JSON.stringify(d)}`);
  for (const arn of [...(a.AlarmActions ?? []), ...(a.OKActions ?? [])])
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(arn))
      problems.push(`action: ${arn} is not an SNS topic ARN`);
  if ((a.AlarmDescription ?? '').length > 1024) problems.push('AlarmDescription: over 1024 characters');
  return problems;
}

/** CloudWatch Logs PutRetentionPolicy: the values the API accepts. */
export const LOG_RETENTION_VALUES = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** SQS CreateQueue attributes the component sets. */
export function queueProblems(attributes: Record<string, string>): string[] {
  return inRange('MessageRetentionPeriod', Number(attributes.MessageRetentionPeriod), 60, 1_209_600);
}

/** An IAM trust policy: JSON, a service principal, sts:AssumeRole (moto's CreateRole accepts any text). */
export function trustPolicyProblems(document: string, service: string): string[] {
  let doc: { Version?: string; Statement?: { Effect?: string; Principal?: { Service?: string }; Action?: string }[] };
  try {
    doc = JSON.parse(document);
  } catch {
    return ['AssumeRolePolicyDocument: not JSON'];
  }
  const problems: string[] = [];
  if (doc.Version !== '2012-10-17') problems.push(`Version: ${doc.Version}`);
  const s = doc.Statement ?? [];
  if (!s.some((st) => st.Effect === 'Allow' && st.Principal?.Service === service && st.Action === 'sts:AssumeRole'))
    problems.push(`no statement lets ${service} sts:AssumeRole`);
  return problems;
}
