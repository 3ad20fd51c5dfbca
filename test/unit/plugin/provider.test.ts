import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { issuerConfigSchema, parseIssuerConfig } from '../../../core/issuers/config';
import * as z from '../../../core/zod';
import {
  asSecret,
  holdsSecret,
  parseImportId,
  protect,
  resourceNameOf,
  reveal,
  TokenRotatorProvider,
} from '../../../plugin/provider';
import { ROTATOR_INPUTS, ROTATOR_OUTPUTS } from '../../../plugin/rotator-args';
import { CREDENTIAL_TOKEN, PLUGIN_DOWNLOAD_URL, packageSchema, ROTATOR_TOKEN } from '../../../plugin/schema';
import { UNKNOWN } from '../../../provider/inputs';
import * as runtime from '../../../provider/runtime';

const SIG = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
const PLANTED = 'PLANTED-plugin-unit-secret-41c7';
const URN = `urn:pulumi:dev::platform::${CREDENTIAL_TOKEN}::sirv-prod`;

const sirvIssuer = (clientSecret: unknown = PLANTED) => ({
  kind: 'sirv',
  clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R',
  clientSecret,
});

/** The JSON of a value with every secret-marked subtree left out: what state keeps in the clear. */
function clearText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && (v as Record<string, unknown>)[SIG] === SECRET_SIG ? '[secret]' : v,
  );
}

describe('the plugin schema', () => {
  const schema = packageSchema('0.1.0') as {
    name: string;
    version: string;
    pluginDownloadURL: string;
    types: Record<string, { properties: Record<string, { secret?: boolean; description?: string }> }>;
    resources: Record<
      string,
      {
        inputProperties: Record<string, { secret?: boolean }>;
        properties: Record<string, unknown>;
        requiredInputs: string[];
      }
    >;
  };

  it('names the package, version and a release download URL', () => {
    expect(schema).toMatchObject({ name: 'token-rotator', version: '0.1.0' });
    expect(schema.pluginDownloadURL).toBe(PLUGIN_DOWNLOAD_URL);
    expect(PLUGIN_DOWNLOAD_URL).toMatch(/^github:\/\//);
  });

  it('declares every field of every issuer kind, each saying which kinds use it', () => {
    const issuer = schema.types['token-rotator:index:Issuer']?.properties ?? {};
    const variants = (
      z.toJSONSchema(issuerConfigSchema, { io: 'input', unrepresentable: 'any' }) as {
        oneOf: { properties: Record<string, { const?: string }> }[];
      }
    ).oneOf;
    expect(variants.length).toBeGreaterThanOrEqual(10);
    for (const variant of variants) {
      const kind = variant.properties.kind?.const ?? '';
      expect(issuer.kind?.description).toContain(kind);
      for (const field of Object.keys(variant.properties).filter((f) => f !== 'kind')) {
        expect(issuer[field], `${kind}.${field}`).toBeDefined();
        expect(issuer[field]?.description).toMatch(new RegExp(`kinds: .*\\b${kind}\\b`));
      }
    }
  });

  it('marks the issuer block, the client secret and the private key secret', () => {
    const credential = schema.resources[CREDENTIAL_TOKEN];
    expect(credential?.inputProperties.issuer?.secret).toBe(true);
    expect(credential?.requiredInputs).toEqual(['issuer']);
    const issuer = schema.types['token-rotator:index:Issuer']?.properties ?? {};
    expect(issuer.clientSecret?.secret).toBe(true);
    expect(issuer.privateKeyPem?.secret).toBe(true);
    expect(issuer.clientId?.secret).toBeUndefined();
    expect(Object.keys(credential?.properties ?? {})).toEqual(
      expect.arrayContaining(['tokenSecretArn', 'readPolicy', 'publicKeyPem', 'publicJwks', 'clientSecretName']),
    );
  });

  it("declares the TokenRotator component with the component's arguments, plain where it needs known values", () => {
    const rotator = schema.resources[ROTATOR_TOKEN] as unknown as {
      isComponent: boolean;
      inputProperties: Record<
        string,
        { type?: string; plain?: boolean; items?: unknown; additionalProperties?: unknown }
      >;
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(rotator.isComponent).toBe(true);
    expect(Object.keys(rotator.inputProperties).sort()).toEqual(Object.keys(ROTATOR_INPUTS).sort());
    expect(rotator.inputProperties.prefix).toMatchObject({ type: 'string', plain: true });
    expect(rotator.inputProperties.concurrency).toMatchObject({ type: 'number', plain: true });
    expect(rotator.inputProperties.createAlarmTopic).toMatchObject({ type: 'boolean', plain: true });
    expect(rotator.inputProperties.kmsKeyArn).toEqual(expect.objectContaining({ type: 'string' }));
    expect(rotator.inputProperties.kmsKeyArn?.plain).toBeUndefined();
    expect(rotator.inputProperties.signingKeyArns).toMatchObject({ type: 'array', items: { type: 'string' } });
    expect(rotator.inputProperties.tags).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(Object.keys(rotator.properties).sort()).toEqual(Object.keys(ROTATOR_OUTPUTS).sort());
    expect(rotator.required).not.toContain('alarmTopicArn');
    expect(rotator.required).toContain('requestPolicy');
  });
});

describe('secret markers', () => {
  it('reveal removes markers at any depth; asSecret and holdsSecret agree', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.string(), { maxLength: 4 }), (value, path) => {
        let wrapped: unknown = asSecret(value);
        for (const key of path) wrapped = { [key]: wrapped };
        expect(holdsSecret(wrapped)).toBe(true);
        let expected: unknown = value;
        for (const key of path) expected = { [key]: expected };
        expect(reveal(wrapped)).toEqual(reveal(expected));
        expect(asSecret(asSecret(value))).toEqual(asSecret(value));
      }),
    );
  });

  it('protect keeps the issuer and every field that arrived secret out of the clear text', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('name', 'prefix', 'tags', 'kmsKeyId', 'policy'), fc.boolean()),
        (secretFields) => {
          const plain: Record<string, unknown> = {
            name: 'sirv-prod',
            prefix: 'token-rotator/',
            tags: { team: PLANTED },
            kmsKeyId: PLANTED,
            policy: { note: PLANTED },
            issuer: sirvIssuer(),
          };
          const arrived = Object.fromEntries(
            Object.entries(plain).map(([k, v]) => [k, secretFields[k] ? asSecret(v) : v]),
          );
          const out = protect(plain, arrived);
          for (const [field, secret] of Object.entries(secretFields)) {
            if (secret) expect(clearText(out[field])).not.toContain(PLANTED);
          }
          expect(clearText(out.issuer)).not.toContain(PLANTED);
          expect(reveal(out)).toEqual(plain);
        },
      ),
    );
  });
});

