/**
 * Contract fake of Aspose Cloud's token endpoint (seed 004), an IdentityServer:
 * `POST /connect/token` with an `application/x-www-form-urlencoded` body
 * `grant_type=client_credentials&client_id=…&client_secret=…` and `Accept: application/json`.
 * Success → `{ access_token: <RS256 JWT>, expires_in: 86400, token_type: "Bearer" }`.
 * Like IdentityServer, a bad client is `400 { "error": "invalid_client" }`, a wrong grant type
 * `400 { "error": "unsupported_grant_type" }`, a malformed request `400 { "error": "invalid_request" }`.
 * Quirk switches: `expires_in` as a string, `token_type: "bearer"` in lower case.
 */
import { exportSPKI, generateKeyPair } from 'jose';
import { mintFakeJwt } from './fake-jwt';
import { type FakeServerOptions, headerValue, type RunningFake, startFakeServer } from './faults';

export interface AsposeFakeOptions extends FakeServerOptions {
  /** Known clients, App SID → App Key. */
  clients?: Record<string, string>;
  /** Token lifetime; Aspose's is one day. */
  lifetimeSeconds?: number;
  shortExpSeconds?: number;
  /** Send `expires_in` as a string (`"86400"`). */
  expiresInAsString?: boolean;
  /** Send `token_type: "bearer"`. */
  lowercaseTokenType?: boolean;
  now?: () => Date;
}

export interface AsposeFake extends RunningFake {
  /** `http://127.0.0.1:PORT/connect/token`. */
  tokenUrl: string;
  /** SPKI PEM of the key the access tokens are signed with. */
  publicKeyPem: string;
  setLifetime(seconds: number): void;
  setQuirks(quirks: { expiresInAsString?: boolean; lowercaseTokenType?: boolean }): void;
}

/** The default client of this fake (an App SID is a GUID). */
export const ASPOSE_CLIENT = {
  clientId: 'B01A15E5-1B83-4B9A-8EB3-0F2BFA6AC766',
  clientSecret: 'aspose-app-key-0123456789',
};

/** Starts the Aspose fake on 127.0.0.1. */
export async function startAsposeFake(options: AsposeFakeOptions = {}): Promise<AsposeFake> {
  const clients = options.clients ?? { [ASPOSE_CLIENT.clientId]: ASPOSE_CLIENT.clientSecret };
  const now = options.now ?? (() => new Date());
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  let lifetimeSeconds = options.lifetimeSeconds ?? 86400;
  const quirks = {
    expiresInAsString: options.expiresInAsString ?? false,
    lowercaseTokenType: options.lowercaseTokenType ?? false,
  };
  let fake: RunningFake | undefined;

  fake = await startFakeServer(async (request, fault) => {
    if (request.path !== '/connect/token') return { status: 404, body: '' };
    if (request.method !== 'POST') return { status: 405, body: '' };
    const form = headerValue(request, 'content-type')?.startsWith('application/x-www-form-urlencoded') ?? false;
    const body = request.body as Record<string, string> | undefined;
    if (!form || typeof body !== 'object' || body === null) return { status: 400, body: { error: 'invalid_request' } };
    if (body.grant_type !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type' } };
    const clientId = body.client_id;
    if (!clientId || clients[clientId] !== body.client_secret || fake?.isRevoked(clientId)) {
      return { status: 400, body: { error: 'invalid_client' } };
    }
    if (fault === 'nonJson')
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'Service Unavailable' };
    const minted = await mintFakeJwt({
      key: privateKey,
      alg: 'RS256',
      claims: {
        nbf: Math.floor(now().getTime() / 1000),
        iss: fake?.url ?? 'https://api.aspose.cloud',
        aud: [`${fake?.url ?? 'https://api.aspose.cloud'}/resources`, 'api.platform', 'api.products'],
        client_id: clientId,
        client_idSrvId: '',
        scope: ['api.platform', 'api.products'],
      },
      lifetimeSeconds,
      shortExpSeconds: options.shortExpSeconds,
      fault,
      now,
    });
    fake?.countIssued();
    const expiresIn = minted.statedLifetime;
    return {
      status: 200,
      body: {
        ...(fault === 'missingToken' ? {} : { access_token: minted.jwt }),
        ...(expiresIn === undefined ? {} : { expires_in: quirks.expiresInAsString ? String(expiresIn) : expiresIn }),
        token_type: quirks.lowercaseTokenType ? 'bearer' : 'Bearer',
      },
    };
  }, options);
  return Object.assign(fake, {
    tokenUrl: `${fake.url}/connect/token`,
    publicKeyPem: await exportSPKI(publicKey),
    setLifetime: (seconds: number) => {
      lifetimeSeconds = seconds;
    },
    setQuirks: (next: { expiresInAsString?: boolean; lowercaseTokenType?: boolean }) => {
      Object.assign(quirks, next);
    },
  });
}
