/**
 * What CloudWatch would make of the rotator's EMF lines, and whether an alarm would fire on them:
 * the parts of CloudWatch's behaviour the EMF/alarm agreement test needs, written down.
 *
 * - An EMF line (the embedded metric format) declares, under `_aws.CloudWatchMetrics`, a namespace,
 *   dimension sets and metrics with units; values and dimension values are top-level keys.
 * - A metric is identified by namespace, name and its EXACT set of dimensions: an alarm on
 *   `{service}` sees nothing published with `{service, FunctionName}`.
 * - An alarm without a unit aggregates every unit; with one, only datapoints of that unit.
 * - With no datapoint in the period, `treatMissingData` decides: breaching fires, notBreaching
 *   (and ignore/missing, for a fresh alarm) does not.
 */

/** One datapoint CloudWatch would extract from an EMF line. */
export interface EmfDatapoint {
  namespace: string;
  metricName: string;
  unit: string | undefined;
  dimensions: Record<string, string>;
  value: number;
}

interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string; Unit?: string }[];
}

/** Every datapoint in `output` (one JSON object a line; non-EMF lines are skipped). */
export function parseEmf(output: string): EmfDatapoint[] {
  const points: EmfDatapoint[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(line);
    } catch {
      continue;
    }
    const aws = doc._aws as { CloudWatchMetrics?: EmfDirective[] } | undefined;
    for (const directive of aws?.CloudWatchMetrics ?? []) {
      for (const dimensionSet of directive.Dimensions) {
        const dimensions = Object.fromEntries(dimensionSet.map((d) => [d, String(doc[d])]));
        for (const metric of directive.Metrics) {
          const raw = doc[metric.Name];
          for (const value of Array.isArray(raw) ? raw : [raw]) {
            if (typeof value !== 'number')
              throw new Error(`EMF value of ${metric.Name} is not a number: ${String(raw)}`);
            points.push({
              namespace: directive.Namespace,
              metricName: metric.Name,
              unit: metric.Unit,
              dimensions,
              value,
            });
          }
        }
      }
    }
  }
  return points;
}

/** The alarm fields the evaluation uses (PutMetricAlarm's names). */
export interface AlarmDefinition {
  Namespace: string;
  MetricName: string;
  Dimensions: { Name: string; Value: string }[];
  Statistic: 'Sum' | 'Minimum' | 'Maximum' | 'Average' | 'SampleCount';
  Unit?: string;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
}

const sameDimensions = (a: Record<string, string>, b: { Name: string; Value: string }[]) =>
  Object.keys(a).length === b.length && b.every((d) => a[d.Name] === d.Value);

/** The datapoints an alarm watches. */
export function watchedBy(alarm: AlarmDefinition, points: readonly EmfDatapoint[]): EmfDatapoint[] {
  return points.filter(
    (p) =>
      p.namespace === alarm.Namespace &&
      p.metricName === alarm.MetricName &&
      sameDimensions(p.dimensions, alarm.Dimensions) &&
      (alarm.Unit === undefined || alarm.Unit === p.unit),
  );
}

function statistic(name: AlarmDefinition['Statistic'], values: number[]): number {
  switch (name) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount':
      return values.length;
  }
}

function breaches(operator: string, value: number, threshold: number): boolean {
  switch (operator) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      throw new Error(`comparison operator ${operator} is not one a static-threshold alarm takes`);
  }
}

/** Whether the alarm goes to ALARM on one period holding exactly these datapoints. */
export function wouldFire(alarm: AlarmDefinition, points: readonly EmfDatapoint[]): boolean {
  const values = watchedBy(alarm, points).map((p) => p.value);
  if (values.length === 0) return alarm.TreatMissingData === 'breaching';
  return breaches(alarm.ComparisonOperator, statistic(alarm.Statistic, values), alarm.Threshold);
}