describe('TokenRotatorProvider.check', () => {
  const provider = new TokenRotatorProvider('0.1.0');

  it('validates the revealed inputs, defaults the name to the resource name and returns the issuer as a secret', async () => {
    // Act
    const result = await provider.check(URN, {}, { issuer: { ...sirvIssuer(asSecret(PLANTED)) } });
    // Assess
    expect(result.failures).toEqual([]);
    const inputs = result.inputs as Record<string, unknown>;
    expect(inputs).toMatchObject({ name: 'sirv-prod', prefix: 'token-rotator/', codeVersion: expect.any(String) });
    expect(inputs.issuer).toMatchObject({ [SIG]: SECRET_SIG });
    expect(clearText(inputs)).not.toContain(PLANTED);
    expect(reveal(inputs.issuer)).toEqual(sirvIssuer());
  });

  it('reports the same field-named failures as the dynamic provider, never the secret', async () => {
    // Prepare
    const bad = { name: 'sirv-prod', issuer: { ...sirvIssuer(), clientSecert: PLANTED }, recoveryWindowInDays: 3 };
    // Act
    const result = await provider.check(URN, {}, { ...bad, issuer: asSecret(bad.issuer) });
    // Assess
    const direct = runtime.check({ ...bad, codeVersion: 'x' });
    expect(result.failures).toEqual(direct.failures);
    expect(result.failures?.map((f) => f.property)).toEqual(expect.arrayContaining(['issuer', 'recoveryWindowInDays']));
    expect(JSON.stringify(result.failures)).not.toContain(PLANTED);
  });

  it('passes values still unknown at preview', async () => {
    const result = await provider.check(URN, {}, { issuer: asSecret(UNKNOWN) });
    expect(result.failures).toEqual([]);
    expect((result.inputs as Record<string, unknown>).issuer).toEqual(asSecret(UNKNOWN));
  });

  it('refuses a resource type it does not serve', async () => {
    await expect(provider.check('urn:pulumi:dev::p::token-rotator:index:Other::x', {}, {})).rejects.toThrow(
      /serves token-rotator:index:Credential, and the component token-rotator:index:TokenRotator$/,
    );
  });
});

describe('names and ids', () => {
  it('takes the resource name from a URN, parents included', () => {
    expect(resourceNameOf(URN)).toBe('sirv-prod');
    expect(resourceNameOf(`urn:pulumi:dev::p::my:Comp$${CREDENTIAL_TOKEN}::a::b`)).toBe('b');
  });

  it('splits an import id into prefix and name, and refuses one that is not PREFIX NAME', () => {
    expect(parseImportId('token-rotator/sirv-prod')).toEqual({ prefix: 'token-rotator/', name: 'sirv-prod' });
    expect(parseImportId('team/a/sirv')).toEqual({ prefix: 'team/a/', name: 'sirv' });
    expect(parseImportId('sirv')).toEqual({ prefix: 'token-rotator/', name: 'sirv' });
    for (const bad of ['token-rotator/', 'a b/c', 'x/-bad', `p/${'n'.repeat(65)}`]) {
      expect(() => parseImportId(bad), bad).toThrow(/is not PREFIX NAME/);
    }
  });
});

