/**
 * What the AWS provider answers for the resources and invokes of the TokenRotator component, made
 * up plausibly (ARNs of the right shape in {@link REGION} and {@link ACCOUNT_ID}): shared by
 * the Pulumi mocks (pulumi-mocks.ts) and the stand-in `aws` resource plugin the plugin tests run
 * under the real CLI (test/plugin/fake-aws-provider.ts). Imports nothing of vitest or Pulumi.
 */

export const ACCOUNT_ID = '123456789012';
export const REGION = 'eu-west-1';
export const PARTITION = 'aws';

/** The result of an invoke the component makes; throws for any other. */
export function invokeResult(token: string): Record<string, unknown> {
  switch (token) {
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return {
        accountId: ACCOUNT_ID,
        arn: `arn:aws:iam::${ACCOUNT_ID}:user/test`,
        id: ACCOUNT_ID,
        userId: 'AIDTEST',
      };
    case 'aws:index/getRegion:getRegion':
      return { region: REGION, name: REGION, id: REGION, description: 'Europe (Ireland)', endpoint: '' };
    case 'aws:index/getPartition:getPartition':
      return { partition: PARTITION, dnsSuffix: 'amazonaws.com', id: PARTITION, reverseDnsPrefix: 'com.amazonaws' };
    default:
      throw new Error(`unexpected invoke ${token}`);
  }
}

/** The outputs a created resource gets beside its inputs. */
export function outputsOf(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;
  switch (type) {
    case 'aws:iam/role:Role':
      return { arn: `arn:aws:iam::${ACCOUNT_ID}:role/${name}`, name };
    case 'aws:sqs/queue:Queue':
      return { arn: arn('sqs', name), url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/${name}` };
    case 'aws:lambda/function:Function':
      return { arn: arn('lambda', `function:${String(inputs.name)}`) };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { arn: arn('logs', `log-group:${String(inputs.name)}`) };
    case 'aws:scheduler/schedule:Schedule':
      return { arn: arn('scheduler', `schedule/default/${String(inputs.name)}`) };
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      return { arn: arn('cloudwatch', `alarm:${name}`) };
    case 'aws:sns/topic:Topic':
      return { arn: arn('sns', name) };
    default:
      return {};
  }
}
