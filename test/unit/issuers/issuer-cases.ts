/** One small config factory per HTTP issuer kind, so error cases run against every kind alike. */
import { generateKeyPairSync } from 'node:crypto';
import type { IssuerConfigInput } from '../../../core/issuers/config';
import { jsonResponse } from './fake-fetch';

/** A distinctive secret, so a leak test can look for it anywhere. */
export const PLANTED_SECRET = 'PLANTED-s3cret+/=:value-9f8e7d';

export function sirvConfig(overrides: Partial<Record<string, unknown>> = {}): IssuerConfigInput {
  return {
    kind: 'sirv',
    clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R',
    clientSecret: PLANTED_SECRET,
    ...overrides,
  } as IssuerConfigInput;
}

export function jsonConfig(overrides: Partial<Record<string, unknown>> = {}): IssuerConfigInput {
  return {
    kind: 'json',
    url: 'https://tokens.example.com/v1/token?tenant=t1',
    clientId: 'json-client',
    clientSecret: PLANTED_SECRET,
    ...overrides,
  } as IssuerConfigInput;
}

export function asposeConfig(overrides: Partial<Record<string, unknown>> = {}): IssuerConfigInput {
  return {
    kind: 'aspose',
    clientId: 'B01A15E5-1B83-4B9A-8EB3-0F2BFA6AC766',
    clientSecret: PLANTED_SECRET,
    ...overrides,
  } as IssuerConfigInput;
}

export function oauth2Config(overrides: Partial<Record<string, unknown>> = {}): IssuerConfigInput {
  return {
    kind: 'oauth2',
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: 'oauth-client',
    clientSecret: PLANTED_SECRET,
    ...overrides,
  } as IssuerConfigInput;
}

export function headerJwtConfig(overrides: Partial<Record<string, unknown>> = {}): IssuerConfigInput {
  return {
    kind: 'header-jwt',
    url: 'https://partner.example.com/auth/jwt',
    clientId: 'client-123',
    clientSecret: PLANTED_SECRET,
    ...overrides,
  } as IssuerConfigInput;
}

/** The key the assertion kinds sign with, made once for the whole run. */
export const ASSERTION_KEY_PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

/**
 * jwt-bearer with client authentication too, so the planted secret travels in its requests (the
 * assertion kinds' own planted-value tests cover the assertion and the key).
 */
export function jwtBearerConfig(overrides: Partial<Record<string, unknown>> = {}): IssuerConfigInput {
  return {
    kind: 'jwt-bearer',
    tokenUrl: 'https://auth.example.com/oauth2/token',
    issuer: 'https://ci.example.com',
    subject: 'deploy-bot',
    clientId: 'jb-client',
    clientSecret: PLANTED_SECRET,
    privateKeyPem: ASSERTION_KEY_PEM,
    ...overrides,
  } as IssuerConfigInput;
}

/** A kind under test: its config and a successful answer carrying `token`. */
export interface HttpKindCase {
  name: string;
  config: (overrides?: Partial<Record<string, unknown>>) => IssuerConfigInput;
  success: (token: string) => Response;
  /** URL as messages must show it: origin + path. */
  shownUrl: string;
  /** What a message about rejected credentials tells to check. */
  credentialFields?: string;
}

export const HTTP_KIND_CASES: HttpKindCase[] = [
  {
    name: 'sirv',
    config: sirvConfig,
    success: (token) => jsonResponse({ token, expiresIn: 1200, scope: ['files:read'] }),
    shownUrl: 'https://api.sirv.com/v2/token',
  },
  {
    name: 'json',
    config: (o) => jsonConfig({ defaultLifetimeSeconds: 600, ...o }),
    success: (token) => jsonResponse({ token, expiresIn: 600 }),
    shownUrl: 'https://tokens.example.com/v1/token',
  },
  {
    name: 'aspose',
    config: asposeConfig,
    success: (token) => jsonResponse({ access_token: token, expires_in: 86400, token_type: 'Bearer' }),
    shownUrl: 'https://api.aspose.cloud/connect/token',
  },
  {
    name: 'oauth2 (client_secret_basic)',
    config: (o) => oauth2Config({ authMethod: 'client_secret_basic', ...o }),
    success: (token) => jsonResponse({ access_token: token, expires_in: 3600, token_type: 'Bearer' }),
    shownUrl: 'https://auth.example.com/oauth/token',
  },
  {
    name: 'jwt-bearer',
    config: jwtBearerConfig,
    success: (token) => jsonResponse({ access_token: token, expires_in: 3600, token_type: 'Bearer' }),
    shownUrl: 'https://auth.example.com/oauth2/token',
    credentialFields: 'issuer, subject and the signing key',
  },
  {
    name: 'header-jwt',
    config: headerJwtConfig,
    success: (token) => new Response(null, { status: 200, headers: { authorization: `Bearer ${token}` } }),
    shownUrl: 'https://partner.example.com/auth/jwt',
  },
];
