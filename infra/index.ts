/**
 * `infra/`: the TokenRotator component that deploys the rotator Lambda, and the pure builders of
 * its IAM documents and alarms.
 *
 * @example
 * ```ts
 * import { TokenRotator } from './infra';
 * const rotator = new TokenRotator('rotator', { createAlarmTopic: true });
 * export const functionName = rotator.functionName;
 * ```
 */
export type { AlarmKey, AlarmSpec, EventAlarmKey } from './alarms';
export { alarmSpecs, METRICS_NAMESPACE, metricPeriodSeconds, SERVICE_NAME } from './alarms';
export type { PolicyDocument, PolicyStatement, RotatorPolicyScope, SchedulerPolicyScope } from './policies';
export {
  functionArnOf,
  lambdaAssumeRolePolicy,
  rotatorPolicy,
  scheduleArnOf,
  scheduleGroupArnOf,
  schedulerAssumeRolePolicy,
  schedulerPolicy,
  secretArnPattern,
} from './policies';
export { expressionOfInterval } from './schedule';
export type {
  LambdaNodeRuntime,
  RotatorLogLevel,
  RotatorSettings,
  SettingsContext,
  TokenRotatorArgs,
} from './settings';
export {
  DEFAULT_LAMBDA_RUNTIME,
  DEFAULT_PREFIX,
  defaultBundleDir,
  defaultFunctionName,
  LAMBDA_NODE_RUNTIMES,
  LOG_RETENTION_DAYS,
  resolveSettings,
} from './settings';
export type { AlarmArns } from './token-rotator';
export { SWEEP_EVENT, TokenRotator } from './token-rotator';
