/**
 * Changes the provider makes in place under the real pulumi CLI, where a delete-before-replace
 * would take the working credential down before the new configuration is known to work: a
 * change of issuer kind (here the `sirv` preset to its base `json` kind), and a credential one
 * of whose secrets `pulumi refresh` found gone.
 */
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as pulumi from '@pulumi/pulumi';
import type { Stack } from '@pulumi/pulumi/automation';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTokenRecord } from '../../core/token';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { createLocalBackend, ensureBuilt, inlineStack, type LocalBackend, stateText } from '../../local-stack/pulumi';
import { ProviderCredential } from '../../provider/resource';
import { secretsManagerClient } from '../helpers/aws';

const PREFIX = 'e2e-kind-change/';
const CLIENT_ID = 'kind-change-client';
const GOOD = 'PLANTED-kind-change-good-0001';
const WRONG = 'PLANTED-kind-change-wrong-0002';
const TOKEN_ID = `${PREFIX}kind-switch/token`;

let backend: LocalBackend;
let stack: Stack;
let sirv: SirvFake;
let sm: SecretsManagerClient;

beforeAll(async () => {
  sm = secretsManagerClient();
  [sirv] = await Promise.all([startSirvFake({ clients: { [CLIENT_ID]: GOOD } }), ensureBuilt()]);
  backend = await createLocalBackend();
  stack = await inlineStack(backend, 'kind-change', 'dev', async () => {
    const cfg = new pulumi.Config();
    const common = { url: sirv.tokenUrl, allowInsecureHttp: true, clientId: CLIENT_ID };
    const c = new ProviderCredential('kind-switch', {
      prefix: PREFIX,
      recoveryWindowInDays: 0,
      issuer:
        cfg.require('kind') === 'sirv'
          ? { kind: 'sirv', ...common, clientSecret: cfg.requireSecret('secret') }
          : {
              kind: 'json',
              ...common,
              clientSecret: cfg.requireSecret('secret'),
              tokenField: 'token',
              expiresInField: 'expiresIn',
            },
    });
    return { tokenSecretArn: c.tokenSecretArn };
  });
});

afterAll(async () => {
  await stack?.destroy().catch(() => undefined);
  await Promise.all([sirv?.close(), backend?.dispose()]);
  sm?.destroy();
});

const tokenValue = () =>
  sm.send(new GetSecretValueCommand({ SecretId: TOKEN_ID })).then(
    (out) => out.SecretString,
    (e: Error) => `read failed: ${e.name}`,
  );

it('updates a kind change in place: a rejected one leaves the old token served, an accepted one keeps the secrets', async () => {
  await stack.setAllConfig({ kind: { value: 'sirv' }, secret: { value: GOOD, secret: true } });
  const first = await stack.up();
  expect(first.summary.result).toBe('succeeded');
  const before = await tokenValue();
  expect(before).toContain('"accessToken"');

  // The new kind with a wrong secret: the engine plans an update, and the issuer rejects it.
  await stack.setAllConfig({ kind: { value: 'json' }, secret: { value: WRONG, secret: true } });
  const plan = await stack.preview();
  expect(plan.changeSummary).toMatchObject({ update: 1 });
  expect(plan.changeSummary).not.toHaveProperty('replace');
  const failure = await stack.up().then(
    () => 'succeeded',
    (e: Error) => e.message,
  );
  expect(failure).toMatch(/kind-switch/);
  expect(failure).not.toContain(WRONG);
  expect(await tokenValue()).toBe(before);

  // The same kind change with the right secret goes through on the same token secret.
  await stack.setConfig('secret', { value: GOOD, secret: true });
  const second = await stack.up();
  expect(second.summary.result).toBe('succeeded');
  expect(second.summary.resourceChanges).toMatchObject({ update: 1 });
  expect(second.outputs.tokenSecretArn?.value).toBe(first.outputs.tokenSecretArn?.value);
  const after = parseTokenRecord((await tokenValue()) ?? '', 'kind-switch');
  expect(after.generation).toBe(parseTokenRecord(before ?? '', 'kind-switch').generation + 1);
});

it('makes a token secret found gone again beside the surviving client secret, which a failed up keeps', async () => {
  // Prepare: the token secret is deleted out of band (into its recovery window) and refreshed.
  const { outputs } = await stack.up();
  await sm.send(new DeleteSecretCommand({ SecretId: TOKEN_ID, RecoveryWindowInDays: 7 }));
  expect((await stack.refresh()).summary.result).toBe('succeeded');
  expect((await stack.preview()).changeSummary).toMatchObject({ update: 1 });

  // A rejected secret fails the up and deletes nothing.
  await stack.setConfig('secret', { value: WRONG, secret: true });
  await expect(stack.up()).rejects.toThrow(/kind-switch/);
  const clientState = await sm.send(new DescribeSecretCommand({ SecretId: `${PREFIX}kind-switch/client` }));
  expect(clientState.DeletedDate).toBeUndefined();

  // The right one restores the token secret in place.
  await stack.setConfig('secret', { value: GOOD, secret: true });
  const up = await stack.up();
  expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
  expect(up.outputs.tokenSecretArn?.value).toBe(outputs.tokenSecretArn?.value);
  expect(await tokenValue()).toContain('"accessToken"');
});

it('keeps both planted secrets out of the state file', async () => {
  const state = await stateText(backend);
  expect(state).toContain('kind-switch');
  for (const planted of [GOOD, WRONG]) expect(state).not.toContain(planted);
});