describe('TokenRotatorProvider.read for pulumi import', () => {
  const sm = mockClient(SecretsManagerClient);
  const provider = new TokenRotatorProvider('0.1.0');
  const ARN = (kind: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:team/adopted/${kind}-AbCdEf`;
  const IMPORT_URN = `urn:pulumi:dev::platform::${CREDENTIAL_TOKEN}::adopted`;

  beforeEach(() => {
    sm.reset();
    sm.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => {
      const kind = input.SecretId.endsWith('/client') ? 'client' : 'token';
      return {
        ARN: ARN(kind),
        Name: input.SecretId,
        Tags: [
          { Key: 'token-rotator:credential', Value: 'adopted' },
          { Key: 'team', Value: 'platform' },
        ],
      };
    });
    sm.on(GetSecretValueCommand, { SecretId: 'team/adopted/client' }).resolves({
      SecretString: JSON.stringify({ version: 1, issuer: sirvIssuer(), policy: { refreshFraction: 0.5 } }),
      VersionId: 'v1',
    });
  });

  it('reads the declaration back from the client secret, the issuer as a secret, never in the clear', async () => {
    // Act
    const result = await provider.read('team/adopted', IMPORT_URN, {});
    // Assess
    expect(result.id).toBe('team/adopted');
    expect(reveal(result.inputs)).toEqual({
      name: 'adopted',
      prefix: 'team/',
      // As read: the stored issuer, its defaults filled in.
      issuer: parseIssuerConfig(sirvIssuer()),
      policy: { refreshFraction: 0.5 },
      tags: { team: 'platform' },
    });
    expect(reveal(result.props)).toMatchObject({
      tokenSecretArn: ARN('token'),
      clientSecretArn: ARN('client'),
      tokenSecretName: 'team/adopted/token',
      clientSecretName: 'team/adopted/client',
      readPolicy: expect.stringContaining(ARN('token')),
    });
    expect(clearText(result.inputs)).not.toContain(PLANTED);
    expect(clearText(result.props)).not.toContain(PLANTED);
  });

  it('adopts a client secret kept in a clientSecretSource as the reference, never the value read from it', async () => {
    // Prepare
    const source = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:platform/sirv-AbCdEf';
    const { clientSecret: _kept, ...withoutSecret } = sirvIssuer();
    sm.on(GetSecretValueCommand, { SecretId: 'team/adopted/client' }).resolves({
      SecretString: JSON.stringify({
        version: 1,
        issuer: withoutSecret,
        policy: {},
        clientSecretSource: { secretArn: source },
      }),
      VersionId: 'v1',
    });
    sm.on(GetSecretValueCommand, { SecretId: source }).resolves({ SecretString: PLANTED, VersionId: 's1' });
    // Act
    const result = await provider.read('team/adopted', IMPORT_URN, {});
    // Assess
    const inputs = reveal(result.inputs) as Record<string, unknown>;
    expect(inputs.clientSecretSource).toEqual({ secretArn: source });
    expect(inputs.issuer).not.toHaveProperty('clientSecret');
    expect(JSON.stringify(reveal(result.inputs))).not.toContain(PLANTED);
    expect(JSON.stringify(reveal(result.props))).not.toContain(PLANTED);
  });

  it('finds nothing to adopt when the client secret is scheduled for deletion', async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves({ ARN: ARN('client'), DeletedDate: new Date(), Tags: [] });
    // Act
    const result = await provider.read('team/adopted', IMPORT_URN, {});
    // Assess
    expect(result).toEqual({});
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('refuses any id that is not PREFIX NAME with a bounded message, before asking AWS', async () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (id) => {
        let parsed: { prefix: string; name: string } | undefined;
        try {
          parsed = parseImportId(id);
        } catch (e) {
          expect((e as Error).message).toMatch(/is not PREFIX NAME/);
          expect((e as Error).message.length).toBeLessThan(600);
          return;
        }
        expect(`${parsed.prefix}${parsed.name}`.endsWith(id)).toBe(true);
        expect(parsed.name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,63}$/);
      }),
    );
    await expect(provider.read('bad id/with space', IMPORT_URN, {})).rejects.toThrow(/is not PREFIX NAME/);
    expect(sm.calls()).toHaveLength(0);
  });
});
