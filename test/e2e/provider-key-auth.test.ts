/**
 * Credentials that authenticate with a private key, under the real pulumi CLI against moto and a
 * real OAuth server on 127.0.0.1: oidc-provider (local-stack/fakes/oidc.ts, which also serves the
 * RFC 7523 JWT bearer grant) and Ory Hydra v2.3.0 (local-stack/fakes/hydra.ts, built by
 * scripts/setup-hydra.sh). `oauth2` with `private_key_jwt` and the `jwt-bearer` kind, each signed
 * with a PEM kept in the client secret and with a moto KMS key (RS256 for the client assertions,
 * ES256 for the grant), are created (the first token from the server), updated in place (a scope
 * change, then a key change once the server holds only the new key), and rotated by a forced
 * in-process `token-rotator refresh`, every token checked as the server's own (its JWKS, or
 * Hydra's introspection). The planted private keys, the tokens and every assertion oidc-provider
 * accepted never reach the state, the stack outputs or what the CLIs print.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as pulumi from '@pulumi/pulumi';
import type { Stack } from '@pulumi/pulumi/automation';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../cli/exit-codes';
import { type AssertionKey, assertionPublicKey } from '../../core/issuers';
import { kmsKeySigner } from '../../core/kms-signer';
import { parseTokenRecord, type TokenRecord } from '../../core/token';
import { startHydra } from '../../local-stack/fakes/hydra';
import { OIDC_BEARER_CLIENT, startOidcProvider } from '../../local-stack/fakes/oidc';
import { createLocalBackend, ensureBuilt, inlineStack, type LocalBackend, stateText } from '../../local-stack/pulumi';
import { ProviderCredential } from '../../provider/resource';
import { secretsManagerClient } from '../helpers/aws';
import { runCommand } from '../helpers/cli';
import { obtainFrom } from '../helpers/issuers';

const NAMES = ['pkj-pem', 'pkj-kms', 'jb-pem', 'jb-kms'] as const;
type Name = (typeof NAMES)[number];
const GRANT_ISSUERS = { pem: 'https://ci-pem.e2e.test', kms: 'https://ci-kms.e2e.test' };
const SUBJECT = 'deploy-bot';
const SCOPES = ['files:read', 'files:write'];
const HYDRA_BEARER_SECRET = 'PLANTED-hydra-bearer-secret-0001';

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

type Jwks = { keys: Record<string, unknown>[] };

/** An OAuth server as this test drives it, whichever it is. */
interface KeyAuthServer {
  tokenUrl: string;
  /** The `private_key_jwt` clients' ids, PEM- and KMS-signed. */
  clientIds: { pem: string; kms: string };
  /** The client that uses the JWT bearer grant. */
  bearerClient: { clientId: string; clientSecret: string };
  /** Replaces the keys the server holds for a `private_key_jwt` client. */
  setClientKeys(clientId: string, jwks: Jwks): Promise<void>;
  /** Replaces the key the server trusts for a grant issuer's assertions. */
  setTrustedKeys(issuer: string, jwks: Jwks): Promise<void>;
  /** Checks that `token` is the server's own live token, for this client (and grant issuer), with `scope`. */
  expectToken(token: string, expected: { clientId: string; grantIssuer?: string; scope: string }): Promise<void>;
  /** The assertions of every successful token request, where the server tells them. */
  acceptedAssertions?: readonly string[];
  /** What the server logged, for a failure's message. */
  log(): string;
  /** How many token requests `pulumi up` and the in-process refresh may send at once. */
  concurrency: number;
  close(): Promise<void>;
}

/** The public keys each credential starts with, to register before the first `up`. */
interface InitialKeys {
  pkjPem: Jwks;
  pkjKms: Jwks;
  jbPem: Jwks;
  jbKms: Jwks;
}

