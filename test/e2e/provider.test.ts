import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as pulumi from '@pulumi/pulumi';
import type { Stack } from '@pulumi/pulumi/automation';
import { importSPKI, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTokenRecord, type TokenRecord } from '../../core/token';
import { currentVersionId, decodeTokenVersion } from '../../core/token-version';
import { type AsposeFake, startAsposeFake } from '../../local-stack/fakes/aspose';
import { type HeaderJwtFake, startHeaderJwtFake } from '../../local-stack/fakes/header-jwt';
import { OIDC_CLIENTS, type RunningOidcProvider, startOidcProvider } from '../../local-stack/fakes/oidc';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { createLocalBackend, ensureBuilt, inlineStack, type LocalBackend, stateText } from '../../local-stack/pulumi';
import { ProviderCredential } from '../../provider/resource';
import { secretsManagerClient } from '../helpers/aws';

const PREFIX = 'e2e-provider/';
const SIRV_ID = 'sirv-e2e-client';
const ASPOSE_ID = 'B01A15E5-1B83-4B9A-8EB3-0F2BFA6AC766';
const HEADER_ID = 'header-e2e-client';
// Planted secrets: none of them may appear in the state file or the CLI output.
const PLANTED = {
  sirv: 'PLANTED-sirv-secret-e2e-0001',
  sirvRotated: 'PLANTED-sirv-rotated-e2e-0002',
  sirvWrong: 'PLANTED-sirv-wrong-e2e-0003',
  aspose: 'PLANTED-aspose-secret-e2e-0004',
  header: 'PLANTED-header-secret-e2e-0005',
  oidc: OIDC_CLIENTS.post.clientSecret,
};
const NAMES = ['sirv-e2e', 'aspose-e2e', 'oauth-e2e', 'header-e2e', 'upload-e2e'] as const;

interface Issuers {
  sirv: SirvFake;
  aspose: AsposeFake;
  header: HeaderJwtFake;
  oidc: RunningOidcProvider;
}

function program(issuers: Issuers): pulumi.automation.PulumiFn {
  return async () => {
    const cfg = new pulumi.Config();
    const common = { prefix: PREFIX, recoveryWindowInDays: 7 };
    const credentials = [
      new ProviderCredential('sirv-e2e', {
        ...common,
        issuer: {
          kind: 'sirv',
          url: issuers.sirv.tokenUrl,
          allowInsecureHttp: true,
          clientId: SIRV_ID,
          clientSecret: cfg.requireSecret('sirvClientSecret'),
        },
      }),
      new ProviderCredential('aspose-e2e', {
        ...common,
        issuer: {
          kind: 'aspose',
          tokenUrl: issuers.aspose.tokenUrl,
          allowInsecureHttp: true,
          clientId: ASPOSE_ID,
          clientSecret: cfg.requireSecret('asposeClientSecret'),
        },
      }),
      new ProviderCredential('oauth-e2e', {
        ...common,
        issuer: {
          kind: 'oauth2',
          tokenUrl: issuers.oidc.tokenUrl,
          allowInsecureHttp: true,
          authMethod: 'client_secret_post',
          clientId: OIDC_CLIENTS.post.clientId,
          clientSecret: cfg.requireSecret('oauthClientSecret'),
          scope: ['files:read'],
        },
      }),
      new ProviderCredential('header-e2e', {
        ...common,
        issuer: {
          kind: 'header-jwt',
          url: issuers.header.tokenUrl,
          allowInsecureHttp: true,
          clientId: HEADER_ID,
          clientSecret: cfg.requireSecret('headerClientSecret'),
        },
      }),
      new ProviderCredential('upload-e2e', {
        ...common,
        issuer: { kind: 'upload', subject: 'svc-e2e', ttlSeconds: 3600, access: { tagPermissions: { write: ['*'] } } },
      }),
    ];
    return Object.fromEntries(
      credentials.flatMap((c, i) => [
        [`${NAMES[i]}.tokenSecretArn`, c.tokenSecretArn],
        [`${NAMES[i]}.readPolicy`, c.readPolicy],
        [`${NAMES[i]}.publicKeyPem`, c.publicKeyPem],
      ]),
    );
  };
}

async function secretString(sm: SecretsManagerClient, id: string): Promise<string> {
  const out = await sm.send(new GetSecretValueCommand({ SecretId: id }));
  return out.SecretString ?? '';
}

async function tokenOf(sm: SecretsManagerClient, name: string): Promise<TokenRecord> {
  return parseTokenRecord(await secretString(sm, `${PREFIX}${name}/token`), name);
}

async function liveSecretNames(sm: SecretsManagerClient): Promise<string[]> {
  const out = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [PREFIX] }], MaxResults: 100 }));
  return (out.SecretList ?? []).filter((s) => !s.DeletedDate).map((s) => s.Name ?? '');
}

