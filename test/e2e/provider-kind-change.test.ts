/**
 * A change of issuer kind under the real pulumi CLI (here the `sirv` preset to its base `json`
 * kind): the engine is asked for an in-place update, not a delete-before-replace, so a new
 * configuration the issuer rejects fails the `pulumi up` with the working token still served,
 * and an accepted one keeps the same secrets.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as pulumi from '@pulumi/pulumi';
import type { Stack } from '@pulumi/pulumi/automation';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTokenRecord } from '../../core/token';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { createLocalBackend, ensureBuilt, inlineStack, type LocalBackend } from '../../local-stack/pulumi';
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
  await expect(stack.up()).rejects.toThrow(/kind-switch/);
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
