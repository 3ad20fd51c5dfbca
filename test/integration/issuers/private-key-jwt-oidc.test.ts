/**
 * `oauth2` with `private_key_jwt` against a real authorization server (oidc-provider on
 * 127.0.0.1): clients whose keys are an RSA PEM (RS256), an EC P-256 PEM (ES256) and a KMS key
 * (moto, RS256) obtain tokens; a key the server does not know is InvalidCredentials; a request
 * delivered twice (its assertion replayed, refused by the server) still ends with a token; and
 * the provider creates and updates such a credential with the public key as its output, and the
 * rotator refreshes it, signing with the KMS key.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertionPublicKey } from '../../../core/issuers';
import { kmsKeySigner } from '../../../core/kms-signer';
import { readToken } from '../../../core/store';
import { createHandler } from '../../../lambda';
import { type RunningOidcProvider, startOidcProvider } from '../../../local-stack/fakes/oidc';
import { create, update } from '../../../provider/runtime';
import { motoEndpoint, secretsManagerClient } from '../../helpers/aws';
import { obtainFrom } from '../../helpers/issuers';

const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();
const RSA_PEM = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const EC_PEM = pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const OTHER_PEM = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const PREFIX = `it-pkj-${randomUUID().slice(0, 8)}/`;

let op: RunningOidcProvider;
let kms: KMSClient;
let kmsKeyId: string;

beforeAll(async () => {
  motoEndpoint();
  kms = new KMSClient({});
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
  kmsKeyId = KeyMetadata?.Arn ?? '';
  const jwksOf = async (key: { privateKeyPem?: string; kms?: { keyId: string } }) =>
    (await assertionPublicKey(key, 'setup', kmsKeySigner(kms))).jwks;
  op = await startOidcProvider({
    accessTokenTtlSeconds: 3600,
    keyClients: [
      { clientId: 'pkj-rsa', jwks: await jwksOf({ privateKeyPem: RSA_PEM }) },
      { clientId: 'pkj-ec', jwks: await jwksOf({ privateKeyPem: EC_PEM }) },
      { clientId: 'pkj-kms', jwks: await jwksOf({ kms: { keyId: kmsKeyId } }) },
    ],
  });
});
afterAll(async () => {
  await op?.close();
});

const config = (clientId: string, key: Record<string, unknown>) => ({
  kind: 'oauth2',
  tokenUrl: op.tokenUrl,
  allowInsecureHttp: true,
  authMethod: 'private_key_jwt',
  clientId,
  scope: 'files:read',
  ...key,
});
const verify = (token: string) => jwtVerify(token, createRemoteJWKSet(new URL(op.jwksUrl)), { issuer: op.issuer });

describe('oauth2 private_key_jwt against oidc-provider', () => {
  it.each([
    ['an RSA PEM (RS256)', 'pkj-rsa', () => ({ privateKeyPem: RSA_PEM })],
    ['an EC P-256 PEM (ES256)', 'pkj-ec', () => ({ privateKeyPem: EC_PEM })],
    ['a KMS key (RS256)', 'pkj-kms', () => ({ kms: { keyId: kmsKeyId } })],
  ])('obtains a token for a client whose key is %s', async (_what, clientId, key) => {
    // Act
    const token = await obtainFrom(config(clientId, key()), { credential: clientId, keySigner: kmsKeySigner(kms) });
    // Assess
    const { payload } = await verify(token.accessToken);
    expect(payload).toMatchObject({ client_id: clientId, scope: 'files:read' });
    expect(token.expiresAt.getTime()).toBeLessThanOrEqual((payload.exp ?? 0) * 1000);
  });

  it('classifies a key the server does not know as InvalidCredentials', async () => {
    const error = obtainFrom(config('pkj-rsa', { privateKeyPem: OTHER_PEM }), { credential: 'pkj-rsa' });
    await expect(error).rejects.toMatchObject({ code: 'InvalidCredentials', reason: 'invalid_client' });
  });

  it('classifies a KMS key that is not the registered one as InvalidCredentials', async () => {
    const error = obtainFrom(config('pkj-rsa', { kms: { keyId: kmsKeyId } }), {
      credential: 'pkj-rsa',
      keySigner: kmsKeySigner(kms),
    });
    await expect(error).rejects.toMatchObject({ code: 'InvalidCredentials' });
  });

  it('still obtains a token when a request is delivered twice and the server refuses the replayed assertion', async () => {
    // Prepare: a network path that delivers the first request twice and hands back the second
    // answer (as a retrying proxy does after a lost reply). oidc-provider refuses the replay.
    const answers: number[] = [];
    const twice = (async (input: string | URL | Request, init?: RequestInit) => {
      if (answers.length === 0) {
        const lost = await fetch(input, init);
        answers.push(lost.status);
        await lost.arrayBuffer();
      }
      const answer = await fetch(input, init);
      answers.push(answer.status);
      return answer;
    }) as typeof fetch;
    // Act
    const token = await obtainFrom(config('pkj-rsa', { privateKeyPem: RSA_PEM }), {
      credential: 'pkj-rsa',
      fetch: twice,
    });
    // Assess: accepted (answer lost), replay refused, a fresh assertion accepted.
    expect(answers).toEqual([200, 401, 200]);
    await expect(verify(token.accessToken)).resolves.toBeTruthy();
  });
});

describe('ProviderCredential with private_key_jwt (moto, oidc-provider)', () => {
  it('creates with a PEM key, moves to a KMS key in place (each public key an output, PEM and JWKS; no PEM stored), and the rotator refreshes it', async () => {
    // Prepare
    const sm = secretsManagerClient();
    const name = `pkj-${randomUUID().slice(0, 8)}`;
    const props = (issuer: Record<string, unknown>) => ({ name, prefix: PREFIX, issuer, codeVersion: '0.1.0' });
    // Act
    const created = await create(props(config('pkj-rsa', { privateKeyPem: RSA_PEM })), { secretsManager: sm, kms });
    const pkjKms = config('pkj-kms', { kms: { keyId: kmsKeyId } });
    const { outs } = await update(created.outs as unknown as Record<string, unknown>, props(pkjKms), {
      secretsManager: sm,
      kms,
    });
    // Assess
    expect(created.outs.publicKeyPem).toBe((await assertionPublicKey({ privateKeyPem: RSA_PEM }, name)).publicKeyPem);
    expect(outs.publicKeyPem).toBe(await kmsKeySigner(kms).publicKeyPem(kmsKeyId, name));
    // The JWKS outputs are the ones the server was given for each client.
    expect(JSON.parse(created.outs.publicJwks ?? '')).toEqual(
      (await assertionPublicKey({ privateKeyPem: RSA_PEM }, name)).jwks,
    );
    expect(JSON.parse(outs.publicJwks ?? '')).toEqual(
      (await assertionPublicKey({ kms: { keyId: kmsKeyId } }, name, kmsKeySigner(kms))).jwks,
    );
    const record = await readToken({ client: sm, prefix: PREFIX }, name);
    expect(record?.generation).toBe(2);
    const { payload } = await verify(record?.accessToken ?? '');
    expect(payload.client_id).toBe('pkj-kms');
    const client = await sm.send(new GetSecretValueCommand({ SecretId: outs.clientSecretArn }));
    expect(client.SecretString).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(outs)).not.toContain('PRIVATE KEY');

    // Act: the rotator refreshes it (a forced refresh, on the real clock), signing through KMS.
    const handler = createHandler({
      secretsManager: sm,
      kms,
      env: { TOKEN_ROTATOR_PREFIX: PREFIX },
      logger: new Logger({ serviceName: 'token-rotator', logLevel: 'SILENT' }),
    });
    const context = { getRemainingTimeInMillis: () => 60_000, functionName: 'token-rotator' };
    const result = await handler({ credentials: [name], force: true }, context);
    // Assess
    expect(result).toMatchObject({ results: [{ credential: name, ok: true, generation: 3 }] });
    const rotated = await readToken({ client: sm, prefix: PREFIX }, name);
    expect(rotated?.generation).toBe(3);
    expect(rotated?.accessToken).not.toBe(record?.accessToken);
    expect((await verify(rotated?.accessToken ?? '')).payload.client_id).toBe('pkj-kms');
  });
});
