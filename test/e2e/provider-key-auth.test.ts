/**
 * Credentials that authenticate with a private key, under the real pulumi CLI against moto and
 * oidc-provider on 127.0.0.1 (local-stack/fakes/oidc.ts, which also serves the RFC 7523 JWT
 * bearer grant): `oauth2` with `private_key_jwt` and the `jwt-bearer` kind, each signed with a
 * PEM kept in the client secret and with a moto KMS key (RS256 for the client assertions, ES256
 * for the grant). They are created (the first token from the server), updated in place (a scope
 * change, then a key change the server accepts only with the new key), and rotated by a forced
 * in-process `token-rotator refresh`, every token checked against the server's JWKS. The planted
 * private keys, the tokens and every assertion the server accepted never reach the state, the
 * stack outputs or what the CLIs print.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as pulumi from '@pulumi/pulumi';
import type { Stack } from '@pulumi/pulumi/automation';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../cli/exit-codes';
import { type AssertionKey, assertionPublicKey, obtainToken } from '../../core/issuers';
import { kmsKeySigner } from '../../core/kms-signer';
import { parseTokenRecord, type TokenRecord } from '../../core/token';
import { OIDC_BEARER_CLIENT, type RunningOidcProvider, startOidcProvider } from '../../local-stack/fakes/oidc';
import { createLocalBackend, ensureBuilt, inlineStack, type LocalBackend, stateText } from '../../local-stack/pulumi';
import { ProviderCredential } from '../../provider/resource';
import { secretsManagerClient } from '../helpers/aws';
import { runCommand } from '../helpers/cli';

const PREFIX = 'e2e-key-auth/';
const NAMES = ['pkj-pem', 'pkj-kms', 'jb-pem', 'jb-kms'] as const;
type Name = (typeof NAMES)[number];
const CLIENT_IDS = { pkjPem: 'e2e-pkj-pem', pkjKms: 'e2e-pkj-kms' };
const GRANT_ISSUERS = { pem: 'https://ci-pem.e2e.test', kms: 'https://ci-kms.e2e.test' };
const SUBJECT = 'deploy-bot';

const pemOf = (type: 'rsa' | 'ec') =>
  (type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  ).privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
// Planted: each key's PEM body and its private JWK members must appear nowhere.
const KEYS = { pkj: pemOf('rsa'), pkjNext: pemOf('rsa'), jb: pemOf('ec'), jbNext: pemOf('ec') };

/** What of a private key must not leak: its PEM body lines and its private JWK members. */
function privateMaterial(pem: string): string[] {
  const body = pem
    .split('\n')
    .filter((line) => line && !line.startsWith('-----'))
    .map((line) => line.slice(0, 40));
  const jwk = createPrivateKey(pem).export({ format: 'jwk' });
  return [...body, ...(['d', 'p', 'q', 'dp', 'dq', 'qi'] as const).flatMap((m) => (jwk[m] ? [jwk[m]] : []))];
}

function program(op: RunningOidcProvider, kmsKeys: { rsa: string; ec: string }): pulumi.automation.PulumiFn {
  return async () => {
    const cfg = new pulumi.Config();
    const common = { prefix: PREFIX, recoveryWindowInDays: 0 };
    const scope = cfg.require('scope');
    const pkj = {
      kind: 'oauth2' as const,
      tokenUrl: op.tokenUrl,
      allowInsecureHttp: true,
      authMethod: 'private_key_jwt' as const,
      scope,
    };
    const jb = {
      kind: 'jwt-bearer' as const,
      tokenUrl: op.tokenUrl,
      allowInsecureHttp: true,
      subject: SUBJECT,
      scope,
      clientId: OIDC_BEARER_CLIENT.clientId,
      clientSecret: cfg.requireSecret('bearerClientSecret'),
    };
    const credentials: Record<Name, ProviderCredential> = {
      'pkj-pem': new ProviderCredential('pkj-pem', {
        ...common,
        issuer: { ...pkj, clientId: CLIENT_IDS.pkjPem, privateKeyPem: cfg.requireSecret('pkjKey') },
      }),
      'pkj-kms': new ProviderCredential('pkj-kms', {
        ...common,
        issuer: { ...pkj, clientId: CLIENT_IDS.pkjKms, kms: { keyId: kmsKeys.rsa } },
      }),
      'jb-pem': new ProviderCredential('jb-pem', {
        ...common,
        issuer: { ...jb, issuer: GRANT_ISSUERS.pem, privateKeyPem: cfg.requireSecret('jbKey') },
      }),
      'jb-kms': new ProviderCredential('jb-kms', {
        ...common,
        issuer: { ...jb, issuer: GRANT_ISSUERS.kms, kms: { keyId: kmsKeys.ec, alg: 'ES256' as const } },
      }),
    };
    return Object.fromEntries(
      Object.entries(credentials).flatMap(([name, c]) => [
        [`${name}.publicJwks`, c.publicJwks],
        [`${name}.publicKeyPem`, c.publicKeyPem],
        [`${name}.tokenSecretArn`, c.tokenSecretArn],
      ]),
    );
  };
}