describe('ProviderCredential under the pulumi CLI', () => {
  let backend: LocalBackend;
  let issuers: Issuers;
  let sirvClients: Record<string, string>;
  let stack: Stack;
  let sm: SecretsManagerClient;
  let output = '';
  const seenTokens = new Set<string>();
  const onOutput = (text: string) => {
    output += text;
  };

  beforeAll(async () => {
    sm = secretsManagerClient();
    sirvClients = { [SIRV_ID]: PLANTED.sirv };
    const [sirv, aspose, header, oidc] = await Promise.all([
      startSirvFake({ clients: sirvClients }),
      startAsposeFake({ clients: { [ASPOSE_ID]: PLANTED.aspose } }),
      startHeaderJwtFake({ clients: { [HEADER_ID]: PLANTED.header } }),
      startOidcProvider({ accessTokenTtlSeconds: 3600 }),
      ensureBuilt(),
    ]);
    issuers = { sirv, aspose, header, oidc };
    backend = await createLocalBackend();
    stack = await inlineStack(backend, 'provider-e2e', 'dev', program(issuers));
    await stack.setAllConfig({
      sirvClientSecret: { value: PLANTED.sirv, secret: true },
      asposeClientSecret: { value: PLANTED.aspose, secret: true },
      oauthClientSecret: { value: PLANTED.oidc, secret: true },
      headerClientSecret: { value: PLANTED.header, secret: true },
    });
  });

  afterAll(async () => {
    await Promise.all([issuers?.sirv.close(), issuers?.aspose.close(), issuers?.header.close(), issuers?.oidc.close()]);
    await backend?.dispose();
  });

  it('creates both secrets of every kind with the documented JSON, tags and a valid first token', async () => {
    // Act
    const up = await stack.up({ onOutput });

    // Assess
    expect(up.summary.result).toBe('succeeded');
    expect(up.summary.resourceChanges).toMatchObject({ create: NAMES.length + 1 });
    expect((await liveSecretNames(sm)).sort()).toEqual(
      NAMES.flatMap((n) => [`${PREFIX}${n}/client`, `${PREFIX}${n}/token`]).sort(),
    );
    for (const name of NAMES) {
      const client = JSON.parse(await secretString(sm, `${PREFIX}${name}/client`));
      expect(client).toMatchObject({ version: 1, issuer: { kind: expect.any(String) }, policy: {} });
      const token = await tokenOf(sm, name);
      seenTokens.add(token.accessToken);
      expect(token).toMatchObject({ version: 1, credential: name, generation: 1, tokenType: 'Bearer' });
      expect(Date.parse(token.refreshAfter)).toBeLessThan(Date.parse(token.expiresAt));
      const described = await sm.send(new DescribeSecretCommand({ SecretId: `${PREFIX}${name}/token` }));
      const tags = Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tags['token-rotator:credential']).toBe(name);
      // The sweep's view of the token travels in its version id, not in tags.
      const version = decodeTokenVersion(currentVersionId(described.VersionIdsToStages));
      expect(version?.generation).toBe(1);
      expect(version?.refreshAfter.getTime()).toBe(Math.floor(Date.parse(token.refreshAfter) / 1000) * 1000);
      expect(version?.expiresAt.getTime()).toBe(Math.floor(Date.parse(token.expiresAt) / 1000) * 1000);
      expect(tags['token-rotator:refresh-after']).toBeUndefined();
      const policy = JSON.parse(String(up.outputs[`${name}.readPolicy`]?.value));
      expect(policy.Statement[0].Resource).toBe(up.outputs[`${name}.tokenSecretArn`]?.value);
      expect(policy.Statement[0].Action).toContain('secretsmanager:GetSecretValue');
    }
    expect(JSON.parse(await secretString(sm, `${PREFIX}sirv-e2e/client`)).issuer.clientSecret).toBe(PLANTED.sirv);
    // The signed-jwt token verifies with the public key output, with the configured claims.
    const upload = await tokenOf(sm, 'upload-e2e');
    const publicKey = await importSPKI(String(up.outputs['upload-e2e.publicKeyPem']?.value), 'RS256');
    const { payload } = await jwtVerify(upload.accessToken, publicKey);
    expect(payload).toMatchObject({ sub: 'svc-e2e', access: { tagPermissions: { write: ['*'] } } });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    // The Aspose token is the fake's RS256 JWT.
    const aspose = await tokenOf(sm, 'aspose-e2e');
    await jwtVerify(aspose.accessToken, await importSPKI(issuers.aspose.publicKeyPem, 'RS256'));
  });

  it('updates a changed client secret in place, validated against the issuer first', async () => {
    // Prepare: the vendor now accepts only the rotated secret.
    sirvClients[SIRV_ID] = PLANTED.sirvRotated;
    await stack.setConfig('sirvClientSecret', { value: PLANTED.sirvRotated, secret: true });

    // Act
    const up = await stack.up({ onOutput });

    // Assess
    expect(up.summary.resourceChanges).toMatchObject({ update: 1, same: NAMES.length });
    expect(JSON.parse(await secretString(sm, `${PREFIX}sirv-e2e/client`)).issuer.clientSecret).toBe(
      PLANTED.sirvRotated,
    );
    const token = await tokenOf(sm, 'sirv-e2e');
    seenTokens.add(token.accessToken);
    expect(token.generation).toBe(2);
  });

  it('fails an update with a wrong new secret and leaves the old secret and token intact', async () => {
    // Prepare
    const clientBefore = await secretString(sm, `${PREFIX}sirv-e2e/client`);
    const tokenBefore = await secretString(sm, `${PREFIX}sirv-e2e/token`);
    await stack.setConfig('sirvClientSecret', { value: PLANTED.sirvWrong, secret: true });

    // Act
    const failure = await stack.up({ onOutput }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    // Assess
    expect(failure).toBeDefined();
    expect(String(failure?.message)).toMatch(/Credential "sirv-e2e".*(401|rejected|invalid credentials)/is);
    expect(await secretString(sm, `${PREFIX}sirv-e2e/client`)).toBe(clientBefore);
    expect(await secretString(sm, `${PREFIX}sirv-e2e/token`)).toBe(tokenBefore);
    output += String(failure?.message);
    await stack.setConfig('sirvClientSecret', { value: PLANTED.sirvRotated, secret: true });
  });

  it('reports an out-of-band deletion on refresh', async () => {
    // Prepare
    for (const suffix of ['client', 'token']) {
      await sm.send(
        new DeleteSecretCommand({ SecretId: `${PREFIX}header-e2e/${suffix}`, ForceDeleteWithoutRecovery: true }),
      );
    }

    // Act
    const refresh = await stack.refresh({ onOutput });

    // Assess
    expect(refresh.summary.result).toBe('succeeded');
    expect(refresh.summary.resourceChanges).toMatchObject({ delete: 1 });
    const state = await stack.exportStack();
    const urns = (state.deployment.resources ?? []).map((r: { urn: string }) => r.urn);
    expect(urns.some((u: string) => u.endsWith('::header-e2e'))).toBe(false);
    // The others read back without drift: the next preview only recreates the deleted one.
    const preview = await stack.preview({ onOutput });
    expect(preview.changeSummary).toEqual({ create: 1, same: NAMES.length });
  });

  it('destroys everything, and a second up with the same names works', async () => {
    // Act
    const destroy = await stack.destroy({ onOutput });

    // Assess
    expect(destroy.summary.result).toBe('succeeded');
    expect(await liveSecretNames(sm)).toEqual([]);

    // Act again: the secrets are only scheduled for deletion; create restores and reuses them.
    const up = await stack.up({ onOutput });
    expect(up.summary.result).toBe('succeeded');
    expect((await liveSecretNames(sm)).length).toBe(NAMES.length * 2);
    for (const name of NAMES) seenTokens.add((await tokenOf(sm, name)).accessToken);
    const final = await stack.destroy({ onOutput });
    expect(final.summary.result).toBe('succeeded');
    expect(await liveSecretNames(sm)).toEqual([]);
  });

  it('keeps every planted secret and every token out of the state file and the CLI output', async () => {
    const state = await stateText(backend);
    expect(state.length).toBeGreaterThan(1000);
    for (const secret of [...Object.values(PLANTED), ...seenTokens]) {
      expect(state).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
    expect(state).not.toMatch(/BEGIN (RSA )?PRIVATE KEY/);
    expect(output).not.toMatch(/BEGIN (RSA )?PRIVATE KEY/);
    // The secrets are there, encrypted with the passphrase.
    expect(state).toContain('ciphertext');
  });
});

/** A resource whose output is unknown until it is created: feeds an unknown input in preview. */
class Upstream extends pulumi.dynamic.Resource {
  declare readonly clientId: pulumi.Output<string>;
  constructor(name: string) {
    super(
      {
        async create() {
          return { id: 'upstream', outs: { clientId: 'made-at-create' } };
        },
      },
      name,
      { clientId: undefined },
    );
  }
}

describe('ProviderCredential preview with unknown inputs', () => {
  it('previews a credential whose client id is not known yet', async () => {
    // Prepare: the client id comes from a resource that does not exist yet.
    await ensureBuilt();
    const backend = await createLocalBackend();
    try {
      const stack = await inlineStack(backend, 'provider-preview', 'dev', async () => {
        const upstream = new Upstream('upstream');
        const credential = new ProviderCredential('later-e2e', {
          prefix: PREFIX,
          issuer: {
            kind: 'header-jwt',
            url: 'https://issuer.invalid/auth/jwt',
            clientId: upstream.clientId,
            clientSecret: pulumi.secret('PLANTED-preview-secret-0006'),
          },
        });
        return { tokenSecretName: credential.tokenSecretName };
      });

      // Act
      const preview = await stack.preview();

      // Assess
      expect(preview.changeSummary).toMatchObject({ create: 3 });
    } finally {
      await backend.dispose();
    }
  });
});