async function oidcServer(keys: InitialKeys): Promise<KeyAuthServer> {
  const trust = (issuer: string, jwks: Jwks) => ({ issuer, subject: SUBJECT, scope: SCOPES, jwks });
  const op = await startOidcProvider({
    accessTokenTtlSeconds: 3600,
    jwtBearer: { trusts: [trust(GRANT_ISSUERS.pem, keys.jbPem), trust(GRANT_ISSUERS.kms, keys.jbKms)] },
  });
  const clientIds = { pem: 'e2e-pkj-pem', kms: 'e2e-pkj-kms' };
  await op.setKeyClient({ clientId: clientIds.pem, jwks: keys.pkjPem });
  await op.setKeyClient({ clientId: clientIds.kms, jwks: keys.pkjKms });
  const jwks = createRemoteJWKSet(new URL(op.jwksUrl));
  return {
    tokenUrl: op.tokenUrl,
    clientIds,
    bearerClient: OIDC_BEARER_CLIENT,
    setClientKeys: (clientId, keySet) => op.setKeyClient({ clientId, jwks: keySet }),
    setTrustedKeys: async (issuer, keySet) => op.setTrust(trust(issuer, keySet)),
    async expectToken(token, expected) {
      const { payload } = await jwtVerify(token, jwks, { issuer: op.issuer });
      expect(payload).toMatchObject({
        client_id: expected.clientId,
        scope: expected.scope,
        ...(expected.grantIssuer ? { jwt_bearer: { iss: expected.grantIssuer, sub: SUBJECT } } : {}),
      });
    },
    acceptedAssertions: op.acceptedAssertions,
    log: () => '(oidc-provider keeps no log)',
    concurrency: 4,
    close: () => op.close(),
  };
}

async function hydraServer(keys: InitialKeys): Promise<KeyAuthServer> {
  const hydra = await startHydra({ accessTokenTtlSeconds: 3600 });
  const clientOf = async (client: Record<string, unknown>) => String((await hydra.createClient(client)).client_id);
  const keyClient = (jwks: Jwks) =>
    clientOf({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks,
      scope: SCOPES.join(' '),
    });
  const clientIds = { pem: await keyClient(keys.pkjPem), kms: await keyClient(keys.pkjKms) };
  const bearerClient = {
    clientId: await clientOf({
      grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
      token_endpoint_auth_method: 'client_secret_post',
      client_secret: HYDRA_BEARER_SECRET,
      scope: SCOPES.join(' '),
    }),
    clientSecret: HYDRA_BEARER_SECRET,
  };
  const trustIds = new Map<string, string>();
  const trust = async (issuer: string, jwks: Jwks) => {
    const id = await hydra.trust({ issuer, subject: SUBJECT, scope: SCOPES, jwk: jwks.keys[0] ?? {} });
    const previous = trustIds.get(issuer);
    trustIds.set(issuer, id);
    if (previous) await hydra.distrust(previous);
  };
  await trust(GRANT_ISSUERS.pem, keys.jbPem);
  await trust(GRANT_ISSUERS.kms, keys.jbKms);
  return {
    tokenUrl: hydra.tokenUrl,
    clientIds,
    bearerClient,
    setClientKeys: (clientId, jwks) => hydra.setClientJwks(clientId, jwks),
    setTrustedKeys: trust,
    async expectToken(token, expected) {
      await expect(hydra.introspect(token)).resolves.toMatchObject({
        active: true,
        client_id: expected.clientId,
        scope: expected.scope,
        sub: expected.grantIssuer ? SUBJECT : expected.clientId,
      });
    },
    log: () => hydra.logTail(),
    // Hydra on its in-memory SQLite answers concurrent token requests now and then with a 500
    // ("Unable to serialize access due to a concurrent update in another session"): a limit of
    // this test server's storage, which the rotator rightly takes as transient. One at a time here:
    // `pulumi up --parallel 1`, `refresh --concurrency 1`.
    concurrency: 1,
    close: () => hydra.close(),
  };
}

