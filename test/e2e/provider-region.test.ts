/**
 * ProviderCredential follows the stack's `aws:region`, not the shell's, under the real pulumi
 * CLI: the provider process runs with an AWS_REGION that disagrees with the stack (moto accepts
 * any region), and `up`, `refresh`, a region change and `destroy` all reach the secrets where
 * the stack put them. And `pulumi up` messages: a failed check shows the credential, the field
 * and what to do, without the engine's `value {<nil>}` prefix.
 */
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import * as pulumi from '@pulumi/pulumi';
import type { LocalWorkspace, Stack } from '@pulumi/pulumi/automation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToken } from '../../core/store';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { createLocalBackend, ensureBuilt, inlineStack, type LocalBackend, stateText } from '../../local-stack/pulumi';
import { ProviderCredential } from '../../provider/resource';
import { secretsManagerClient } from '../helpers/aws';

const PREFIX = 'e2e-region/';
const CLIENT_ID = 'region-e2e-client';
const PLANTED = 'PLANTED-region-e2e-secret-0001';
const STACK_REGION = 'eu-west-1';
const NEXT_REGION = 'eu-central-1';
// The shells `pulumi` runs from: none agrees with the stack.
const SHELL = { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'us-west-2' };
const OTHER_SHELL = { AWS_REGION: 'ap-northeast-1', AWS_DEFAULT_REGION: 'ap-northeast-1' };

/** Live secret names under the prefix, as a client of `region` lists them. */
async function liveIn(region: string): Promise<string[]> {
  const client = secretsManagerClient({ region });
  try {
    const out = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [PREFIX] }], MaxResults: 100 }),
    );
    return (out.SecretList ?? [])
      .filter((s) => !s.DeletedDate)
      .map((s) => s.Name ?? '')
      .sort();
  } finally {
    client.destroy();
  }
}

