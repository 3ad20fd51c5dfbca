/**
 * The consumer suite's cycle for a credential, run through the provider plugin from a program in
 * another language (YAML, Python): the plugin archive installed as a user installs it, the real
 * pulumi CLI and language host, moto and the Sirv fake. Preview, up, a no-change up, a rejected
 * and an accepted client-secret change, refresh, destroy and up again, `pulumi import` of a
 * credential made outside Pulumi, and no planted secret in the state, the outputs or anything
 * printed. Run once per language by the test files beside this one.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { describeCredential, readClientSecret } from '../../core/store';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { create as createOutsidePulumi } from '../../provider/runtime';
import {
  afterAllTearsDown,
  credentialCycle,
  itChangesNothingOnASecondUp,
  itChangesTheClientSecret,
  itDestroysAndMakesAgain,
  itLeaksNoPlantedValue,
} from '../helpers/credential-cycle';
import { PluginProject } from './plugin-project';

/** What the suite asks of a language. */
export interface PluginLanguage {
  label: string;
  /** The project's name in its Pulumi.yaml (config keys are `PROJECT:key`). */
  project: string;
  /**
   * The program's files. The program reads config `sirvClientId`, `sirvClientSecret` (secret) and
   * `sirvTokenUrl`; declares credential `sirv-prod` (its name left to default to the resource
   * name) under `prefix`, a Sirv issuer at that URL with allowInsecureHttp, recoveryWindowInDays 7;
   * with `adopted`, also credential `adopted` (config `adoptedClientSecret`, same client id and
   * URL, no recoveryWindowInDays); and exports `sirvTokenSecretArn` and `sirvReadPolicy`.
   */
  files(options: { prefix: string; adopted: boolean }): Record<string, string>;
  /** Directories put on PATH after the pulumi CLI's and Node 22's (e.g. a venv's bin), and variables to set. */
  environment(): Promise<{ path: string[]; env?: Record<string, string> }>;
  /** Runs once the files are written, before the first pulumi command (e.g. installs the SDK). */
  prepare?(project: PluginProject): Promise<void>;
}

const NAME = 'sirv-prod';
const ADOPTED = 'adopted';

