import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../core/errors';
import { expandPreset, parseIssuerConfig, secretValuesOf } from '../../../core/issuers';
import { TOKEN_TYPE_PATTERN } from '../../../core/token';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse } from './fake-fetch';

const secret = 'a-client-secret';

function configError(input: unknown): InvalidConfigurationError {
  return caught(() => parseIssuerConfig(input, { credential: 'c' }), InvalidConfigurationError);
}

describe('parseIssuerConfig', () => {
  it('expands sirv to json with the seed URL, field names and a 1200 s default', () => {
    expect(expandPreset(parseIssuerConfig({ kind: 'sirv', clientId: 'id', clientSecret: secret }))).toEqual({
      kind: 'json',
      url: 'https://api.sirv.com/v2/token',
      clientId: 'id',
      clientSecret: secret,
      clientIdField: 'clientId',
      clientSecretField: 'clientSecret',
      tokenField: 'token',
      expiresInField: 'expiresIn',
      scopeField: 'scope',
      tokenType: 'Bearer',
      defaultLifetimeSeconds: 1200,
    });
  });

  it('expands aspose to oauth2 client_secret_post against /connect/token with a one-day default', () => {
    expect(expandPreset(parseIssuerConfig({ kind: 'aspose', clientId: 'id', clientSecret: secret }))).toMatchObject({
      kind: 'oauth2',
      tokenUrl: 'https://api.aspose.cloud/connect/token',
      authMethod: 'client_secret_post',
      defaultLifetimeSeconds: 86400,
    });
  });

  it('expands upload to signed-jwt with a one-hour TTL', () => {
    expect(expandPreset(parseIssuerConfig({ kind: 'upload', subject: 'user-1' }))).toEqual({
      kind: 'signed-jwt',
      subject: 'user-1',
      ttlSeconds: 3600,
    });
  });

  it('defaults header-jwt to GET, client-id/client-secret, authorization and 3600 s', () => {
    expect(
      parseIssuerConfig({
        kind: 'header-jwt',
        url: 'https://x.example/auth/jwt',
        clientId: 'id',
        clientSecret: secret,
      }),
    ).toMatchObject({
      method: 'GET',
      clientIdHeader: 'client-id',
      clientSecretHeader: 'client-secret',
      tokenHeader: 'authorization',
      defaultLifetimeSeconds: 3600,
    });
  });

  it('keeps user overrides of a preset', () => {
    const config = expandPreset(
      parseIssuerConfig({
        kind: 'sirv',
        url: 'https://sirv.internal/v2/token',
        clientId: 'id',
        clientSecret: secret,
        maxLifetimeSeconds: 600,
      }),
    );
    expect(config).toMatchObject({ url: 'https://sirv.internal/v2/token', maxLifetimeSeconds: 600 });
  });

  it('refuses http:// unless allowInsecureHttp, naming the field', () => {
    const error = configError({ kind: 'json', url: 'http://x.example/token', clientId: 'id', clientSecret: secret });
    expect(error.message).toContain('issuer.url: expected an https:// URL');
    expect(() =>
      parseIssuerConfig({
        kind: 'json',
        url: 'http://127.0.0.1:1/token',
        clientId: 'id',
        clientSecret: secret,
        allowInsecureHttp: true,
      }),
    ).not.toThrow();
  });

  it('refuses other protocols even with allowInsecureHttp', () => {
    const error = configError({
      kind: 'oauth2',
      tokenUrl: 'ftp://x.example/t',
      clientId: 'id',
      clientSecret: secret,
      allowInsecureHttp: true,
    });
    expect(error.message).toContain('issuer.tokenUrl');
  });

  it('lists every field at fault, with the credential, and never the value', () => {
    const error = configError({ kind: 'sirv', clientId: '', clientSecret: 'short' });
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect(error.message).toContain('Credential "c"');
    expect(error.message).toContain('issuer.clientId');
    expect(error.message).toContain('issuer.clientSecret: expected clientSecret of at least 8 characters');
    expect(error.message).not.toContain('short');
    expect(error.field).toBe('issuer.clientId');
  });

  it('names unknown fields so a typo is found', () => {
    const error = configError({ kind: 'sirv', clientId: 'id', clientSecret: secret, clientSecert: 'x' });
    expect(error.message).toContain('unknown field(s) "clientSecert"');
  });

  it('names an unknown kind', () => {
    const error = configError({ kind: 'saml', clientId: 'id' });
    expect(error.message).toContain('issuer.kind');
    expect(error.message).toContain('sirv, aspose, upload');
  });

  it('refuses maxLifetimeSeconds under a minute', () => {
    const error = configError({ kind: 'sirv', clientId: 'id', clientSecret: secret, maxLifetimeSeconds: 30 });
    expect(error.message).toContain('issuer.maxLifetimeSeconds');
  });
});

describe('secretValuesOf', () => {
  it('returns the client secret and the private key, nothing else', () => {
    expect(secretValuesOf({ clientId: 'id', clientSecret: secret, privateKeyPem: 'pem', url: 'u' })).toEqual([
      secret,
      'pem',
    ]);
  });
});

describe('json tokenType: our configuration, so judged at validation', () => {
  const json = (tokenType: unknown) => ({
    kind: 'json',
    url: 'https://tokens.example.com/token',
    clientId: 'id',
    clientSecret: secret,
    tokenType,
  });

  it('is accepted exactly when it is an HTTP authentication scheme, and refused naming issuer.tokenType', () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
    fc.assert(
      fc.property(
        fc.oneof(printable, fc.constantFrom('Bearer', 'DPoP', 'JWT Bearer', 'MAC', 'a'.repeat(65))),
        (tokenType) => {
          const scheme = tokenType.trim();
          if (scheme.length > 0 && TOKEN_TYPE_PATTERN.test(scheme)) {
            expect(parseIssuerConfig(json(tokenType))).toMatchObject({ tokenType: scheme });
          } else {
            const error = configError(json(tokenType));
            expect(error).toBeInstanceOf(InvalidConfigurationError);
            expect(error.field).toBe('issuer.tokenType');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('says what a scheme is, and a refresh with it fails as our configuration, never blaming the issuer', async () => {
    expect(configError(json('JWT Bearer')).message).toMatch(
      /tokenType: expected tokenType as an HTTP authentication scheme/,
    );
    const { fetch } = fakeFetch(jsonResponse({ token: 'tok-abc', expiresIn: 600 }));
    await expect(
      obtainFrom({ ...json('JWT Bearer'), defaultLifetimeSeconds: 600 }, { credential: 'c', fetch, now: frozenNow }),
    ).rejects.toMatchObject({ code: 'InvalidConfiguration', field: 'issuer.tokenType' });
  });
});
