/**
 * The `jwt-bearer` kind against oidc-provider on 127.0.0.1, whose JWT bearer grant is the one
 * local-stack/fakes/oidc.ts registers through oidc-provider's `registerGrantType` (it verifies the
 * assertion with jose against the trusted issuer's JWKS and issues the token through oidc-provider's
 * ClientCredentials model). Signed with an RSA PEM, an EC PEM, and moto KMS keys (RS256 and
 * ES256); the tokens are the server's own JWTs, checked against its JWKS. A key the trust does not
 * hold, a subject it does not name, another audience and a scope it does not grant are refused for good; a request
 * delivered twice still ends with a token.
 */
import { generateKeyPairSync } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AssertionKey, assertionPublicKey } from '../../../core/issuers';
import { kmsKeySigner } from '../../../core/kms-signer';
import { OIDC_BEARER_CLIENT, type RunningOidcProvider, startOidcProvider } from '../../../local-stack/fakes/oidc';
import { motoEndpoint } from '../../helpers/aws';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';

const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();
const RSA_PEM = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const EC_PEM = pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const OTHER_PEM = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const ISSUERS = {
  rsa: 'https://ci-rsa.example.test',
  ec: 'https://ci-ec.example.test',
  kms: 'https://ci-kms.example.test',
  kmsEs: 'https://ci-kms-es.example.test',
};

let op: RunningOidcProvider;
let kms: KMSClient;
const keys: Record<keyof typeof ISSUERS, AssertionKey> = { rsa: {}, ec: {}, kms: {}, kmsEs: {} };

beforeAll(async () => {
  motoEndpoint();
  kms = new KMSClient({});
  const keyOf = async (KeySpec: 'RSA_2048' | 'ECC_NIST_P256') =>
    (await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata?.Arn ?? '';
  keys.rsa = { privateKeyPem: RSA_PEM };
  keys.ec = { privateKeyPem: EC_PEM };
  keys.kms = { kms: { keyId: await keyOf('RSA_2048') } };
  keys.kmsEs = { kms: { keyId: await keyOf('ECC_NIST_P256'), alg: 'ES256' } };
  const trusts = await Promise.all(
    (Object.keys(ISSUERS) as (keyof typeof ISSUERS)[]).map(async (role) => ({
      issuer: ISSUERS[role],
      subject: 'deploy-bot',
      scope: ['files:read'],
      jwks: (await assertionPublicKey(keys[role], 'setup', kmsKeySigner(kms))).jwks,
    })),
  );
  op = await startOidcProvider({ accessTokenTtlSeconds: 3600, jwtBearer: { trusts } });
});
afterAll(async () => {
  await op?.close();
  kms?.destroy();
});

const jwtBearer = (issuer: string, key: AssertionKey, overrides: Record<string, unknown> = {}) => ({
  kind: 'jwt-bearer',
  tokenUrl: op.tokenUrl,
  allowInsecureHttp: true,
  issuer,
  subject: 'deploy-bot',
  scope: 'files:read',
  clientId: OIDC_BEARER_CLIENT.clientId,
  clientSecret: OIDC_BEARER_CLIENT.clientSecret,
  ...key,
  ...overrides,
});
const verify = (token: string) => jwtVerify(token, createRemoteJWKSet(new URL(op.jwksUrl)), { issuer: op.issuer });

describe('jwt-bearer against oidc-provider (a registered RFC 7523 grant)', () => {
  it.each([
    ['an RSA PEM (RS256)', 'rsa'],
    ['an EC P-256 PEM (ES256)', 'ec'],
    ['a KMS RSA key (RS256)', 'kms'],
    ['a KMS ECC_NIST_P256 key (ES256)', 'kmsEs'],
  ] as const)('obtains a token for the trusted subject, signed with %s', async (_what, role) => {
    // Act
    const token = await obtainFrom(jwtBearer(ISSUERS[role], keys[role]), {
      credential: `jb-${role}`,
      keySigner: kmsKeySigner(kms),
    });
    // Assess: the server's own access token, for this client, issuer, subject and scope.
    const { payload } = await verify(token.accessToken);
    expect(payload).toMatchObject({
      client_id: OIDC_BEARER_CLIENT.clientId,
      scope: 'files:read',
      jwt_bearer: { iss: ISSUERS[role], sub: 'deploy-bot' },
    });
    expect(token.expiresAt.getTime()).toBeLessThanOrEqual((payload.exp ?? 0) * 1000);
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBeGreaterThan(3500_000);
  });

  it('classifies an assertion signed by a key the trust does not hold as InvalidCredentials', async () => {
    const error = await caught(
      obtainFrom(jwtBearer(ISSUERS.rsa, { privateKeyPem: OTHER_PEM }), { credential: 'jb-rsa' }),
    );
    expect(error).toMatchObject({ code: 'InvalidCredentials', reason: 'invalid_grant' });
  });

  it('classifies a subject the trust does not name as InvalidCredentials', async () => {
    const error = await caught(
      obtainFrom(jwtBearer(ISSUERS.rsa, keys.rsa, { subject: 'someone-else' }), { credential: 'jb-rsa' }),
    );
    expect(error).toMatchObject({ code: 'InvalidCredentials', reason: 'invalid_grant' });
  });

  it('classifies an assertion for another audience as InvalidCredentials', async () => {
    const config = jwtBearer(ISSUERS.rsa, keys.rsa, { audience: 'https://elsewhere.example.test/token' });
    const error = await caught(obtainFrom(config, { credential: 'jb-rsa' }));
    expect(error).toMatchObject({ code: 'InvalidCredentials', reason: 'invalid_grant' });
  });

  it('refuses a scope the trust does not grant, without blaming the key', async () => {
    const error = await caught(
      obtainFrom(jwtBearer(ISSUERS.rsa, keys.rsa, { scope: 'files:write' }), { credential: 'jb-rsa' }),
    );
    expect(error).toMatchObject({ reason: 'invalid_scope', transient: false });
  });

  it('still obtains a token when the first request is delivered twice and the replayed jti is refused', async () => {
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
    const token = await obtainFrom(jwtBearer(ISSUERS.ec, keys.ec), { credential: 'jb-ec', fetch: twice });
    expect(statuses).toEqual([200, 400, 200]);
    await expect(verify(token.accessToken)).resolves.toBeTruthy();
  });
});
