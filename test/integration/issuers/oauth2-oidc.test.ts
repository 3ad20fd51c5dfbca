import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OIDC_CLIENTS,
  OIDC_DEFAULT_RESOURCE,
  OIDC_OTHER_RESOURCE,
  type RunningOidcProvider,
  startOidcProvider,
} from '../../../local-stack/fakes/oidc';
import { obtainFrom } from '../../helpers/issuers';

describe('oauth2 issuer against oidc-provider', () => {
  let op: RunningOidcProvider;
  beforeAll(async () => {
    op = await startOidcProvider({ accessTokenTtlSeconds: 600 });
  });
  afterAll(async () => {
    await op.close();
  });
  const config = (client: keyof typeof OIDC_CLIENTS, overrides: Record<string, unknown> = {}) => ({
    kind: 'oauth2',
    tokenUrl: op.tokenUrl,
    allowInsecureHttp: true,
    authMethod: `client_secret_${client}`,
    ...OIDC_CLIENTS[client],
    ...overrides,
  });
  const verify = (token: string) => jwtVerify(token, createRemoteJWKSet(new URL(op.jwksUrl)), { issuer: op.issuer });

  it.each(['post', 'basic'] as const)('obtains a JWT access token with client_secret_%s', async (client) => {
    // Act
    const token = await obtainFrom(config(client, { scope: 'files:read' }), { credential: `oidc-${client}` });
    // Assess
    const { payload } = await verify(token.accessToken);
    expect(payload).toMatchObject({
      client_id: OIDC_CLIENTS[client].clientId,
      aud: OIDC_DEFAULT_RESOURCE,
      scope: 'files:read',
    });
    expect(token.tokenType).toBe('Bearer');
    expect(token.scope).toEqual(['files:read']);
    // The stated expires_in counts from our send time, so it wins over exp by under a second.
    expect(token.expiresAt.getTime()).toBeLessThanOrEqual((payload.exp ?? 0) * 1000);
    expect(token.expiresAt.getTime()).toBeGreaterThan((payload.exp ?? 0) * 1000 - 1000);
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBeLessThanOrEqual(600_000);
  });

  it('sends a list of scopes space-joined', async () => {
    const token = await obtainFrom(config('post', { scope: ['files:read', 'files:write'] }), { credential: 'oidc' });
    expect(token.scope).toEqual(['files:read', 'files:write']);
  });

  it('puts the configured audience in the token', async () => {
    const token = await obtainFrom(config('basic', { audience: OIDC_OTHER_RESOURCE, scope: 'files:write' }), {
      credential: 'oidc',
    });
    const { payload } = await verify(token.accessToken);
    expect(payload.aud).toBe(OIDC_OTHER_RESOURCE);
  });

  it.each(['post', 'basic'] as const)(
    'classifies a wrong secret with client_secret_%s as InvalidCredentials',
    async (client) => {
      const error = obtainFrom(config(client, { clientSecret: 'not-the-right-secret' }), { credential: 'oidc' });
      await expect(error).rejects.toMatchObject({ code: 'InvalidCredentials', reason: 'invalid_client' });
    },
  );

  it('classifies an unknown audience as InvalidConfiguration', async () => {
    const error = obtainFrom(config('post', { audience: 'https://unknown.example.test/' }), { credential: 'oidc' });
    await expect(error).rejects.toMatchObject({ code: 'InvalidConfiguration', reason: 'invalid_target' });
  });

  it('does not grant a scope the resource server does not know (oidc-provider filters it out)', async () => {
    const token = await obtainFrom(config('post', { scope: 'files:read admin:everything' }), { credential: 'oidc' });
    expect(token.scope).toEqual(['files:read']);
  });

  it('classifies an unknown client as InvalidCredentials', async () => {
    const error = obtainFrom(config('post', { clientId: 'nobody-here' }), { credential: 'oidc' });
    await expect(error).rejects.toMatchObject({ code: 'InvalidCredentials' });
  });
});