/** Defines the suite for one language. */
export function describeCredentialCycle(language: PluginLanguage): void {
  describe(`a ${language.label} program using the token-rotator plugin`, () => {
    const prefix = `plugin-${language.label.toLowerCase()}-${randomUUID().slice(0, 6)}/`;
    const adoptedSecret = `plugin-adopted-secret-${randomUUID()}`;
    let sirv: SirvFake;
    let project: PluginProject;
    const cycle = credentialCycle({
      label: 'plugin',
      name: NAME,
      prefix,
      upArgs: ['--skip-preview'],
      project: () => project,
      sirv: () => sirv,
    });
    // Every secret and token of the run (cycle.planted): none may appear anywhere but moto.
    cycle.planted.add(adoptedSecret);
    const { clientId, secret, clients, where, storedToken, pulumi, up } = cycle;

    beforeAll(async () => {
      sirv = await startSirvFake({ clients });
      const environment = await language.environment();
      project = await PluginProject.create(
        language.files({ prefix, adopted: false }),
        [inject('pulumiBin'), inject('node22Bin'), ...environment.path],
        environment.env,
      );
      await language.prepare?.(project);
    }, 600_000);

    afterAllTearsDown(cycle, [NAME, ADOPTED]);

    it('installs the plugin archive with pulumi plugin install, and serves its schema', async () => {
      // Act
      const version = inject('pluginVersion');
      await project.installPlugin();
      const list = await project.ok(['pulumi', 'plugin', 'ls', '--json']);
      const schema = await project.ok(['pulumi', 'package', 'get-schema', `token-rotator@${version}`]);
      // Assess
      expect(JSON.parse(list.stdout)).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'token-rotator', kind: 'resource', version })]),
      );
      const spec = JSON.parse(schema.stdout) as {
        pluginDownloadURL: string;
        resources: Record<string, { inputProperties: Record<string, { secret?: boolean }> }>;
      };
      expect(spec.pluginDownloadURL).toBe('github://api.github.com/token-rotator/token-rotator');
      expect(spec.resources['token-rotator:index:Credential']?.inputProperties.issuer?.secret).toBe(true);
    });

    it('sets the stack config and previews without writing anything', async () => {
      // Act
      await project.ok(['pulumi', 'stack', 'init', 'dev']);
      await project.ok(['pulumi', 'config', 'set', 'sirvClientId', clientId]);
      await project.ok(['pulumi', 'config', 'set', '--secret', 'sirvClientSecret', secret]);
      await project.ok(['pulumi', 'config', 'set', '--plaintext', 'sirvTokenUrl', sirv.tokenUrl]);
      const preview = await project.ok(['pulumi', 'preview']);
      // Assess
      expect(preview.stdout).toMatch(/\+ +token-rotator:index:Credential +sirv-prod +create/);
      const state = await describeCredential(where(), NAME);
      expect(state.client.exists || state.token.exists).toBe(false);
      expect(sirv.tokensIssued).toBe(0);
    });

    it('pulumi up creates the credential: validated against the issuer, both secrets in moto', async () => {
      // Act
      const run = await up();
      const outputs = await pulumi('stack', 'output', '--json', '--show-secrets');
      // Assess
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/2 created/);
      expect(await storedToken()).toMatchObject({ credential: NAME, issuer: 'sirv', generation: 1 });
      expect(sirv.tokensIssued).toBe(1);
      const out = JSON.parse(outputs.stdout) as { sirvTokenSecretArn: string; sirvReadPolicy: string };
      expect(out.sirvTokenSecretArn).toMatch(
        new RegExp(`^arn:aws:secretsmanager:us-east-1:\\d+:secret:${prefix}${NAME}/token-`),
      );
      expect(JSON.parse(out.sirvReadPolicy)).toMatchObject({
        Statement: [expect.objectContaining({ Resource: out.sirvTokenSecretArn })],
      });
      expect((await readClientSecret(where(), NAME)).document.issuer).toMatchObject({ clientId, clientSecret: secret });
    });

    itChangesNothingOnASecondUp(cycle);

    itChangesTheClientSecret(cycle);

    itDestroysAndMakesAgain(cycle);

    it('pulumi import adopts a credential made outside Pulumi, its client secret kept secret', async () => {
      // Prepare: a credential written by the same runtime, outside any stack.
      clients[`${clientId}-adopted`] = adoptedSecret;
      await createOutsidePulumi({
        name: ADOPTED,
        prefix,
        issuer: {
          kind: 'sirv',
          url: sirv.tokenUrl,
          allowInsecureHttp: true,
          clientId: `${clientId}-adopted`,
          clientSecret: adoptedSecret,
        },
        codeVersion: 'outside-pulumi',
      });
      await storedToken(ADOPTED);
      const issued = sirv.tokensIssued;
      // Act
      const imported = await pulumi(
        'import',
        'token-rotator:index:Credential',
        ADOPTED,
        `${prefix}${ADOPTED}`,
        '--yes',
        '--generate-code=false',
      );
      const exported = await project.ok(['pulumi', 'stack', 'export']);
      // The program now declares it, as a user finishes an import.
      await project.ok(['pulumi', 'config', 'set', '--secret', 'adoptedClientSecret', adoptedSecret]);
      await project.write(language.files({ prefix, adopted: true }));
      const after = await pulumi('preview', '--expect-no-changes');
      // Assess
      expect(imported.code, imported.stdout + imported.stderr).toBe(0);
      expect(imported.stdout).toMatch(/1 imported/);
      const resources = (
        JSON.parse(exported.stdout) as {
          deployment: {
            resources: {
              urn: string;
              id?: string;
              inputs: Record<string, unknown>;
              outputs: Record<string, unknown>;
            }[];
          };
        }
      ).deployment.resources;
      const adopted = resources.find((r) => r.urn.endsWith(`::${ADOPTED}`));
      expect(adopted?.id).toBe(`${prefix}${ADOPTED}`);
      expect(adopted?.outputs).toMatchObject({
        name: ADOPTED,
        prefix,
        tokenSecretArn: expect.stringContaining(`${prefix}${ADOPTED}/token`),
        clientSecretArn: expect.stringContaining(`${prefix}${ADOPTED}/client`),
        readPolicy: expect.stringContaining('secretsmanager:GetSecretValue'),
      });
      // The issuer, client secret included, is in the state as ciphertext only.
      for (const side of [adopted?.inputs, adopted?.outputs]) {
        expect(side?.issuer).toMatchObject({ '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270' });
        expect(JSON.stringify(side)).not.toContain(adoptedSecret);
      }
      expect(after.code, after.stdout + after.stderr).toBe(0);
      expect(sirv.tokensIssued).toBe(issued);
    });

    itLeaksNoPlantedValue(cycle, { planted: 8, sources: 15 });
  });
}