let backend: LocalBackend;
let stack: Stack;
let op: RunningOidcProvider;
let kms: KMSClient;
let sm: SecretsManagerClient;
const kmsKeys = { rsa: '', ec: '' };
let output = '';
const onOutput = (text: string) => {
  output += text;
};
const outputsSeen: string[] = [];
const tokensSeen = new Set<string>();

const jwksOf = async (key: AssertionKey) => (await assertionPublicKey(key, 'setup', kmsKeySigner(kms))).jwks;
const trustFor = async (issuer: string, key: AssertionKey) => ({
  issuer,
  subject: SUBJECT,
  scope: ['files:read', 'files:write'],
  jwks: await jwksOf(key),
});

async function tokenOf(name: Name): Promise<TokenRecord> {
  const out = await sm.send(new GetSecretValueCommand({ SecretId: `${PREFIX}${name}/token` }));
  const record = parseTokenRecord(out.SecretString ?? '', name);
  tokensSeen.add(record.accessToken);
  return record;
}

/** Each credential's stored token, checked as the server's own: for its client (and grant issuer), with `scope`. */
async function expectServerTokens(generation: number, scope: string): Promise<void> {
  const jwks = createRemoteJWKSet(new URL(op.jwksUrl));
  const expected: Record<Name, Record<string, unknown>> = {
    'pkj-pem': { client_id: CLIENT_IDS.pkjPem },
    'pkj-kms': { client_id: CLIENT_IDS.pkjKms },
    'jb-pem': { client_id: OIDC_BEARER_CLIENT.clientId, jwt_bearer: { iss: GRANT_ISSUERS.pem, sub: SUBJECT } },
    'jb-kms': { client_id: OIDC_BEARER_CLIENT.clientId, jwt_bearer: { iss: GRANT_ISSUERS.kms, sub: SUBJECT } },
  };
  for (const name of NAMES) {
    const record = await tokenOf(name);
    expect(record.generation, name).toBe(generation);
    const { payload } = await jwtVerify(record.accessToken, jwks, { issuer: op.issuer });
    expect(payload, name).toMatchObject({ ...expected[name], scope });
  }
}