describe('ProviderCredential in the stack region, from a shell that disagrees', () => {
  let backend: LocalBackend;
  let stack: Stack;
  let sirv: SirvFake;
  let output = '';
  const onOutput = (text: string) => {
    output += text;
  };
  const tokens = new Set<string>();
  const mine = [`${PREFIX}sirv-region/client`, `${PREFIX}sirv-region/token`];

  beforeAll(async () => {
    [sirv] = await Promise.all([startSirvFake({ clients: { [CLIENT_ID]: PLANTED } }), ensureBuilt()]);
    backend = await createLocalBackend(SHELL);
    stack = await inlineStack(backend, 'provider-region', 'dev', async () => {
      const cfg = new pulumi.Config();
      const credential = new ProviderCredential('sirv-region', {
        prefix: PREFIX,
        recoveryWindowInDays: 0,
        issuer: {
          kind: 'sirv',
          url: sirv.tokenUrl,
          allowInsecureHttp: true,
          clientId: CLIENT_ID,
          clientSecret: cfg.requireSecret('secret'),
        },
      });
      return { tokenSecretArn: credential.tokenSecretArn };
    });
    await stack.setAllConfig({
      secret: { value: PLANTED, secret: true },
      'aws:region': { value: STACK_REGION },
    });
  });

  afterAll(async () => {
    await stack?.destroy().catch(() => undefined);
    await Promise.all([sirv?.close(), backend?.dispose()]);
  });

  async function token(region: string): Promise<void> {
    const client = secretsManagerClient({ region });
    const record = await readToken({ client, prefix: PREFIX }, 'sirv-region');
    client.destroy();
    if (record) tokens.add(record.accessToken);
  }

  it("pulumi up writes both secrets in the stack's region, none in the shell's", async () => {
    // Act
    const up = await stack.up({ onOutput });

    // Assess
    expect(up.summary.result).toBe('succeeded');
    expect(String(up.outputs.tokenSecretArn?.value)).toMatch(/^arn:aws:secretsmanager:eu-west-1:/);
    expect(await liveIn(STACK_REGION)).toEqual(mine);
    expect(await liveIn(SHELL.AWS_REGION)).toEqual([]);
    expect(await liveIn('us-east-1')).toEqual([]);
    await token(STACK_REGION);
  });

  it('pulumi refresh from another shell keeps the credential, and finds no drift', async () => {
    // Prepare
    Object.assign((stack.workspace as LocalWorkspace).envVars, OTHER_SHELL);

    // Act
    const refresh = await stack.refresh({ onOutput });
    const preview = await stack.preview({ onOutput });

    // Assess
    expect(refresh.summary.result).toBe('succeeded');
    expect(refresh.summary.resourceChanges).not.toHaveProperty('delete');
    expect(preview.changeSummary).toEqual({ same: 2 });
  });

  it('a new aws:region replaces the credential: made in the new region, then deleted from the old', async () => {
    // Prepare
    await stack.setConfig('aws:region', { value: NEXT_REGION });

    // Act
    const up = await stack.up({ onOutput });

    // Assess
    expect(up.summary.resourceChanges).toMatchObject({ replace: 1 });
    expect(String(up.outputs.tokenSecretArn?.value)).toMatch(/^arn:aws:secretsmanager:eu-central-1:/);
    expect(await liveIn(NEXT_REGION)).toEqual(mine);
    expect(await liveIn(STACK_REGION)).toEqual([]);
    await token(NEXT_REGION);
  });

  it('pulumi destroy from yet another shell deletes the secrets where they are', async () => {
    // Prepare
    Object.assign((stack.workspace as LocalWorkspace).envVars, SHELL);

    // Act
    const destroy = await stack.destroy({ onOutput });

    // Assess
    expect(destroy.summary.result).toBe('succeeded');
    expect(await liveIn(NEXT_REGION)).toEqual([]);
  });

  it('keeps the client secret and every token out of the state and the output', async () => {
    const state = await stateText(backend);
    expect(tokens.size).toBe(2);
    for (const secret of [PLANTED, ...tokens]) {
      expect(state).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
    // The settings are recorded, and only names.
    expect(state).toContain('"aws":{"region":"eu-central-1"}');
    expect(state).not.toMatch(/AWS_SECRET_ACCESS_KEY|secretAccessKey|"testing"/);
  });
});

describe('pulumi up messages: check failures and AWS credentials', () => {
  let backend: LocalBackend;
  const saved: Record<string, string | undefined> = {};
  const cleared = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_CONFIG_FILE', 'AWS_PROFILE'];

  beforeAll(async () => {
    await ensureBuilt();
    backend = await createLocalBackend({
      AWS_REGION: '',
      AWS_DEFAULT_REGION: '',
      AWS_CONFIG_FILE: '/nonexistent/token-rotator-e2e-aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/token-rotator-e2e-aws-credentials',
    });
    // The program is declared in this process: no region anywhere, no profile file with one.
    for (const name of cleared) saved[name] = process.env[name];
    for (const name of cleared) delete process.env[name];
    process.env.AWS_CONFIG_FILE = '/nonexistent/token-rotator-e2e-aws-config';
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await backend?.dispose();
  });

  it('names the credential, the field and what to do, without the value {<nil>} prefix', async () => {
    // Prepare
    const stack = await inlineStack(backend, 'provider-messages', 'dev', async () => {
      new ProviderCredential('typo-e2e', {
        prefix: PREFIX,
        issuer: { kind: 'sirb' as 'sirv', clientId: 'a', clientSecret: pulumi.secret('PLANTED-typo-e2e-0002') },
      });
    });

    // Act
    const failure = await stack.preview().then(
      () => undefined,
      (e: unknown) => String((e as Error).message),
    );

    // Assess
    expect(failure).toBeDefined();
    console.info(
      (failure ?? '')
        .split('\n')
        .filter((line) => line.includes('has a problem'))
        .join('\n'),
    );
    expect(failure).toContain(
      `has a problem: Credential "typo-e2e": issuer.kind: unknown kind "sirb"; did you mean "sirv"?`,
    );
    expect(failure).toContain(
      'has a problem: Credential "typo-e2e": aws.region: no AWS region for this credential\'s secrets. ' +
        "Set the stack's region (pulumi config set aws:region us-east-1), or pass region to ProviderCredential",
    );
    expect(failure).not.toContain('<nil>');
    expect(failure).not.toContain('PLANTED-typo-e2e-0002');
  });

  it('says which profile it could not load credentials from, and how to fix it', async () => {
    // Prepare: the stack names a profile this machine does not have.
    const stack = await inlineStack(backend, 'provider-messages', 'no-profile', async () => {
      new ProviderCredential('profile-e2e', {
        prefix: PREFIX,
        recoveryWindowInDays: 0,
        issuer: { kind: 'upload', subject: 'svc-e2e' },
      });
    });
    await stack.setAllConfig({ 'aws:region': { value: 'eu-west-1' }, 'aws:profile': { value: 'nowhere' } });

    // Act
    const failure = await stack.up().then(
      () => undefined,
      (e: unknown) => String((e as Error).message),
    );

    // Assess
    expect(failure).toContain(
      'Credential "profile-e2e": no AWS credentials could be loaded (region eu-west-1, profile "nowhere"). ' +
        'Check that profile "nowhere" exists in this machine\'s AWS config files (for SSO: aws sso login --profile nowhere), then run it again.',
    );
    expect(failure).not.toMatch(/BEGIN (RSA )?PRIVATE KEY/);
  });
});
