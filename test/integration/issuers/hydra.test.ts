/**
 * The kinds that sign RFC 7523 assertions against Ory Hydra v2.3.0 on 127.0.0.1 (built by
 * scripts/setup-hydra.sh, started here): `oauth2` with `private_key_jwt` (RSA and EC PEM keys,
 * moto KMS keys signing RS256 and ES256) and `jwt-bearer` with a trust relationship (PEM and KMS). Hydra names a
 * replayed assertion `jti_known`: refused replays are transient, never a blocked credential; a key
 * Hydra does not know is InvalidCredentials. Tokens are checked by Hydra's own introspection.
 */
import { generateKeyPairSync } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blocksUntilClientChanges, isTokenRotatorError } from '../../../core/errors';
import { type AssertionKey, assertionPublicKey } from '../../../core/issuers';
import { kmsKeySigner } from '../../../core/kms-signer';
import { type RunningHydra, startHydra } from '../../../local-stack/fakes/hydra';
import { motoEndpoint } from '../../helpers/aws';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';

const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();
const RSA_PEM = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const EC_PEM = pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const OTHER_PEM = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const CI_ISSUER = 'https://ci.example.test';
const CI_KMS_ISSUER = 'https://ci-kms.example.test';
const CI_KMS_ES_ISSUER = 'https://ci-kms-es.example.test';
const JB_SECRET = 'jwt-bearer-client-secret-0123456789';

let hydra: RunningHydra;
let kms: KMSClient;
let kmsKeyId: string;
let kmsEcKeyId: string;
/** Client ids as Hydra assigned them, by role. */
const clients: Record<'rsa' | 'ec' | 'kms' | 'kmsEc' | 'bearer', string> = {
  rsa: '',
  ec: '',
  kms: '',
  kmsEc: '',
  bearer: '',
};

beforeAll(async () => {
  motoEndpoint();
  kms = new KMSClient({});
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
  kmsKeyId = KeyMetadata?.Arn ?? '';
  const ecKey = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
  kmsEcKeyId = ecKey.KeyMetadata?.Arn ?? '';
  hydra = await startHydra();
  const jwksOf = async (key: AssertionKey) => (await assertionPublicKey(key, 'setup', kmsKeySigner(kms))).jwks;
  const keyClient = async (key: AssertionKey, alg: string) =>
    String(
      (
        await hydra.createClient({
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: alg,
          jwks: await jwksOf(key),
          scope: 'files:read files:write',
        })
      ).client_id,
    );
  clients.rsa = await keyClient({ privateKeyPem: RSA_PEM }, 'RS256');
  clients.ec = await keyClient({ privateKeyPem: EC_PEM }, 'ES256');
  clients.kms = await keyClient({ kms: { keyId: kmsKeyId } }, 'RS256');
  clients.kmsEc = await keyClient({ kms: { keyId: kmsEcKeyId, alg: 'ES256' } }, 'ES256');
  clients.bearer = String(
    (
      await hydra.createClient({
        grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
        token_endpoint_auth_method: 'client_secret_post',
        client_secret: JB_SECRET,
        scope: 'files:read files:write',
      })
    ).client_id,
  );
  const [rsaJwk] = (await jwksOf({ privateKeyPem: RSA_PEM })).keys;
  const [kmsJwk] = (await jwksOf({ kms: { keyId: kmsKeyId } })).keys;
  await hydra.trust({ issuer: CI_ISSUER, subject: 'deploy-bot', scope: ['files:read'], jwk: rsaJwk ?? {} });
  await hydra.trust({ issuer: CI_KMS_ISSUER, subject: 'deploy-bot', scope: ['files:read'], jwk: kmsJwk ?? {} });
  const [kmsEcJwk] = (await jwksOf({ kms: { keyId: kmsEcKeyId, alg: 'ES256' } })).keys;
  await hydra.trust({ issuer: CI_KMS_ES_ISSUER, subject: 'deploy-bot', scope: ['files:read'], jwk: kmsEcJwk ?? {} });
}, 900_000);

afterAll(async () => {
  await hydra?.close();
});

const privateKeyJwt = (clientId: string, key: AssertionKey) => ({
  kind: 'oauth2',
  tokenUrl: hydra.tokenUrl,
  allowInsecureHttp: true,
  authMethod: 'private_key_jwt',
  clientId,
  scope: 'files:read',
  ...key,
});
const jwtBearer = (issuer: string, key: AssertionKey) => ({
  kind: 'jwt-bearer',
  tokenUrl: hydra.tokenUrl,
  allowInsecureHttp: true,
  issuer,
  subject: 'deploy-bot',
  scope: 'files:read',
  clientId: clients.bearer,
  clientSecret: JB_SECRET,
  ...key,
});

/** A network path that always sends the first request body it carried: every assertion after the first is a replay. */
function replayingFetch(): { fetch: typeof fetch; statuses: number[] } {
  let first: RequestInit['body'];
  const statuses: number[] = [];
  const replaying = (async (input: string | URL | Request, init?: RequestInit) => {
    first ??= init?.body;
    const answer = await fetch(input, { ...init, body: first });
    statuses.push(answer.status);
    return answer;
  }) as typeof fetch;
  return { fetch: replaying, statuses };
}