beforeAll(async () => {
  sm = secretsManagerClient();
  kms = new KMSClient({});
  const keyOf = async (KeySpec: 'RSA_2048' | 'ECC_NIST_P256') =>
    (await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata?.Arn ?? '';
  [kmsKeys.rsa, kmsKeys.ec] = await Promise.all([keyOf('RSA_2048'), keyOf('ECC_NIST_P256'), ensureBuilt()]);
  // The server knows each credential's public key before the first `up`, as the vendor would.
  op = await startOidcProvider({
    accessTokenTtlSeconds: 3600,
    jwtBearer: {
      trusts: [
        await trustFor(GRANT_ISSUERS.pem, { privateKeyPem: KEYS.jb }),
        await trustFor(GRANT_ISSUERS.kms, { kms: { keyId: kmsKeys.ec, alg: 'ES256' } }),
      ],
    },
  });
  await op.setKeyClient({ clientId: CLIENT_IDS.pkjPem, jwks: await jwksOf({ privateKeyPem: KEYS.pkj }) });
  await op.setKeyClient({ clientId: CLIENT_IDS.pkjKms, jwks: await jwksOf({ kms: { keyId: kmsKeys.rsa } }) });
  backend = await createLocalBackend();
  stack = await inlineStack(backend, 'key-auth-e2e', 'dev', program(op, kmsKeys));
  await stack.setAllConfig({
    scope: { value: 'files:read' },
    pkjKey: { value: KEYS.pkj, secret: true },
    jbKey: { value: KEYS.jb, secret: true },
    bearerClientSecret: { value: OIDC_BEARER_CLIENT.clientSecret, secret: true },
  });
});

afterAll(async () => {
  await stack?.destroy().catch(() => undefined);
  await Promise.all([op?.close(), backend?.dispose()]);
  kms?.destroy();
  sm?.destroy();
});

describe('private_key_jwt and jwt-bearer credentials under the pulumi CLI', () => {
  it('creates each with a first token from the server and its public key as outputs', async () => {
    // Act
    const up = await stack.up({ onOutput });
    outputsSeen.push(JSON.stringify(up.outputs));

    // Assess
    expect(up.summary.resourceChanges).toMatchObject({ create: NAMES.length + 1 });
    await expectServerTokens(1, 'files:read');
    const keys: Record<Name, AssertionKey> = {
      'pkj-pem': { privateKeyPem: KEYS.pkj },
      'pkj-kms': { kms: { keyId: kmsKeys.rsa } },
      'jb-pem': { privateKeyPem: KEYS.jb },
      'jb-kms': { kms: { keyId: kmsKeys.ec, alg: 'ES256' } },
    };
    for (const name of NAMES) {
      const { jwks, publicKeyPem } = await assertionPublicKey(keys[name], name, kmsKeySigner(kms));
      expect(JSON.parse(String(up.outputs[`${name}.publicJwks`]?.value)), name).toEqual(jwks);
      expect(up.outputs[`${name}.publicKeyPem`]?.value, name).toBe(publicKeyPem);
    }
    // The PEM-signed ones keep their key in the client secret; the KMS-signed ones keep none.
    const clientDocument = async (name: Name) =>
      (await sm.send(new GetSecretValueCommand({ SecretId: `${PREFIX}${name}/client` }))).SecretString ?? '';
    expect(JSON.parse(await clientDocument('pkj-pem')).issuer.privateKeyPem).toBe(KEYS.pkj);
    expect(await clientDocument('jb-kms')).not.toContain('PRIVATE KEY');
  });

  it('updates a scope change in place, each new token issued with the new scope', async () => {
    await stack.setConfig('scope', { value: 'files:read files:write' });
    const preview = await stack.preview({ onOutput });
    expect(preview.changeSummary).toEqual({ update: NAMES.length, same: 1 });

    const up = await stack.up({ onOutput });
    outputsSeen.push(JSON.stringify(up.outputs));

    expect(up.summary.resourceChanges).toMatchObject({ update: NAMES.length, same: 1 });
    await expectServerTokens(2, 'files:read files:write');
  });

  it('updates a key change in place once the server holds only the new keys, and outputs the new public keys', async () => {
    // Prepare: the server now trusts only the new keys, so only they can get a token.
    await op.setKeyClient({ clientId: CLIENT_IDS.pkjPem, jwks: await jwksOf({ privateKeyPem: KEYS.pkjNext }) });
    op.setTrust(await trustFor(GRANT_ISSUERS.pem, { privateKeyPem: KEYS.jbNext }));
    await stack.setAllConfig({
      pkjKey: { value: KEYS.pkjNext, secret: true },
      jbKey: { value: KEYS.jbNext, secret: true },
    });
    const before = await stack.outputs();
    const oldKey = obtainToken(
      {
        kind: 'oauth2',
        tokenUrl: op.tokenUrl,
        allowInsecureHttp: true,
        authMethod: 'private_key_jwt',
        clientId: CLIENT_IDS.pkjPem,
        privateKeyPem: KEYS.pkj,
      },
      { credential: 'pkj-pem' },
    );
    await expect(oldKey).rejects.toMatchObject({ code: 'InvalidCredentials' });

    // Act
    const up = await stack.up({ onOutput });
    outputsSeen.push(JSON.stringify(up.outputs));

    // Assess: updated, not replaced; the same token secrets, with the next generation.
    expect(up.summary.resourceChanges).toMatchObject({ update: 2, same: 3 });
    expect(up.summary.resourceChanges).not.toHaveProperty('replace');
    for (const name of ['pkj-pem', 'jb-pem'] as const) {
      expect(up.outputs[`${name}.tokenSecretArn`]?.value).toBe(before[`${name}.tokenSecretArn`]?.value);
      expect(up.outputs[`${name}.publicJwks`]?.value).not.toBe(before[`${name}.publicJwks`]?.value);
      expect((await tokenOf(name)).generation, name).toBe(3);
    }
    expect(JSON.parse(String(up.outputs['pkj-pem.publicJwks']?.value))).toEqual(
      await jwksOf({ privateKeyPem: KEYS.pkjNext }),
    );
    expect(JSON.parse(String(up.outputs['jb-pem.publicJwks']?.value))).toEqual(
      await jwksOf({ privateKeyPem: KEYS.jbNext }),
    );
  });

  it('rotates every one with a forced in-process `token-rotator refresh`, to a token the server issued', async () => {
    // Prepare
    const generations = Object.fromEntries(
      await Promise.all(NAMES.map(async (n) => [n, (await tokenOf(n)).generation])),
    );
    const accepted = op.acceptedAssertions.length;

    // Act
    const run = await runCommand(['--prefix', PREFIX, 'refresh', '--all', '--force'], { env: {} });
    output += run.stdout + run.stderr;

    // Assess
    expect(run.code, run.stdout + run.stderr).toBe(EXIT_CODES.ok);
    expect(run.stdout).toContain(`${NAMES.length} credentials: ${NAMES.length} refreshed, 0 skipped, 0 failed.`);
    expect(op.acceptedAssertions.length).toBe(accepted + NAMES.length);
    const jwks = createRemoteJWKSet(new URL(op.jwksUrl));
    for (const name of NAMES) {
      const record = await tokenOf(name);
      expect(record.generation, name).toBe(Number(generations[name]) + 1);
      await expect(jwtVerify(record.accessToken, jwks, { issuer: op.issuer }), name).resolves.toBeTruthy();
    }
  });

  it('destroys them all', async () => {
    const destroy = await stack.destroy({ onOutput });
    expect(destroy.summary.result).toBe('succeeded');
    const listed = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [PREFIX] }] }));
    expect((listed.SecretList ?? []).filter((s) => !s.DeletedDate)).toEqual([]);
  });

  it('keeps the planted keys, the tokens and every accepted assertion out of the state, the outputs and the CLI output', async () => {
    const state = await stateText(backend);
    expect(state.length).toBeGreaterThan(1000);
    expect(output).toContain('pkj-pem');
    // One token and one accepted assertion each: 4 creates, 4 scope updates, 2 key changes, 4 refreshes.
    expect(tokensSeen.size).toBe(14);
    expect(op.acceptedAssertions).toHaveLength(14);
    const planted = [
      ...Object.values(KEYS).flatMap(privateMaterial),
      ...tokensSeen,
      ...op.acceptedAssertions,
      OIDC_BEARER_CLIENT.clientSecret,
    ];
    const outputs = outputsSeen.join('\n');
    for (const secret of planted) {
      expect(state).not.toContain(secret);
      expect(outputs).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
    for (const text of [state, outputs, output]) expect(text).not.toMatch(/PRIVATE KEY/);
    // The keys are in the state, encrypted with the passphrase.
    expect(state).toContain('ciphertext');
  });
});
