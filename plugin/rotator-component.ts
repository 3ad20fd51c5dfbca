/**
 * `construct` of the `TokenRotator` component: the plugin builds the TypeScript component
 * (infra/token-rotator.ts) itself, in its own process, with the arguments a program in any
 * language sent, and hands the engine its outputs. The component's children are `aws` resources,
 * which the engine creates through the `aws` resource plugin as for a TypeScript program.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as pulumi from '@pulumi/pulumi';
// The modules themselves, not the package root: the root loads the automation API and TypeScript,
// which would slow every start of the plugin.
import { InputPropertiesError, InputPropertyError } from '@pulumi/pulumi/errors';
import { Output } from '@pulumi/pulumi/output';
import type * as pulumiProvider from '@pulumi/pulumi/provider';
import { InvalidConfigurationError } from '../core/errors';
import type { TokenRotatorArgs } from '../infra/settings';
import type { TokenRotator } from '../infra/token-rotator';
import { ROTATOR_INPUTS, ROTATOR_OUTPUTS, type RotatorOutputName } from './rotator-args';
import { ROTATOR_TOKEN } from './schema';

/** One refused argument, as the engine reports it (property path and reason). */
export interface ArgumentProblem {
  propertyPath: string;
  reason: string;
}

/** True when the value is, or holds at any depth, a Pulumi output (another resource's value, or a secret). */
function holdsOutput(value: unknown): boolean {
  if (Output.isInstance(value)) return true;
  if (Array.isArray(value)) return value.some((v) => holdsOutput(v));
  if (value !== null && typeof value === 'object') return Object.values(value).some((v) => holdsOutput(v));
  return false;
}

/**
 * The component's arguments from what `construct` received, or every problem with them. Checks
 * only what the engine's wire cannot promise: that each field is one the component has, of the
 * right shape, and a known value where the component needs one before it declares anything. The
 * values' own rules are the component's (it names the field of each refusal).
 */
export function rotatorArgsOf(inputs: Record<string, unknown>): {
  args: TokenRotatorArgs;
  problems: ArgumentProblem[];
} {
  const problems: ArgumentProblem[] = [];
  const args: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(inputs)) {
    if (value === undefined || value === null) continue;
    const spec = (ROTATOR_INPUTS as Record<string, (typeof ROTATOR_INPUTS)[keyof typeof ROTATOR_INPUTS]>)[field];
    if (!spec) {
      problems.push({
        propertyPath: field,
        reason: `TokenRotator has no argument "${field.slice(0, 100)}"; it takes ${Object.keys(ROTATOR_INPUTS).join(', ')}`,
      });
      continue;
    }
    if (holdsOutput(value)) {
      if (spec.acceptsOutput) args[field] = value;
      else {
        problems.push({
          propertyPath: field,
          reason:
            `${field} must be known before the component declares anything (a literal or a plain config value), ` +
            "not another resource's output or a secret",
        });
      }
      continue;
    }
    const parsed = spec.schema.safeParse(value);
    if (parsed.success) args[field] = parsed.data;
    // zod's messages name the expected and received types, never the value.
    else problems.push({ propertyPath: field, reason: `${field}: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
  }
  return { args: args as TokenRotatorArgs, problems };
}

/**
 * The rotator bundle the plugin ships: `lambda-bundle/` beside the directory of the plugin's code,
 * in an archive (token-rotator-plugin/) as in a checkout or the npm package (dist/plugin/, beside
 * dist/lambda-bundle/). Undefined where there is none: the component's own default applies.
 */
export function shippedBundleDir(): string | undefined {
  const beside = join(__dirname, '..', 'lambda-bundle');
  return existsSync(join(beside, 'index.mjs')) ? beside : undefined;
}

/** Builds the component for `construct` and returns its URN and outputs. */
export async function constructRotator(
  name: string,
  type: string,
  inputs: Record<string, unknown>,
  options: pulumi.ComponentResourceOptions,
): Promise<pulumiProvider.ConstructResult> {
  if (type !== ROTATOR_TOKEN) {
    throw new Error(`token-rotator: unknown component type ${type}; this plugin serves ${ROTATOR_TOKEN}`);
  }
  const { args, problems } = rotatorArgsOf(inputs);
  if (problems.length > 0) {
    throw new InputPropertiesError({ message: `Invalid TokenRotator "${name}" arguments`, errors: problems });
  }
  // Loaded here, not at start: a program that declares only credentials never loads @pulumi/aws.
  const { TokenRotator: Component } = await import('../infra/token-rotator.js');
  const bundleDir = args.bundleDir ?? shippedBundleDir();
  let rotator: TokenRotator;
  try {
    rotator = new Component(name, { ...args, ...(bundleDir ? { bundleDir } : {}) }, options);
  } catch (e) {
    if (e instanceof InvalidConfigurationError) {
      throw new InputPropertyError({ propertyPath: e.field ?? '', reason: e.message });
    }
    throw e;
  }
  const state = Object.fromEntries(
    (Object.keys(ROTATOR_OUTPUTS) as RotatorOutputName[]).map((key) => [key, rotator[key]]),
  );
  return { urn: rotator.urn, state };
}
