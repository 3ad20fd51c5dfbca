/**
 * A real OAuth 2.0 authorization server (oidc-provider v9) on 127.0.0.1, for the `oauth2` kind:
 * client credentials grant, one `client_secret_post` and one `client_secret_basic` client, any
 * number of `private_key_jwt` clients (RFC 7523 client assertions, checked against their JWKS),
 * scopes `files:read files:write`, and a resource server whose access tokens are RS256 JWTs.
 * With `jwtBearer`, it also serves the RFC 7523 §2.1 JWT bearer grant, which oidc-provider does not
 * ship: a grant type registered through its `registerGrantType` extension that verifies the
 * assertion with jose against a trusted issuer's JWKS (`iss`, `sub`, `aud`, `exp`, single-use
 * `jti`) and issues the access token through oidc-provider's own ClientCredentials model.
 * An `audience` form parameter selects the resource indicator (RFC 8707) by way of
 * `defaultResource`, because oidc-provider keeps only known parameters at its token endpoint.
 * oidc-provider is ESM-only and untyped here: it is loaded with `import()` behind a small
 * local interface.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify } from 'jose';

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

/** The grant type of RFC 7523 §2.1. */
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** How far ahead a grant assertion's `exp` may be: a longer-lived assertion is refused. */
const MAX_ASSERTION_SECONDS = 600;

/** The client that may use the JWT bearer grant (`client_secret_post`). */
export const OIDC_BEARER_CLIENT = {
  clientId: 'rotator-bearer',
  clientSecret: 'bearer-secret-0123456789abcdef',
} as const;

export interface OidcProviderOptions {
  /** Access token lifetime in seconds (default 300). */
  accessTokenTtlSeconds?: number;
  /** `private_key_jwt` clients: each authenticates with assertions signed by a key of its JWKS. */
  keyClients?: readonly OidcKeyClient[];
  /** Serve the JWT bearer grant to {@link OIDC_BEARER_CLIENT}, for assertions of these issuers. */
  jwtBearer?: { trusts: readonly OidcTrust[] };
}

/** A trusted assertion issuer: its subject, the scopes it may be granted, and its public keys. */
export interface OidcTrust {
  issuer: string;
  subject: string;
  scope: readonly string[];
  jwks: { keys: readonly Record<string, unknown>[] };
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
  /**
   * Registers a `private_key_jwt` client, or replaces its keys, as an administrator does when a
   * client rotates its key (a client of `keyClients` cannot be replaced).
   */
  setKeyClient(client: OidcKeyClient): Promise<void>;
  /** Trusts an assertion issuer for the JWT bearer grant, replacing its trust for the same subject. */
  setTrust(trust: OidcTrust): void;
  /** Every client assertion and grant assertion of a token request that succeeded, in order. */
  readonly acceptedAssertions: readonly string[];
  close(): Promise<void>;
}

