/**
 * A `pulumi up` retried after a killed one, under the real pulumi CLI: the secrets the killed run
 * made carry the resource's URN (the owner tag), so the retry adopts them; secrets that are not
 * the resource's are refused with the command that takes them over, and that command works.
 */
import { DescribeSecretCommand, type SecretsManagerClient, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import * as pulumi from '@pulumi/pulumi';
import type { Stack } from '@pulumi/pulumi/automation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteCredentialSecrets } from '../../core/store';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { createLocalBackend, ensureBuilt, inlineStack, type LocalBackend, stateText } from '../../local-stack/pulumi';
import { ProviderCredential } from '../../provider/resource';
import { create } from '../../provider/runtime';
import { secretsManagerClient } from '../helpers/aws';

const PREFIX = 'e2e-adoption/';
const CLIENT_ID = 'adoption-e2e-client';
const PLANTED = 'PLANTED-adoption-e2e-secret-0001';
const PROJECT = 'provider-adoption';
const urnOf = (name: string) =>
  `urn:pulumi:dev::${PROJECT}::pulumi-nodejs:dynamic/token-rotator:ProviderCredential::${name}`;

describe('pulumi up after a killed one', () => {
  let backend: LocalBackend;
  let stack: Stack;
  let sirv: SirvFake;
  let sm: SecretsManagerClient;
  let output = '';
  let orphanArns: { clientSecretArn: string; tokenSecretArn: string } | undefined;
  const onOutput = (text: string) => {
    output += text;
  };

  /** What a killed `pulumi up` leaves: both secrets written, nothing in the state. */
  async function leftBehind(
    name: string,
    owner?: string,
  ): Promise<{ clientSecretArn: string; tokenSecretArn: string }> {
    const { outs } = await create({
      name,
      prefix: PREFIX,
      issuer: { kind: 'sirv', url: sirv.tokenUrl, allowInsecureHttp: true, clientId: CLIENT_ID, clientSecret: PLANTED },
      aws: { region: 'us-east-1' },
      codeVersion: '0.1.0',
      ...(owner ? { owner } : {}),
    });
    return outs;
  }

  beforeAll(async () => {
    sm = secretsManagerClient();
    [sirv] = await Promise.all([startSirvFake({ clients: { [CLIENT_ID]: PLANTED } }), ensureBuilt()]);
    backend = await createLocalBackend();
    stack = await inlineStack(backend, PROJECT, 'dev', async () => {
      const cfg = new pulumi.Config();
      const issuer = {
        kind: 'sirv' as const,
        url: sirv.tokenUrl,
        allowInsecureHttp: true,
        clientId: CLIENT_ID,
        clientSecret: cfg.requireSecret('secret'),
      };
      const options = { prefix: PREFIX, recoveryWindowInDays: 0, region: 'us-east-1', issuer };
      const orphan = new ProviderCredential('orphan', options);
      const foreign = new ProviderCredential('foreign', options);
      return { orphan: orphan.tokenSecretArn, foreign: foreign.tokenSecretArn };
    });
    await stack.setAllConfig({ secret: { value: PLANTED, secret: true } });
  });

  afterAll(async () => {
    await stack?.destroy().catch(() => undefined);
    for (const name of ['orphan', 'foreign']) {
      await deleteCredentialSecrets({ client: sm, prefix: PREFIX }, name, { forceDeleteWithoutRecovery: true });
    }
    await Promise.all([sirv?.close(), backend?.dispose()]);
  });

  it("adopts the secrets it made itself, and refuses another's with the command that takes them over", async () => {
    // Prepare: the killed run made "orphan" (tagged with its URN); "foreign" was made by hand.
    const orphan = await leftBehind('orphan', urnOf('orphan'));
    await leftBehind('foreign');

    // Act
    const failure = await stack.up({ onOutput }).then(
      () => undefined,
      (e: unknown) => String((e as Error).message),
    );

    // Assess
    expect(failure).toContain(
      `Credential "foreign": "${PREFIX}foreign/client" and "${PREFIX}foreign/token" already exist in us-east-1 and are not this resource's.`,
    );
    const command = `aws secretsmanager tag-resource --region us-east-1 --secret-id ${PREFIX}foreign/client --tags '[{"Key":"token-rotator:owner","Value":"${urnOf('foreign')}"}]'`;
    expect(failure).toContain(command);
    expect(failure).not.toContain('Credential "orphan"');
    orphanArns = orphan;
  });

  it('adopts the other secrets once tagged as the message says', async () => {
    // Prepare: what the message told the user to run, for both secrets.
    for (const suffix of ['client', 'token']) {
      await sm.send(
        new TagResourceCommand({
          SecretId: `${PREFIX}foreign/${suffix}`,
          Tags: [{ Key: 'token-rotator:owner', Value: urnOf('foreign') }],
        }),
      );
    }

    // Act
    const up = await stack.up({ onOutput });

    // Assess
    expect(up.summary.result).toBe('succeeded');
    // The orphan was adopted: the state names the very secrets the killed run made.
    const state = await stack.exportStack();
    const adopted = (state.deployment.resources ?? []).find((r: { urn: string }) => r.urn === urnOf('orphan'));
    expect(adopted?.outputs?.tokenSecretArn).toBe(orphanArns?.tokenSecretArn);
    expect(adopted?.outputs?.clientSecretArn).toBe(orphanArns?.clientSecretArn);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: String(up.outputs.foreign?.value) }));
    expect(described.Tags).toContainEqual({ Key: 'token-rotator:owner', Value: urnOf('foreign') });
    expect(await stateText(backend)).not.toContain(PLANTED);
    expect(output).not.toContain(PLANTED);
  });
});