describe('oauth2 private_key_jwt against Ory Hydra', () => {
  it.each([
    ['an RSA PEM (RS256)', 'rsa', () => ({ privateKeyPem: RSA_PEM })],
    ['an EC P-256 PEM (ES256)', 'ec', () => ({ privateKeyPem: EC_PEM })],
    ['a KMS key (RS256)', 'kms', () => ({ kms: { keyId: kmsKeyId } })],
    ['a KMS ECC_NIST_P256 key (ES256)', 'kmsEc', () => ({ kms: { keyId: kmsEcKeyId, alg: 'ES256' as const } })],
  ] as const)('obtains a token for a client whose key is %s', async (_what, role, key) => {
    // Act
    const token = await obtainFrom(privateKeyJwt(clients[role], key()), {
      credential: `hydra-${role}`,
      keySigner: kmsKeySigner(kms),
    });
    // Assess
    const info = await hydra.introspect(token.accessToken);
    expect(info).toMatchObject({ active: true, client_id: clients[role], scope: 'files:read' });
    expect(token.expiresAt.getTime()).toBeLessThanOrEqual(Number(info.exp) * 1000);
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBeGreaterThan(3500_000);
  });

  it('classifies a wrong key under the registered kid as InvalidCredentials', async () => {
    const [registered] = (await assertionPublicKey({ privateKeyPem: RSA_PEM }, 'hydra-rsa')).jwks.keys;
    const wrongKey = { privateKeyPem: OTHER_PEM, keyId: registered?.kid };
    const error = obtainFrom(privateKeyJwt(clients.rsa, wrongKey), { credential: 'hydra-rsa' });
    await expect(error).rejects.toMatchObject({ code: 'InvalidCredentials', reason: 'invalid_client' });
  });

  it('fails permanently, quoting the kid, for a key whose kid is not registered (Hydra answers invalid_request)', async () => {
    const error = await caught(
      obtainFrom(privateKeyJwt(clients.rsa, { privateKeyPem: OTHER_PEM }), {
        credential: 'hydra-rsa',
      }),
    );
    expect(error).toMatchObject({ code: 'InvalidConfiguration', transient: false, reason: 'invalid_request' });
    expect(blocksUntilClientChanges(isTokenRotatorError(error) ? error.code : undefined)).toBe(true);
  });

  it('reports a replayed client assertion, which Hydra refuses as jti_known, as transient', async () => {
    // Prepare: the first request gets a token; every later one carries that same assertion.
    const { fetch: replaying, statuses } = replayingFetch();
    const config = privateKeyJwt(clients.rsa, { privateKeyPem: RSA_PEM });
    await obtainFrom(config, { credential: 'hydra-rsa', fetch: replaying });
    // Act
    const error = await caught(obtainFrom(config, { credential: 'hydra-rsa', fetch: replaying }));
    // Assess
    expect(error).toMatchObject({ code: 'IssuerUnavailable', transient: true, reason: 'jti_known' });
    expect(blocksUntilClientChanges(isTokenRotatorError(error) ? error.code : undefined)).toBe(false);
    expect(statuses).toEqual([200, 400, 400]);
  });

  it('still obtains a token when the first request is delivered twice', async () => {
    const statuses: number[] = [];
    const twice = (async (input: string | URL | Request, init?: RequestInit) => {
      if (statuses.length === 0) {
        const lost = await fetch(input, init);
        statuses.push(lost.status);
        await lost.arrayBuffer();
      }
      const answer = await fetch(input, init);
      statuses.push(answer.status);
      return answer;
    }) as typeof fetch;
    const token = await obtainFrom(privateKeyJwt(clients.ec, { privateKeyPem: EC_PEM }), {
      credential: 'hydra-ec',
      fetch: twice,
    });
    expect(statuses).toEqual([200, 400, 200]);
    await expect(hydra.introspect(token.accessToken)).resolves.toMatchObject({ active: true });
  });
});

describe('jwt-bearer against Ory Hydra (a trust relationship per issuer)', () => {
  it.each([
    ['a PEM key', CI_ISSUER, () => ({ privateKeyPem: RSA_PEM })],
    ['a KMS key', CI_KMS_ISSUER, () => ({ kms: { keyId: kmsKeyId } })],
    [
      'a KMS ECC_NIST_P256 key (ES256)',
      CI_KMS_ES_ISSUER,
      () => ({ kms: { keyId: kmsEcKeyId, alg: 'ES256' as const } }),
    ],
  ])('obtains a token for the trusted subject, signed with %s', async (_what, issuer, key) => {
    const token = await obtainFrom(jwtBearer(issuer, key()), { credential: 'hydra-jb', keySigner: kmsKeySigner(kms) });
    const info = await hydra.introspect(token.accessToken);
    expect(info).toMatchObject({ active: true, sub: 'deploy-bot', client_id: clients.bearer, scope: 'files:read' });
  });

  it('classifies an assertion signed by a key the trust does not hold as InvalidCredentials', async () => {
    const error = obtainFrom(jwtBearer(CI_ISSUER, { privateKeyPem: OTHER_PEM }), { credential: 'hydra-jb' });
    await expect(error).rejects.toMatchObject({ code: 'InvalidCredentials' });
  });

  it('reports a replayed grant assertion as transient', async () => {
    const { fetch: replaying, statuses } = replayingFetch();
    const config = jwtBearer(CI_ISSUER, { privateKeyPem: RSA_PEM });
    await obtainFrom(config, { credential: 'hydra-jb', fetch: replaying });
    const error = await caught(obtainFrom(config, { credential: 'hydra-jb', fetch: replaying }));
    expect(error).toMatchObject({ code: 'IssuerUnavailable', transient: true, reason: 'jti_known' });
    expect(statuses).toEqual([200, 400, 400]);
  });
});
