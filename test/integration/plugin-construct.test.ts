/**
 * The provider plugin's `TokenRotator` component (`construct`), called in this process under the
 * Pulumi mocks: what it declares passes the same checks in moto as the TypeScript component's
 * declaration, is the same declaration, and its outputs are the component's. Under the real CLI:
 * test/plugin/component.test.ts (how far a program gets without the `aws` resource plugin, which
 * cannot be had here) and test/plugin/component-engine.test.ts (with a stand-in for it).
 */
import { randomUUID } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { TokenRotatorProvider } from '../../plugin/provider';
import { ROTATOR_INPUTS, ROTATOR_OUTPUTS } from '../../plugin/rotator-args';
import { ROTATOR_TOKEN } from '../../plugin/schema';
import { promiseOf } from '../helpers/pulumi-mocks';
import { CHECKED_ARGS, describeDeclaredResourceChecks } from './declared-resource-checks';
import { declaredSoFar, declareRotator, declareThroughPlugin } from './declared-resources';

const RUN = randomUUID().slice(0, 6);

// The KMS key as another resource's output, as the engine hands such an input to construct.
describeDeclaredResourceChecks("the plugin's construct", (name, args) =>
  declareThroughPlugin(name, { ...args, kmsKeyArn: pulumi.output(args.kmsKeyArn) }),
);

/** The declaration with the component's name replaced, so two names can be compared. */
const normalised = (declared: { resources: { type: string; name: string; inputs: unknown }[] }, name: string) =>
  JSON.parse(JSON.stringify(declared.resources).replaceAll(name, 'NAME'));

describe("the plugin's construct builds the TypeScript component", () => {
  it('declares exactly what new TokenRotator declares with the same arguments', async () => {
    // Prepare: explicit function names, since the default one hashes the component's name.
    const ts = `cmpt${RUN}`;
    const plugin = `cmpp${RUN}`;
    // Act
    const fromTs = await declareRotator(ts, { ...CHECKED_ARGS, functionName: `${ts}-fn` });
    const fromPlugin = await declareThroughPlugin(plugin, { ...CHECKED_ARGS, functionName: `${plugin}-fn` });
    // Assess
    expect(fromPlugin.resources.length).toBeGreaterThan(10);
    expect(normalised(fromPlugin, plugin)).toEqual(normalised(fromTs, ts));
    expect(fromPlugin.urn).toBe(`urn:pulumi:acceptance::platform::${ROTATOR_TOKEN}::${plugin}`);
  });

  it("returns the component's outputs, every one the TypeScript component has, with the same values", async () => {
    // Prepare
    const ts = `outt${RUN}`;
    const plugin = `outp${RUN}`;
    // Act
    const fromTs = await declareRotator(ts, { createAlarmTopic: true, functionName: 'same-fn' });
    const fromPlugin = await declareThroughPlugin(plugin, { createAlarmTopic: true, functionName: 'same-fn' });
    // Assess: the component's outputs are its public Output fields other than its URN.
    const tsOutputs = Object.keys(fromTs.outputs).filter(
      (k) => k !== 'urn' && pulumi.Output.isInstance(fromTs.outputs[k]),
    );
    expect(Object.keys(fromPlugin.outputs).sort()).toEqual(tsOutputs.sort());
    expect(Object.keys(ROTATOR_OUTPUTS).sort()).toEqual(tsOutputs.sort());
    for (const key of tsOutputs) {
      const a = await promiseOf(pulumi.output(fromTs.outputs[key]));
      const b = await promiseOf(pulumi.output(fromPlugin.outputs[key]));
      expect(JSON.stringify(b ?? null).replaceAll(plugin, 'NAME'), key).toBe(
        JSON.stringify(a ?? null).replaceAll(ts, 'NAME'),
      );
    }
    expect(await promiseOf(pulumi.output(fromPlugin.outputs.functionName))).toBe('same-fn');
  });
});

describe("the plugin's construct refuses bad arguments, naming each, before declaring anything", () => {
  const construct = (name: string, inputs: Record<string, unknown>) =>
    new TokenRotatorProvider().construct(name, ROTATOR_TOKEN, inputs, {});

  it('an argument the component does not have, or of the wrong type', async () => {
    const error = await construct(`bad1${RUN}`, { prefx: 'team/', concurrency: '8', createAlarmTopic: 'yes' }).catch(
      (e: unknown) => e,
    );
    expect(pulumi.InputPropertiesError.isInstance(error)).toBe(true);
    const errors = (error as pulumi.InputPropertiesError).errors;
    expect(errors.map((e) => e.propertyPath)).toEqual(['prefx', 'concurrency', 'createAlarmTopic']);
    expect(errors[0]?.reason).toContain('TokenRotator has no argument "prefx"');
    expect(errors[1]?.reason).toMatch(/^concurrency: Invalid input: expected number, received string$/);
    expect(await declaredSoFar(`bad1${RUN}`)).toEqual([]);
  });

  it("an argument that shapes the resources given as another resource's output or a secret", async () => {
    const error = await construct(`bad2${RUN}`, {
      prefix: pulumi.output('team/'),
      functionName: pulumi.secret('fn'),
      // Accepted as outputs: the component takes pulumi.Input there.
      kmsKeyArn: pulumi.output('arn:aws:kms:eu-west-1:123456789012:key/k'),
      tags: { team: pulumi.secret('platform') },
    }).catch((e: unknown) => e);
    const errors = (error as pulumi.InputPropertiesError).errors;
    expect(errors.map((e) => e.propertyPath)).toEqual(['prefix', 'functionName']);
    expect(errors[0]?.reason).toMatch(/must be known before the component declares anything/);
    for (const [field, spec] of Object.entries(ROTATOR_INPUTS)) {
      if (field === 'kmsKeyArn' || field === 'tags') expect(spec.acceptsOutput, field).toBe(true);
    }
  });

  it("a value the component's own validation refuses, with its message and field", async () => {
    const error = await construct(`bad3${RUN}`, { concurrency: 100, createAlarmTopic: true }).catch((e: unknown) => e);
    expect(pulumi.InputPropertyError.isInstance(error)).toBe(true);
    expect((error as pulumi.InputPropertyError).propertyPath).toBe('concurrency');
    expect((error as pulumi.InputPropertyError).reason).toContain(
      'concurrency: expected an integer from 1 to 64; got 100',
    );
    expect(await declaredSoFar(`bad3${RUN}`)).toEqual([]);
  });

  it('a type it does not serve', async () => {
    await expect(new TokenRotatorProvider().construct('x', 'token-rotator:index:Rotator', {}, {})).rejects.toThrow(
      /unknown component type token-rotator:index:Rotator/,
    );
  });
});
