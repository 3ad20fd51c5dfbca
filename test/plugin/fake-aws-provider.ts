/**
 * A stand-in for the `aws` resource plugin, for the plugin tests only: the real one cannot be had
 * here (no release download). The engine starts it as `pulumi-resource-aws` (found on PATH, see
 * component-engine.test.ts) when the TokenRotator component's children register. It creates
 * nothing: it records each resource exactly as the engine hands it over (one JSON line per create
 * in the file FAKE_AWS_RECORD), answers with the outputs the Pulumi mocks give
 * (test/helpers/mock-aws-outputs.ts), so the declared-resource checks can then create in moto what
 * the real engine received from the plugin's `construct`.
 */
import { appendFileSync } from 'node:fs';
import type * as provider from '@pulumi/pulumi/provider';
import { main } from '@pulumi/pulumi/provider';
import { invokeResult, outputsOf } from '../helpers/mock-aws-outputs';
import { AWS_PLUGIN_VERSION } from './aws-version';

const record = process.env.FAKE_AWS_RECORD;
if (!record) throw new Error('fake-aws-provider: FAKE_AWS_RECORD names no file');

/** `urn:pulumi:STACK::PROJECT::PARENT$TYPE::NAME` → type and name. */
function parse(urn: string): { type: string; name: string } {
  const parts = urn.split('::');
  return { type: (parts[2] ?? '').split('$').at(-1) ?? '', name: parts.slice(3).join('::') };
}

const fake: provider.Provider = {
  // The engine takes a plugin on PATH as it is; it answers with the version the resources ask for.
  version: AWS_PLUGIN_VERSION,
  async check(_urn, _olds, news) {
    return { inputs: news };
  },
  async diff() {
    return {};
  },
  async create(urn, inputs) {
    const { type, name } = parse(urn);
    appendFileSync(record, `${JSON.stringify({ type, name, inputs })}\n`);
    return { id: `${name}-id`, outs: { ...inputs, ...outputsOf(type, name, inputs) } };
  },
  async delete() {},
  async invoke(token) {
    return { outputs: invokeResult(token) };
  },
};

main(fake, process.argv.slice(2)).catch((e: unknown) => {
  console.error(`fake-aws-provider: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
