/**
 * A real OAuth 2.0 authorization server (oidc-provider v9) on 127.0.0.1, for the `oauth2` kind:
 * client credentials grant, one `client_secret_post` and one `client_secret_basic` client, any
 * number of `private_key_jwt` clients (RFC 7523 client assertions, checked against their JWKS),
 * scopes `files:read files:write`, and a resource server whose access tokens are RS256 JWTs.
 * An `audience` form parameter selects the resource indicator (RFC 8707) by way of
 * `defaultResource`, because oidc-provider keeps only known parameters at its token endpoint.
 * oidc-provider is ESM-only and untyped here: it is loaded with `import()` behind a small
 * local interface.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';

/** The resource (audience) the provider knows, used when a request names none. */
export const OIDC_DEFAULT_RESOURCE = 'https://files.example.test/api';
/** A second resource, to check that `audience` reaches the token. */
export const OIDC_OTHER_RESOURCE = 'https://reports.example.test/api';
export const OIDC_SCOPES = ['files:read', 'files:write'];

/** The two clients, one per authentication method. The Basic secret holds characters that need encoding. */
export const OIDC_CLIENTS = {
  post: { clientId: 'rotator-post', clientSecret: 'post-secret-0123456789abcdef' },
  basic: { clientId: 'rotator:basic', clientSecret: 'b4sic+secret/with=chars:and more' },
} as const;

export interface OidcProviderOptions {
  /** Access token lifetime in seconds (default 300). */
  accessTokenTtlSeconds?: number;
  /** `private_key_jwt` clients: each authenticates with assertions signed by a key of its JWKS. */
  keyClients?: readonly OidcKeyClient[];
}

/** A client that authenticates with `private_key_jwt`. */
export interface OidcKeyClient {
  clientId: string;
  /** Its public keys (with `kid`), as the client registers them. */
  jwks: { keys: readonly Record<string, unknown>[] };
}

export interface RunningOidcProvider {
  /** The issuer identifier, `http://127.0.0.1:PORT`. */
  issuer: string;
  tokenUrl: string;
  jwksUrl: string;
  close(): Promise<void>;
}

interface OidcContext {
  oidc: { body?: Record<string, unknown> };
}
interface OidcProviderModule {
  default: new (
    issuer: string,
    configuration: Record<string, unknown>,
  ) => { callback(): (req: IncomingMessage, res: ServerResponse) => void };
  errors: { InvalidTarget: new (description?: string) => Error };
}

/** Starts oidc-provider on 127.0.0.1 (OS-assigned port). */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<RunningOidcProvider> {
  const ttl = options.accessTokenTtlSeconds ?? 300;
  const { default: Provider, errors } = (await import('oidc-provider' as string)) as OidcProviderModule;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingJwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'fake-signing-key' };

  const sockets = new Set<Socket>();
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handle) handle(req, res);
    else res.writeHead(503).end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const resources = new Set([OIDC_DEFAULT_RESOURCE, OIDC_OTHER_RESOURCE]);

  const clientDefaults = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  const provider = new Provider(issuer, {
    clients: [
      {
        ...clientDefaults,
        client_id: OIDC_CLIENTS.post.clientId,
        client_secret: OIDC_CLIENTS.post.clientSecret,
        token_endpoint_auth_method: 'client_secret_post',
        scope: OIDC_SCOPES.join(' '),
      },
      {
        ...clientDefaults,
        client_id: OIDC_CLIENTS.basic.clientId,
        client_secret: OIDC_CLIENTS.basic.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        scope: OIDC_SCOPES.join(' '),
      },
      ...(options.keyClients ?? []).map((client) => ({
        ...clientDefaults,
        client_id: client.clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: client.jwks,
        scope: OIDC_SCOPES.join(' '),
      })),
    ],
    scopes: OIDC_SCOPES,
    jwks: { keys: [signingJwk] },
    ttl: { ClientCredentials: ttl },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx: OidcContext, _client: unknown, oneOf?: string[]) => {
          if (oneOf) return oneOf;
          const audience = ctx.oidc.body?.audience;
          return typeof audience === 'string' ? audience : OIDC_DEFAULT_RESOURCE;
        },
        getResourceServerInfo: (_ctx: unknown, resourceIndicator: string) => {
          if (!resources.has(resourceIndicator)) throw new errors.InvalidTarget('unknown resource');
          return {
            scope: OIDC_SCOPES.join(' '),
            audience: resourceIndicator,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  handle = provider.callback();
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    jwksUrl: `${issuer}/jwks`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
