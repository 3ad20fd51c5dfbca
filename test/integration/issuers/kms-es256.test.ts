/**
 * ES256 through KMS against moto's KMS (an ECC_NIST_P256 key, ECDSA_SHA_256): the assertion's
 * signature, which KMS answers DER-encoded, is R || S in the JWS and verifies with jose against the
 * public key KMS's own GetPublicKey gives; and oidc-provider on 127.0.0.1 accepts it as a
 * `private_key_jwt` client assertion, through the provider's create and the rotator Lambda's
 * handler as well (the Hydra case is in hydra.test.ts).
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertionPublicKey } from '../../../core/issuers';
import { signAssertion } from '../../../core/issuers/assertion';
import { kmsKeySigner } from '../../../core/kms-signer';
import { readToken, updateClientDocument } from '../../../core/store';
import { createHandler } from '../../../lambda';
import { type RunningOidcProvider, startOidcProvider } from '../../../local-stack/fakes/oidc';
import { create } from '../../../provider/runtime';
import { motoEndpoint, secretsManagerClient } from '../../helpers/aws';
import { obtainFrom } from '../../helpers/issuers';

let kms: KMSClient;
let ecKeyId: string;
let op: RunningOidcProvider;

beforeAll(async () => {
  motoEndpoint();
  kms = new KMSClient({});
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
  ecKeyId = KeyMetadata?.Arn ?? '';
  const key = { kms: { keyId: ecKeyId, alg: 'ES256' as const } };
  op = await startOidcProvider({
    accessTokenTtlSeconds: 3600,
    keyClients: [{ clientId: 'pkj-kms-es', jwks: (await assertionPublicKey(key, 'setup', kmsKeySigner(kms))).jwks }],
  });
});
afterAll(async () => {
  await op?.close();
  kms?.destroy();
});

describe('ES256 assertions signed by a moto KMS key', () => {
  it('verify with jose against the public key of KMS GetPublicKey, over many signatures', async () => {
    // Prepare: the key's public half as KMS itself gives it, not through our signer.
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: ecKeyId }));
    const publicKey = createPublicKey({ key: Buffer.from(PublicKey ?? []), format: 'der', type: 'spki' });
    const claims = { iss: 'svc', sub: 'svc', aud: 'https://auth.example.test/token' };
    const context = { credential: 'kms-es', keySigner: kmsKeySigner(kms) };
    // Act: enough signatures that some carry an R or S shorter than 32 bytes in DER.
    const assertions = await Promise.all(
      Array.from({ length: 40 }, () => signAssertion({ kms: { keyId: ecKeyId, alg: 'ES256' } }, claims, context)),
    );
    // Assess
    for (const assertion of assertions) {
      expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'ES256', kid: ecKeyId });
      expect(Buffer.from(assertion.split('.')[2] ?? '', 'base64url')).toHaveLength(64);
      const { payload } = await jwtVerify(assertion, publicKey, { algorithms: ['ES256'], audience: claims.aud });
      expect(payload).toMatchObject({ iss: 'svc', sub: 'svc' });
    }
    expect(new Set(assertions.map((a) => decodeProtectedHeader(a).kid)).size).toBe(1);
  });

  it('obtains a token from oidc-provider with an ES256 client assertion signed in KMS', async () => {
    const config = {
      kind: 'oauth2',
      tokenUrl: op.tokenUrl,
      allowInsecureHttp: true,
      authMethod: 'private_key_jwt',
      clientId: 'pkj-kms-es',
      scope: 'files:read',
      kms: { keyId: ecKeyId, alg: 'ES256' },
    };
    const token = await obtainFrom(config, { credential: 'pkj-kms-es', keySigner: kmsKeySigner(kms) });
    const { payload } = await jwtVerify(token.accessToken, createRemoteJWKSet(new URL(op.jwksUrl)), {
      issuer: op.issuer,
    });
    expect(payload).toMatchObject({ client_id: 'pkj-kms-es', scope: 'files:read' });
  });

  it('is created by the provider with its JWKS output, and refreshed by the rotator handler signing ES256 in KMS', async () => {
    // Prepare
    const sm = secretsManagerClient();
    const prefix = `it-es256-${randomUUID().slice(0, 8)}/`;
    const name = 'pkj-kms-es';
    const issuer = {
      kind: 'oauth2' as const,
      tokenUrl: op.tokenUrl,
      allowInsecureHttp: true,
      authMethod: 'private_key_jwt' as const,
      clientId: 'pkj-kms-es',
      kms: { keyId: ecKeyId, alg: 'ES256' as const },
    };
    // Act
    const created = await create({ name, prefix, issuer, codeVersion: '0.1.0' }, { secretsManager: sm, kms });
    // A changed client document (a scope now asked for) lets a forced refresh past the 10-minute floor.
    const store = { client: sm, prefix };
    await updateClientDocument(store, name, { version: 1, issuer: { ...issuer, scope: 'files:read' }, policy: {} });
    const handler = createHandler({
      secretsManager: sm,
      kms,
      env: { TOKEN_ROTATOR_PREFIX: prefix },
      logger: new Logger({ serviceName: 'token-rotator', logLevel: 'SILENT' }),
    });
    const context = { getRemainingTimeInMillis: () => 60_000, functionName: 'token-rotator' };
    const result = await handler({ credentials: [name], force: true }, context);
    // Assess
    expect(JSON.parse(created.outs.publicJwks ?? '').keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(result).toMatchObject({ results: [{ credential: name, ok: true, generation: 2 }] });
    const record = await readToken(store, name);
    const { payload } = await jwtVerify(record?.accessToken ?? '', createRemoteJWKSet(new URL(op.jwksUrl)));
    expect(payload).toMatchObject({ client_id: 'pkj-kms-es', scope: 'files:read' });
  });

  it('refuses the ECC key for RS256, and an RSA key for ES256, naming issuer.kms.keyId', async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
    const signer = kmsKeySigner(kms);
    await expect(assertionPublicKey({ kms: { keyId: ecKeyId } }, 'kms-es', signer)).rejects.toMatchObject({
      code: 'InvalidConfiguration',
      field: 'issuer.kms.keyId',
    });
    await expect(
      assertionPublicKey({ kms: { keyId: KeyMetadata?.Arn ?? '', alg: 'ES256' } }, 'kms-es', signer),
    ).rejects.toMatchObject({ code: 'InvalidConfiguration', field: 'issuer.kms.keyId' });
  });
});