function program(
  server: KeyAuthServer,
  prefix: string,
  kmsKeys: { rsa: string; ec: string },
): pulumi.automation.PulumiFn {
  return async () => {
    const cfg = new pulumi.Config();
    const common = { prefix, recoveryWindowInDays: 0 };
    const scope = cfg.require('scope');
    const pkj = {
      kind: 'oauth2' as const,
      tokenUrl: server.tokenUrl,
      allowInsecureHttp: true,
      authMethod: 'private_key_jwt' as const,
      scope,
    };
    const jb = {
      kind: 'jwt-bearer' as const,
      tokenUrl: server.tokenUrl,
      allowInsecureHttp: true,
      subject: SUBJECT,
      scope,
      clientId: server.bearerClient.clientId,
      clientSecret: cfg.requireSecret('bearerClientSecret'),
    };
    const credentials: Record<Name, ProviderCredential> = {
      'pkj-pem': new ProviderCredential('pkj-pem', {
        ...common,
        issuer: { ...pkj, clientId: server.clientIds.pem, privateKeyPem: cfg.requireSecret('pkjKey') },
      }),
      'pkj-kms': new ProviderCredential('pkj-kms', {
        ...common,
        issuer: { ...pkj, clientId: server.clientIds.kms, kms: { keyId: kmsKeys.rsa } },
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

describe.each([
  ['oidc-provider', 'oidc', oidcServer],
  ['Ory Hydra', 'hydra', hydraServer],
] as const)('private_key_jwt and jwt-bearer credentials under the pulumi CLI against %s', (_server, tag, start) => {
  const prefix = `e2e-key-auth-${tag}/`;
  let backend: LocalBackend;
  let stack: Stack;
  let server: KeyAuthServer;
  let kms: KMSClient;
  let sm: SecretsManagerClient;
  const kmsKeys = { rsa: '', ec: '' };
  let output = '';
  const onOutput = (text: string) => {
    output += text;
  };
  const outputsSeen: string[] = [];
  const tokensSeen = new Set<string>();

  const keyOf = (name: Name): AssertionKey =>
    ({
      'pkj-pem': { privateKeyPem: KEYS.pkj },
      'pkj-kms': { kms: { keyId: kmsKeys.rsa } },
      'jb-pem': { privateKeyPem: KEYS.jb },
      'jb-kms': { kms: { keyId: kmsKeys.ec, alg: 'ES256' as const } },
    })[name];
  const jwksOf = async (key: AssertionKey) => (await assertionPublicKey(key, 'setup', kmsKeySigner(kms))).jwks as Jwks;

  async function tokenOf(name: Name): Promise<TokenRecord> {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: `${prefix}${name}/token` }));
    const record = parseTokenRecord(out.SecretString ?? '', name);
    tokensSeen.add(record.accessToken);
    return record;
  }

  /** Each credential's stored token, at `generation`, checked as the server's own with `scope`. */
  async function expectServerTokens(generation: number, scope: string): Promise<void> {
    const expected: Record<Name, { clientId: string; grantIssuer?: string }> = {
      'pkj-pem': { clientId: server.clientIds.pem },
      'pkj-kms': { clientId: server.clientIds.kms },
      'jb-pem': { clientId: server.bearerClient.clientId, grantIssuer: GRANT_ISSUERS.pem },
      'jb-kms': { clientId: server.bearerClient.clientId, grantIssuer: GRANT_ISSUERS.kms },
    };
    for (const name of NAMES) {
      const record = await tokenOf(name);
      expect(record.generation, name).toBe(generation);
      await server.expectToken(record.accessToken, { ...expected[name], scope });
    }
  }

  beforeAll(async () => {
    sm = secretsManagerClient();
    kms = new KMSClient({});
    const kmsKey = async (KeySpec: 'RSA_2048' | 'ECC_NIST_P256') =>
      (await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata?.Arn ?? '';
    [kmsKeys.rsa, kmsKeys.ec] = await Promise.all([kmsKey('RSA_2048'), kmsKey('ECC_NIST_P256'), ensureBuilt()]);
    // The server knows each credential's public key before the first `up`, as the vendor would.
    server = await start({
      pkjPem: await jwksOf(keyOf('pkj-pem')),
      pkjKms: await jwksOf(keyOf('pkj-kms')),
      jbPem: await jwksOf(keyOf('jb-pem')),
      jbKms: await jwksOf(keyOf('jb-kms')),
    });
    backend = await createLocalBackend();
    stack = await inlineStack(backend, `key-auth-${tag}`, 'dev', program(server, prefix, kmsKeys));
    await stack.setAllConfig({
      scope: { value: 'files:read' },
      pkjKey: { value: KEYS.pkj, secret: true },
      jbKey: { value: KEYS.jb, secret: true },
      bearerClientSecret: { value: server.bearerClient.clientSecret, secret: true },
    });
  });

  afterAll(async () => {
    await stack?.destroy().catch(() => undefined);
    await Promise.all([server?.close(), backend?.dispose()]);
    kms?.destroy();
    sm?.destroy();
  });

  it('creates each with a first token from the server and its public key as outputs', async () => {
    // Act
    const up = await stack.up({ onOutput, parallel: server.concurrency });
    outputsSeen.push(JSON.stringify(up.outputs));

    // Assess
    expect(up.summary.resourceChanges).toMatchObject({ create: NAMES.length + 1 });
    await expectServerTokens(1, 'files:read');
    for (const name of NAMES) {
      const { jwks, publicKeyPem } = await assertionPublicKey(keyOf(name), name, kmsKeySigner(kms));
      expect(JSON.parse(String(up.outputs[`${name}.publicJwks`]?.value)), name).toEqual(jwks);
      expect(up.outputs[`${name}.publicKeyPem`]?.value, name).toBe(publicKeyPem);
    }
    // The PEM-signed ones keep their key in the client secret; the KMS-signed ones keep none.
    const clientDocument = async (name: Name) =>
      (await sm.send(new GetSecretValueCommand({ SecretId: `${prefix}${name}/client` }))).SecretString ?? '';
    expect(JSON.parse(await clientDocument('pkj-pem')).issuer.privateKeyPem).toBe(KEYS.pkj);
    expect(await clientDocument('jb-kms')).not.toContain('PRIVATE KEY');
  });

  it('updates a scope change in place, each new token issued with the new scope', async () => {
    await stack.setConfig('scope', { value: SCOPES.join(' ') });
    const preview = await stack.preview({ onOutput });
    expect(preview.changeSummary).toEqual({ update: NAMES.length, same: 1 });

    const up = await stack.up({ onOutput, parallel: server.concurrency });
    outputsSeen.push(JSON.stringify(up.outputs));

    expect(up.summary.resourceChanges).toMatchObject({ update: NAMES.length, same: 1 });
    await expectServerTokens(2, SCOPES.join(' '));
  });

  it('updates a key change in place once the server holds only the new keys, and outputs the new public keys', async () => {
    // Prepare: the server now knows only the new keys, so only they can get a token.
    await server.setClientKeys(server.clientIds.pem, await jwksOf({ privateKeyPem: KEYS.pkjNext }));
    await server.setTrustedKeys(GRANT_ISSUERS.pem, await jwksOf({ privateKeyPem: KEYS.jbNext }));
    await stack.setAllConfig({
      pkjKey: { value: KEYS.pkjNext, secret: true },
      jbKey: { value: KEYS.jbNext, secret: true },
    });
    const before = await stack.outputs();
    const oldKey = obtainFrom(
      {
        kind: 'oauth2',
        tokenUrl: server.tokenUrl,
        allowInsecureHttp: true,
        authMethod: 'private_key_jwt',
        clientId: server.clientIds.pem,
        privateKeyPem: KEYS.pkj,
      },
      { credential: 'pkj-pem' },
    );
    await expect(oldKey).rejects.toMatchObject({ code: expect.stringMatching(/^Invalid(Credentials|Configuration)$/) });

    // Act
    const up = await stack.up({ onOutput, parallel: server.concurrency });
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
    const generations = new Map(await Promise.all(NAMES.map(async (n) => [n, (await tokenOf(n)).generation] as const)));
    const scope = SCOPES.join(' ');

    // Act
    const concurrency = String(server.concurrency);
    const run = await runCommand(['--prefix', prefix, 'refresh', '--all', '--force', '--concurrency', concurrency], {
      env: {},
    });
    output += run.stdout + run.stderr;

    // Assess
    expect(run.code, `${run.stdout}${run.stderr}\nserver log: ${server.log()}`).toBe(EXIT_CODES.ok);
    expect(run.stdout).toContain(`${NAMES.length} credentials: ${NAMES.length} refreshed, 0 skipped, 0 failed.`);
    for (const name of NAMES) expect((await tokenOf(name)).generation, name).toBe((generations.get(name) ?? 0) + 1);
    await server.expectToken((await tokenOf('pkj-pem')).accessToken, { clientId: server.clientIds.pem, scope });
    await server.expectToken((await tokenOf('pkj-kms')).accessToken, { clientId: server.clientIds.kms, scope });
    const bearer = server.bearerClient.clientId;
    await server.expectToken((await tokenOf('jb-pem')).accessToken, {
      clientId: bearer,
      grantIssuer: GRANT_ISSUERS.pem,
      scope,
    });
    await server.expectToken((await tokenOf('jb-kms')).accessToken, {
      clientId: bearer,
      grantIssuer: GRANT_ISSUERS.kms,
      scope,
    });
  });

  it('destroys them all', async () => {
    const destroy = await stack.destroy({ onOutput });
    expect(destroy.summary.result).toBe('succeeded');
    const listed = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }] }));
    expect((listed.SecretList ?? []).filter((s) => !s.DeletedDate)).toEqual([]);
  });

  it('keeps the planted keys, the tokens and the accepted assertions out of the state, the outputs and the CLI output', async () => {
    const state = await stateText(backend);
    expect(state.length).toBeGreaterThan(1000);
    expect(output).toContain('pkj-pem');
    // One token each: 4 creates, 4 scope updates, 2 key changes, 4 refreshes.
    expect(tokensSeen.size).toBe(14);
    if (server.acceptedAssertions) expect(server.acceptedAssertions).toHaveLength(14);
    const planted = [
      ...Object.values(KEYS).flatMap(privateMaterial),
      ...tokensSeen,
      ...(server.acceptedAssertions ?? []),
      server.bearerClient.clientSecret,
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
