/**
 * `oauth2` with `authMethod: 'private_key_jwt'` (RFC 7523 §2.2): the request shape, the client
 * assertion's claims and header, PEM (RS256, ES256) and KMS signing, and how the server's refusals
 * are classified (a replay is transient, a wrong key is InvalidCredentials), with the assertion
 * and the key never in an error.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { KMSClient, KMSServiceException, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { blocksUntilClientChanges } from '../../../core/errors';
import { assertionPublicKey, CLIENT_ASSERTION_TYPE } from '../../../core/issuers';
import { kmsKeySigner } from '../../../core/kms-signer';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse, NOW_SECONDS, type RecordedCall } from './fake-fetch';

const TOKEN_URL = 'https://auth.example.com/oauth2/token';
const KMS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PEM = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const EC_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const kms = mockClient(KMSClient);

const config = (overrides: Record<string, unknown> = {}) => ({
  kind: 'oauth2',
  tokenUrl: TOKEN_URL,
  clientId: 'svc-client',
  authMethod: 'private_key_jwt',
  privateKeyPem: RSA_PEM,
  ...overrides,
});
const ok = () => jsonResponse({ access_token: 'opaque-access-token', expires_in: 600, token_type: 'Bearer' });
const form = (call: RecordedCall | undefined) => Object.fromEntries(new URLSearchParams(call?.body));
const assertionOf = (call: RecordedCall | undefined) => form(call).client_assertion ?? '';

beforeEach(() => {
  kms.reset();
});

describe('oauth2 issuer with private_key_jwt', () => {
  it('sends a client assertion instead of a secret, with iss = sub = client id, aud = token URL, short life and a jti', async () => {
    // Prepare
    const { fetch, calls } = fakeFetch(ok());
    // Act
    const token = await obtainFrom(config({ scope: 'files:read' }), { credential: 'pkj', fetch, now: frozenNow });
    // Assess
    expect(token.accessToken).toBe('opaque-access-token');
    const sent = form(calls[0]);
    expect(Object.keys(sent).sort()).toEqual([
      'client_assertion',
      'client_assertion_type',
      'client_id',
      'grant_type',
      'scope',
    ]);
    expect(sent).toMatchObject({
      grant_type: 'client_credentials',
      client_id: 'svc-client',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
    });
    expect(calls[0]?.headers.has('authorization')).toBe(false);
    const { jwks } = await assertionPublicKey({ privateKeyPem: RSA_PEM }, 'pkj');
    const { payload, protectedHeader } = await jwtVerify(assertionOf(calls[0]), createLocalJWKSet(jwks), {
      currentDate: frozenNow(),
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: jwks.keys[0]?.kid });
    expect(payload).toEqual({
      iss: 'svc-client',
      sub: 'svc-client',
      aud: TOKEN_URL,
      iat: NOW_SECONDS,
      exp: NOW_SECONDS + 120,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('signs ES256 with an EC P-256 key, and uses the configured kid and assertion audience', async () => {
    const { fetch, calls } = fakeFetch(ok());
    await obtainFrom(
      config({ privateKeyPem: EC_PEM, keyId: 'client-key-2026', assertionAudience: 'https://auth.example.com/' }),
      { credential: 'pkj', fetch, now: frozenNow },
    );
    const { jwks } = await assertionPublicKey({ privateKeyPem: EC_PEM, keyId: 'client-key-2026' }, 'pkj');
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: 'client-key-2026', use: 'sig' });
    const { payload, protectedHeader } = await jwtVerify(assertionOf(calls[0]), createLocalJWKSet(jwks), {
      currentDate: frozenNow(),
    });
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'client-key-2026' });
    expect(payload.aud).toBe('https://auth.example.com/');
  });

  it('puts a new jti in every assertion', async () => {
    const { fetch, calls } = fakeFetch(ok());
    for (let i = 0; i < 3; i++) await obtainFrom(config(), { credential: 'pkj', fetch, now: frozenNow });
    const jtis = calls.map(
      (call) => JSON.parse(Buffer.from(assertionOf(call).split('.')[1] ?? '', 'base64url').toString()).jti,
    );
    expect(new Set(jtis).size).toBe(3);
  });

  it('signs RS256 by a KMS key, with the key id as kid unless one is configured', async () => {
    // Prepare
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array; SigningAlgorithm: string }) => ({
      KeyId: KMS_KEY,
      Signature: new Uint8Array(sign('sha256', Buffer.from(input.Message), rsa.privateKey)),
      SigningAlgorithm: input.SigningAlgorithm,
    }));
    const { fetch, calls } = fakeFetch(ok());
    // Act
    await obtainFrom(config({ privateKeyPem: undefined, kms: { keyId: KMS_KEY } }), {
      credential: 'pkj-kms',
      fetch,
      now: frozenNow,
      keySigner: kmsKeySigner(kms as unknown as KMSClient),
    });
    // Assess
    const assertion = assertionOf(calls[0]);
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'RS256', typ: 'JWT', kid: KMS_KEY });
    const { jwks } = await assertionPublicKey({ privateKeyPem: RSA_PEM, keyId: KMS_KEY }, 'pkj-kms');
    await expect(jwtVerify(assertion, createLocalJWKSet(jwks), { currentDate: frozenNow() })).resolves.toBeTruthy();
    expect(kms.commandCalls(SignCommand)[0]?.args[0].input).toMatchObject({
      KeyId: KMS_KEY,
      SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
    });
  });

  it('treats KMS throttling as transient, without asking the token endpoint', async () => {
    kms
      .on(SignCommand)
      .rejects(
        new KMSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      );
    const { fetch, calls } = fakeFetch(ok());
    const error = await caught(
      obtainFrom(config({ privateKeyPem: undefined, kms: { keyId: KMS_KEY } }), {
        credential: 'pkj-kms',
        fetch,
        keySigner: kmsKeySigner(kms as unknown as KMSClient),
      }),
    );
    expect(error).toMatchObject({ code: 'IssuerUnavailable', transient: true, reason: 'kms-unavailable' });
    expect(calls).toHaveLength(0);
  });
});

describe('private_key_jwt refusals', () => {
  it('gets through with a fresh assertion when the server refuses a replayed jti (jti_known)', async () => {
    const { fetch, calls } = fakeFetch(
      jsonResponse({ error: 'jti_known', error_description: 'The jti was already used.' }, 400),
      ok(),
    );
    const token = await obtainFrom(config(), { credential: 'pkj', fetch, now: frozenNow });
    expect(token.accessToken).toBe('opaque-access-token');
    expect(calls).toHaveLength(2);
    expect(assertionOf(calls[1])).not.toBe(assertionOf(calls[0]));
  });

  it('reports a replay refused twice as transient, not as a blocked credential', async () => {
    const { fetch, calls } = fakeFetch(jsonResponse({ error: 'jti_known' }, 400));
    const error = await caught(obtainFrom(config(), { credential: 'pkj', fetch, now: frozenNow }));
    expect(error).toMatchObject({ code: 'IssuerUnavailable', transient: true, reason: 'jti_known' });
    expect(blocksUntilClientChanges((error as { code?: string }).code)).toBe(false);
    expect(calls).toHaveLength(2);
  });

  it('gets through when a server that does not name replays (invalid_client) accepts the fresh assertion', async () => {
    const { fetch, calls } = fakeFetch(
      jsonResponse({ error: 'invalid_client', error_description: 'client authentication failed' }, 401),
      ok(),
    );
    await expect(obtainFrom(config(), { credential: 'pkj', fetch, now: frozenNow })).resolves.toMatchObject({
      accessToken: 'opaque-access-token',
    });
    expect(calls).toHaveLength(2);
  });

  it('classifies a key the server refuses twice as InvalidCredentials, after exactly two requests', async () => {
    const { fetch, calls } = fakeFetch(jsonResponse({ error: 'invalid_client' }, 401));
    const error = await caught(obtainFrom(config(), { credential: 'pkj', fetch, now: frozenNow }));
    expect(error).toMatchObject({ code: 'InvalidCredentials', transient: false, reason: 'invalid_client' });
    expect(calls).toHaveLength(2);
  });

  it('does not retry other refusals (a bad scope)', async () => {
    const { fetch, calls } = fakeFetch(jsonResponse({ error: 'invalid_scope' }, 400));
    const error = await caught(obtainFrom(config(), { credential: 'pkj', fetch, now: frozenNow }));
    expect(error).toMatchObject({ code: 'InvalidConfiguration', reason: 'invalid_scope' });
    expect(calls).toHaveLength(1);
  });

  it('never quotes the assertion or the key, even when the server echoes them', async () => {
    // Prepare: a server that echoes the request (assertion included) and the key into its error.
    const echo = (call: RecordedCall) =>
      jsonResponse(
        {
          error: 'invalid_client',
          error_description: `bad ${assertionOf(call)} from ${call.body} with ${RSA_PEM}`,
          hint: assertionOf(call).split('.').slice(1).join('.'),
        },
        401,
      );
    const { fetch, calls } = fakeFetch(echo);
    // Act
    const error = await caught(obtainFrom(config(), { credential: 'pkj', fetch, now: frozenNow }));
    // Assess
    expect(error).toMatchObject({ code: 'InvalidCredentials' });
    const text = [error.message, JSON.stringify(error), String(error.cause)].join(' ');
    for (const call of calls) {
      const assertion = assertionOf(call);
      for (const part of [assertion, ...assertion.split('.')]) expect(text).not.toContain(part);
    }
    expect(text).not.toContain(RSA_PEM.split('\n')[1]);
  });
});

describe('private_key_jwt configuration', () => {
  it.each([
    [{ clientSecret: 'a-client-secret-value' }, 'issuer.clientSecret', 'expected no clientSecret'],
    [{ privateKeyPem: undefined }, 'issuer.privateKeyPem', 'expected a signing key'],
    [{ kms: { keyId: KMS_KEY } }, 'issuer.privateKeyPem', 'expected either privateKeyPem or kms'],
    [{ privateKeyPem: 'not a key' }, 'issuer.privateKeyPem', 'expected a PEM private key'],
    [{ authMethod: 'client_secret_post' }, 'issuer.clientSecret', 'expected a clientSecret'],
  ])('refuses %j, naming %s', async (overrides, field, message) => {
    const error = await caught(obtainFrom(config(overrides), { credential: 'pkj' }));
    expect(error).toMatchObject({ code: 'InvalidConfiguration' });
    expect(error.message).toContain(`${field}: ${message}`);
  });

  it('refuses a key field with a secret-based method', async () => {
    const error = await caught(
      obtainFrom(config({ authMethod: 'client_secret_basic', clientSecret: 'a-client-secret-value' }), {
        credential: 'pkj',
      }),
    );
    expect(error.message).toContain('issuer.privateKeyPem: is used only with authMethod "private_key_jwt"');
  });

  it.each([
    [
      'an RSA key under 2048 bits',
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
      'shorter than 2048 bits',
    ],
    ['an EC key on P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'EC key on secp384r1'],
    ['an Ed25519 key', generateKeyPairSync('ed25519').privateKey, 'ed25519 key'],
  ])('refuses %s, naming issuer.privateKeyPem and never quoting it', async (_what, key, message) => {
    const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    const { fetch, calls } = fakeFetch(ok());
    const error = await caught(obtainFrom(config({ privateKeyPem: pem }), { credential: 'pkj', fetch }));
    expect(error).toMatchObject({ code: 'InvalidConfiguration', field: 'issuer.privateKeyPem' });
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(pem.split('\n')[1]);
    expect(calls).toHaveLength(0);
  });
});