interface OidcContext {
  oidc: { body?: Record<string, unknown>; params?: Record<string, unknown>; client?: unknown };
  body?: unknown;
}
/** What the JWT bearer grant needs of oidc-provider (its documented extension API and models). */
interface OidcProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  registerGrantType(name: string, handler: (ctx: OidcContext) => Promise<void>, params: string[]): void;
  on(event: 'grant.success', listener: (ctx: OidcContext) => void): void;
  Client: { adapter: { upsert(id: string, payload: Record<string, unknown>): Promise<void> } };
  ClientCredentials: new (fields: {
    client: unknown;
    scope?: string | undefined;
  }) => { resourceServer?: unknown; expiration: number; save(): Promise<string> };
  ResourceServer: new (identifier: string, info: Record<string, unknown>) => unknown;
  ReplayDetection: { unique(iss: string, jti: string, exp: number): Promise<boolean> };
}
interface OidcProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => OidcProviderInstance;
  errors: {
    InvalidTarget: new (description?: string) => Error;
    InvalidGrant: new (description?: string) => Error;
    InvalidRequest: new (description?: string) => Error;
    InvalidScope: new (description: string, scope: string) => Error;
  };
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

  const resourceServerInfo = (resourceIndicator: string) => ({
    scope: OIDC_SCOPES.join(' '),
    audience: resourceIndicator,
    accessTokenTTL: ttl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  });
  // The assertion's issuer and subject, carried into the access token a grant issues.
  const grantedTo = new WeakMap<object, { jwt_bearer: { iss: string; sub: string } }>();

  const clientDefaults = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  const keyClientMetadata = (client: OidcKeyClient) => ({
    ...clientDefaults,
    client_id: client.clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: client.jwks,
    scope: OIDC_SCOPES.join(' '),
  });
  let setTrust: ((trust: OidcTrust) => void) | undefined;
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
      ...(options.keyClients ?? []).map(keyClientMetadata),
      ...(options.jwtBearer
        ? [
            {
              ...clientDefaults,
              grant_types: [JWT_BEARER],
              client_id: OIDC_BEARER_CLIENT.clientId,
              client_secret: OIDC_BEARER_CLIENT.clientSecret,
              token_endpoint_auth_method: 'client_secret_post',
              scope: OIDC_SCOPES.join(' '),
            },
          ]
        : []),
    ],
    extraTokenClaims: (_ctx: unknown, token: object) => grantedTo.get(token),
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
          return resourceServerInfo(resourceIndicator);
        },
      },
    },
  });
  const tokenUrl = `${issuer}/token`;
  if (options.jwtBearer) {
    const trusts = [...options.jwtBearer.trusts];
    setTrust = (trust) => {
      const at = trusts.findIndex((t) => t.issuer === trust.issuer && t.subject === trust.subject);
      trusts.splice(at === -1 ? trusts.length : at, at === -1 ? 0 : 1, trust);
    };
    provider.registerGrantType(
      JWT_BEARER,
      async (ctx) => {
        const { assertion, scope } = ctx.oidc.params ?? {};
        if (typeof assertion !== 'string' || assertion === '') throw new errors.InvalidRequest('missing assertion');
        let claimed: { iss?: unknown; sub?: unknown };
        try {
          claimed = decodeJwt(assertion);
        } catch {
          throw new errors.InvalidGrant('assertion is not a JWT');
        }
        const trust = trusts.find((t) => t.issuer === claimed.iss && t.subject === claimed.sub);
        if (!trust) throw new errors.InvalidGrant('assertion issuer and subject are not trusted');
        let verified: { jti?: string; exp?: number };
        try {
          ({ payload: verified } = await jwtVerify(assertion, createLocalJWKSet({ keys: [...trust.jwks.keys] }), {
            issuer: trust.issuer,
            subject: trust.subject,
            audience: [tokenUrl, issuer],
            algorithms: ['RS256', 'ES256'],
            requiredClaims: ['exp', 'jti'],
          }));
        } catch {
          throw new errors.InvalidGrant('assertion signature or claims are invalid');
        }
        const { jti = '', exp = 0 } = verified;
        if (exp > Date.now() / 1000 + MAX_ASSERTION_SECONDS) throw new errors.InvalidGrant('assertion lives too long');
        if (!(await provider.ReplayDetection.unique(trust.issuer, jti, exp))) {
          throw new errors.InvalidGrant('assertion jti was already used');
        }
        const requested = typeof scope === 'string' && scope !== '' ? scope.split(' ') : [...trust.scope];
        if (requested.some((s) => !trust.scope.includes(s))) {
          throw new errors.InvalidScope('requested scope is not granted to this issuer', requested.join(' '));
        }
        const token = new provider.ClientCredentials({ client: ctx.oidc.client, scope: requested.join(' ') });
        token.resourceServer = new provider.ResourceServer(
          OIDC_DEFAULT_RESOURCE,
          resourceServerInfo(OIDC_DEFAULT_RESOURCE),
        );
        grantedTo.set(token, { jwt_bearer: { iss: trust.issuer, sub: trust.subject } });
        const accessToken = await token.save();
        ctx.body = {
          access_token: accessToken,
          expires_in: token.expiration,
          token_type: 'Bearer',
          scope: requested.join(' '),
        };
      },
      ['assertion', 'scope'],
    );
  }
  const acceptedAssertions: string[] = [];
  provider.on('grant.success', (ctx) => {
    const { client_assertion: clientAssertion, assertion } = ctx.oidc.params ?? {};
    for (const value of [clientAssertion, assertion]) if (typeof value === 'string') acceptedAssertions.push(value);
  });
  handle = provider.callback();
  return {
    issuer,
    tokenUrl,
    jwksUrl: `${issuer}/jwks`,
    async setKeyClient(client) {
      // Clients of the adapter (not the static list) are looked up on every request, by content.
      await provider.Client.adapter.upsert(client.clientId, keyClientMetadata(client));
    },
    setTrust(trust) {
      if (!setTrust) throw new Error('startOidcProvider: setTrust needs the jwtBearer option');
      setTrust(trust);
    },
    acceptedAssertions,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
