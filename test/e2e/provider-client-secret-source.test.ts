/**
 * A credential whose client secret lives in a Secrets Manager secret of the user's
 * (`clientSecretSource`), under the real pulumi CLI: `up` reads it with the deployer's settings,
 * `refresh` reports no drift, a source that does not exist fails `up` naming the field, and the
 * client secret never reaches Pulumi config or the state file.
 */
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as pulumi from '@pulumi/pulumi';
import type { Stack } from '@pulumi/pulumi/automation';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { createLocalBackend, ensureBuilt, inlineStack, type LocalBackend, stateText } from '../../local-stack/pulumi';
import { ProviderCredential } from '../../provider/resource';
import { secretsManagerClient } from '../helpers/aws';

const PREFIX = `e2e-source-${randomUUID().slice(0, 8)}/`;
const CLIENT_ID = 'source-client';
const PLANTED = `PLANTED-source-e2e-${randomUUID()}`;

let backend: LocalBackend;
let stack: Stack;
let sirv: SirvFake;
let sm: SecretsManagerClient;
let sourceArn: string;

beforeAll(async () => {
  sm = secretsManagerClient();
  [sirv] = await Promise.all([startSirvFake({ clients: { [CLIENT_ID]: PLANTED } }), ensureBuilt()]);
  const created = await sm.send(
    new CreateSecretCommand({
      Name: `${PREFIX}vendor/sirv`,
      SecretString: JSON.stringify({ clientId: CLIENT_ID, clientSecret: PLANTED }),
    }),
  );
  sourceArn = created.ARN ?? '';
  backend = await createLocalBackend();
  stack = await inlineStack(backend, 'client-secret-source', 'dev', async () => {
    const cfg = new pulumi.Config();
    const c = new ProviderCredential('sourced', {
      prefix: PREFIX,
      recoveryWindowInDays: 0,
      issuer: { kind: 'sirv', url: sirv.tokenUrl, allowInsecureHttp: true, clientId: CLIENT_ID },
      clientSecretSource: { secretArn: cfg.require('source'), jsonKey: 'clientSecret' },
    });
    return { tokenSecretArn: c.tokenSecretArn };
  });
});

afterAll(async () => {
  await stack?.destroy().catch(() => undefined);
  await Promise.all([sirv?.close(), backend?.dispose()]);
  sm?.destroy();
});

it('creates the credential from the source, refreshes without drift, and refuses a missing source by name', async () => {
  await stack.setConfig('source', { value: sourceArn });
  const up = await stack.up();
  expect(up.summary.result).toBe('succeeded');
  const token = await sm.send(new GetSecretValueCommand({ SecretId: `${PREFIX}sourced/token` }));
  expect(token.SecretString).toContain('"accessToken"');

  expect((await stack.refresh()).summary.result).toBe('succeeded');
  expect((await stack.preview()).changeSummary).toEqual({ same: 2 });

  const missing = sourceArn.replace(/vendor\/sirv-[A-Za-z0-9]{6}$/, 'vendor/gone-AbCdEf');
  await stack.setConfig('source', { value: missing });
  const failure = await stack.up().then(
    () => 'succeeded',
    (e: Error) => e.message,
  );
  expect(failure).toMatch(/Credential "sourced": clientSecretSource\.secretArn: no secret arn:/);
  expect(failure).not.toMatch(/value \{<nil>\}/);
  // The working credential stays in service.
  const after = await sm.send(new GetSecretValueCommand({ SecretId: `${PREFIX}sourced/token` }));
  expect(after.SecretString).toBe(token.SecretString);
});

it('keeps the client secret out of the state file', async () => {
  const state = await stateText(backend);
  expect(state).toContain(sourceArn);
  expect(state).not.toContain(PLANTED);
});
