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
import { ACCOUNT_ID, invokeResult, outputsOf, PARTITION, REGION } from './mock-aws-outputs';

/** What the mock engine saw of one resource registration. */
export interface RecordedResource {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: inputs are whatever the resource was given.
  inputs: Record<string, any>;
  custom: boolean;
}

export { ACCOUNT_ID, PARTITION, REGION };

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
      return invokeResult(args.token);
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
