import * as pulumi from '@pulumi/pulumi';
import * as rpc from '@pulumi/pulumi/runtime/rpc';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../core/errors';
import { caught } from '../../helpers/caught';
import { createRecorder, fakeBundleDir, promiseOf, useMockEngine } from '../../helpers/pulumi-mocks';

type Stack = typeof import('../../../infra/stack');

const recorder = createRecorder();
// Pulumi's wire marker of a secret value.
const SECRET_SIG = rpc.specialSigKey;
const SECRET_SIG_VALUE = rpc.specialSecretSig;
const SECRET = 'planted-stack-config-secret-42';
let stack: Stack;
let bundleDir: string;

useMockEngine(recorder, 'token-rotator');
// The documented order: mocks first (above), then the module under test.
beforeAll(async () => {
  stack = await import('../../../infra/stack.js');
  bundleDir = fakeBundleDir();
});

function configure(values: Record<string, unknown>, secrets: Record<string, string> = {}) {
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries({ rotator: { bundleDir }, ...values })) {
    all[`token-rotator:${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  for (const [k, v] of Object.entries(secrets)) all[`token-rotator:${k}`] = v;
  pulumi.runtime.setAllConfig(
    all,
    Object.keys(secrets).map((k) => `token-rotator:${k}`),
  );
  return new pulumi.Config('token-rotator');
}

const CREDENTIALS = [
  { name: 'sirv-prod', issuer: { kind: 'sirv', clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R' } },
  { name: 'upload-prod', issuer: { kind: 'upload', subject: 'svc' } },
];

describe('the platform stack program', () => {
  it('deploys one rotator and a credential per config entry, issuing first tokens through the rotator', async () => {
    // Prepare
    const config = configure({ credentials: CREDENTIALS }, { 'secret-sirv-prod': SECRET });

    // Act
    const outputs = stack.platform(config);
    await promiseOf(outputs.rotatorFunctionName);
    await Promise.all(Object.values(outputs.credentials).map((c) => promiseOf(c.tokenSecretArn)));

    // Assess
    expect(recorder.resources.filter((r) => r.type === 'token-rotator:index:TokenRotator')).toHaveLength(1);
    // In name order: which registers first depends on which inputs resolve first (sirv's wait on
    // the rotator's function name).
    const credentials = recorder.resources
      .filter((r) => r.type === 'pulumi-nodejs:dynamic/token-rotator:ProviderCredential')
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(credentials.map((c) => c.name)).toEqual(['sirv-prod', 'upload-prod']);
    const functionName = await promiseOf(outputs.rotatorFunctionName);
    const sirv = credentials[0]?.inputs ?? {};
    expect(sirv.rotatorFunctionName).toBe(functionName);
    expect(sirv.prefix).toBe('token-rotator/');
    // The issuer reaches the engine as a secret value (the sig key marks it), holding the config secret.
    expect(sirv.issuer[SECRET_SIG]).toBe(SECRET_SIG_VALUE);
    expect(sirv.issuer.value).toMatchObject({ kind: 'sirv', clientSecret: SECRET });
    // The upload credential has no key in config: the provider generates one.
    expect(credentials[1]?.inputs.issuer.value).toEqual({ kind: 'upload', subject: 'svc' });
    expect(Object.keys(outputs.credentials)).toEqual(['sirv-prod', 'upload-prod']);
  });

  it('puts the rotator and every credential under rotator.prefix when config prefix is not set', async () => {
    const config = configure(
      { rotator: { bundleDir, prefix: 'team/' }, credentials: CREDENTIALS.slice(0, 1) },
      { 'secret-sirv-prod': SECRET },
    );

    const outputs = stack.platform(config);
    await promiseOf(outputs.rotatorFunctionName);
    await Promise.all(Object.values(outputs.credentials).map((c) => promiseOf(c.tokenSecretArn)));

    const fn = recorder.resources.find((r) => r.type === 'aws:lambda/function:Function');
    const credential = recorder.resources.find(
      (r) => r.type === 'pulumi-nodejs:dynamic/token-rotator:ProviderCredential',
    );
    expect(fn?.inputs.environment.variables.TOKEN_ROTATOR_PREFIX).toBe('team/');
    expect(credential?.inputs.prefix).toBe('team/');
  });

  it('refuses config prefix and rotator.prefix that disagree, naming both', () => {
    const config = configure(
      { prefix: 'token-rotator/', rotator: { bundleDir, prefix: 'team/' }, credentials: CREDENTIALS.slice(0, 1) },
      { 'secret-sirv-prod': SECRET },
    );

    const error = caught(() => stack.platform(config), InvalidConfigurationError);
    expect(error.field).toBe('rotator.prefix');
    expect(error.message).toMatch(/config "prefix" \("token-rotator\/"\) and "rotator\.prefix" \("team\/"\) disagree/);
    // Refused before anything is declared.
    expect(recorder.resources.filter((r) => r.type === 'token-rotator:index:TokenRotator')).toHaveLength(0);
  });

  it('names the config command to run when a client secret is missing', () => {
    const config = configure({ credentials: CREDENTIALS });

    expect(() => stack.platform(config)).toThrow(
      /Credential "sirv-prod" has no client secret .*pulumi config set --secret secret-sirv-prod/,
    );
  });

  it('refuses a client secret in plain config, without echoing it', () => {
    const config = configure({
      credentials: [{ name: 'sirv-prod', issuer: { kind: 'sirv', clientId: 'id', clientSecret: SECRET } }],
    });

    const attempt = () => stack.platform(config);

    expect(attempt).toThrow(/clientSecret must not be in plain config/);
    expect(attempt).not.toThrow(SECRET);
  });

  it('can issue first tokens in-process when issueThroughRotator is false', async () => {
    const config = configure({ credentials: CREDENTIALS.slice(1), issueThroughRotator: 'false' });

    const outputs = stack.platform(config);
    await Promise.all(Object.values(outputs.credentials).map((c) => promiseOf(c.tokenSecretArn)));

    const credential = recorder.resources.find((r) => r.name === 'upload-prod');
    expect(credential?.inputs.rotatorFunctionName).toBeUndefined();
  });
});
