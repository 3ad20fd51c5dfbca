/**
 * A `pulumi.runtime.setMocks` recorder for program tests of the infra component (the pattern of
 * pulumi-awsx's tests): every registered resource and every invoke is kept for assertions, and
 * each resource gets plausible outputs (ARNs, queue URL) so dependent inputs resolve.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, beforeEach } from 'vitest';

/** What the mock engine saw of one resource registration. */
export interface RecordedResource {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: inputs are whatever the resource was given.
  inputs: Record<string, any>;
  custom: boolean;
}

export const ACCOUNT_ID = '123456789012';
export const REGION = 'eu-west-1';
export const PARTITION = 'aws';

/** The recorder and the mocks it answers with. */
export function createRecorder() {
  const resources: RecordedResource[] = [];
  const calls: string[] = [];
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      resources.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? false });
      return { id: `${args.name}-id`, state: { ...args.inputs, ...outputsOf(args.type, args.name, args.inputs) } };
    },
    call(args) {
      calls.push(args.token);
      switch (args.token) {
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
          throw new Error(`unexpected invoke ${args.token}`);
      }
    },
  };
  return {
    mocks,
    resources,
    calls,
    /** Resources whose logical name starts with the component's name. */
    of(componentName: string): RecordedResource[] {
      return resources.filter((r) => r.name === componentName || r.name.startsWith(`${componentName}-`));
    },
    /** The one resource of this type and name; fails loudly when absent. */
    find(type: string, name: string): RecordedResource {
      const found = resources.find((r) => r.type === type && r.name === name);
      if (!found)
        throw new Error(`no ${type} named ${name}; saw ${resources.map((r) => `${r.type}/${r.name}`).join(', ')}`);
      return found;
    },
  };
}

function outputsOf(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
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

/**
 * The value of an output, or its error. Uses the output's own promise (what `apply` chains on), so
 * a failing apply rejects here instead of leaving the test hanging.
 */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  const internal = output as unknown as { promise?: () => Promise<T> };
  if (typeof internal.promise === 'function') return internal.promise();
  return new Promise((resolve) => output.apply(resolve));
}

/**
 * Installs `recorder` as Pulumi's mock engine before the file's own `beforeAll` (call this first:
 * the documented order is mocks, then the module under test) and forgets every recorded resource
 * before each test.
 */
export function useMockEngine(recorder: ReturnType<typeof createRecorder>, project = 'platform'): void {
  beforeAll(async () => {
    await pulumi.runtime.setMocks(recorder.mocks, project, 'test');
  });
  beforeEach(() => {
    recorder.resources.length = 0;
  });
}

/** A directory holding a stand-in rotator bundle (`index.mjs`), for the component's `bundleDir`. */
export function fakeBundleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'token-rotator-bundle-'));
  writeFileSync(join(dir, 'index.mjs'), 'export const handler = async () => ({});\n');
  return dir;
}
