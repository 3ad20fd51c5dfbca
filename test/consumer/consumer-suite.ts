import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { deleteCredentialSecrets, describeCredential, readClientSecret } from '../../core/store';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { secretsManagerClient } from '../helpers/aws';
import {
  afterAllTearsDown,
  credentialCycle,
  itChangesNothingOnASecondUp,
  itChangesTheClientSecret,
  itDestroysAndMakesAgain,
  itLeaksNoPlantedValue,
} from '../helpers/credential-cycle';
import { type ConsumerRuntime, PlatformProject } from './platform-project';

const NAME = 'sirv-prod';
const PREFIX = 'token-rotator/';
// The values the guide's example config lines carry, which the suite replaces by planted ones.
const GUIDE_CLIENT_ID = 'ZcnZNfzwRhQExoHFoGpxWJ4p2R';
const GUIDE_SECRET = 'TM3d0CfX…';
// The stack's region (the guide's) and profile (the test's own), and a shell that disagrees with both:
// another region, and a profile that exists nowhere. Whatever follows the shell fails or goes astray.
const STACK_REGION = 'us-east-1';
const STACK_PROFILE = 'platform';
const SHELL = { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'us-west-2', AWS_PROFILE: 'shell-only-profile' };

/** AWS config files holding the stack's profile (moto's throwaway keys), as a user's machine would. */
async function awsConfigFiles(dir: string): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'config');
  const credentials = join(dir, 'credentials');
  await writeFile(config, `[profile ${STACK_PROFILE}]\nregion = ${STACK_REGION}\n`);
  await writeFile(credentials, `[${STACK_PROFILE}]\naws_access_key_id = testing\naws_secret_access_key = testing\n`);
  return { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials };
}

/** Defines the suite for one runtime. */
export function describeConsumer(runtime: ConsumerRuntime): void {
  describe(`a platform program that installed the packed package (${runtime.label})`, () => {
    let sirv: SirvFake;
    let project: PlatformProject;
    const cycle = credentialCycle({
      label: 'consumer',
      name: NAME,
      prefix: PREFIX,
      project: () => project,
      sirv: () => sirv,
    });
    // Every secret and token of the run (cycle.planted): none may appear anywhere but moto.
    const { clientId, secret, clients, where, storedToken, pulumi } = cycle;

    beforeAll(async () => {
      // A run that died half-way may have left the credential behind: start from nothing.
      await deleteCredentialSecrets(where(), NAME, { forceDeleteWithoutRecovery: true }).catch(() => undefined);
      sirv = await startSirvFake({ clients });
      project = await PlatformProject.create(runtime, inject('pulumiBin'), inject('consumerTarball'));
      // The user's shell: a profile in its AWS config files, no keys in the environment.
      delete project.env.AWS_ACCESS_KEY_ID;
      delete project.env.AWS_SECRET_ACCESS_KEY;
      Object.assign(project.env, await awsConfigFiles(join(project.base, 'aws')), SHELL);
    }, 120_000);

    afterAllTearsDown(cycle);

    it("installs with the guide's command, one copy of @pulumi/pulumi, on the intended node", async () => {
      // Prepare
      const install = project.readmeCommands('install')[runtime.installLine];
      expect(install?.slice(0, 3)).toEqual(['npm', 'install', './token-rotator-0.1.0.tgz']);
      // Act
      const run = await project.ok(install ?? [], { timeoutMs: 10 * 60_000 });
      const node = await project.ok(['node', '--version']);
      const ls = await project.ok(['npm', 'ls', '@pulumi/pulumi']);
      const copies = await project.ok(['npm', 'ls', '@pulumi/pulumi', '--all', '--parseable']);
      // Assess
      const installed = JSON.parse(
        await readFile(join(project.dir, 'node_modules', '@pulumi', 'pulumi', 'package.json'), 'utf8'),
      ) as { version: string };
      expect(installed.version).toBe(runtime.expectedSdk);
      const paths = copies.stdout.split('\n').filter((line) => line.endsWith('/@pulumi/pulumi'));
      expect(paths).toEqual([join(project.dir, 'node_modules', '@pulumi', 'pulumi')]);
      expect(ls.stdout).toContain('deduped');
      if (runtime.nodeBin)
        expect(node.stdout).toBe((await project.ok([join(runtime.nodeBin, 'node'), '--version'])).stdout);
      else expect(node.stdout.trim()).toBe(process.version);
      console.info(
        `consumer (${runtime.label}): npm install took ${(run.ms / 1000).toFixed(1)} s on ${node.stdout.trim()}\n${ls.stdout.trim()}`,
      );
    });

    it("sets the guide's stack config and previews without writing anything", async () => {
      // Prepare
      const lines = project.readmeCommands('stack');
      expect(lines).toEqual([
        ['pulumi', 'stack', 'init', 'dev'],
        ['pulumi', 'config', 'set', 'aws:region', STACK_REGION],
        ['pulumi', 'config', 'set', 'sirvClientId', GUIDE_CLIENT_ID],
        ['pulumi', 'config', 'set', '--secret', 'sirvClientSecret', GUIDE_SECRET],
        ['pulumi', 'preview'],
        ['pulumi', 'up'],
      ]);
      const mine = (argv: string[]) =>
        argv.map((w) => (w === GUIDE_CLIENT_ID ? clientId : w === GUIDE_SECRET ? secret : w));
      // Act
      for (const argv of lines.slice(0, 4)) await project.ok(mine(argv));
      // Only the test's: the issuer is the Sirv fake on loopback, over plain http; the stack's profile.
      await project.ok(['pulumi', 'config', 'set', '--plaintext', 'sirvTokenUrl', sirv.tokenUrl]);
      await project.ok(['pulumi', 'config', 'set', 'sirvAllowInsecureHttp', 'true']);
      await project.ok(['pulumi', 'config', 'set', 'aws:profile', STACK_PROFILE]);
      const preview = await project.ok(lines[4] ?? []);
      // Assess
      expect(preview.stdout).toMatch(/\+ +\S*ProviderCredential +sirv-prod +create/);
      expect(preview.stdout).toMatch(/2 to create/);
      const state = await describeCredential(where(), NAME);
      expect(state.client.exists || state.token.exists).toBe(false);
      expect(await readFile(join(project.dir, 'Pulumi.dev.yaml'), 'utf8')).toContain('secure:');
    });

    it("pulumi up creates the credential in the stack's region, through its profile, whatever the shell says", async () => {
      // Act
      const run = await project.ok([...(project.readmeCommands('stack')[5] ?? []), '--yes']);
      const outputs = await pulumi('stack', 'output', '--json', '--show-secrets');
      // Assess
      console.info(`consumer (${runtime.label}): pulumi up\n${run.stdout.trim()}`);
      expect(run.stdout).toMatch(/2 created/);
      const token = await storedToken();
      expect(token).toMatchObject({ credential: NAME, issuer: 'sirv', generation: 1 });
      expect(sirv.tokensIssued).toBe(1);
      const out = JSON.parse(outputs.stdout) as { sirvTokenSecretArn: string; sirvReadPolicy: string };
      expect(out.sirvTokenSecretArn).toMatch(
        /^arn:aws:secretsmanager:us-east-1:\d+:secret:token-rotator\/sirv-prod\/token-/,
      );
      // Nothing in the shell's region.
      const shellRegion = secretsManagerClient({ region: SHELL.AWS_REGION });
      expect(await describeCredential({ client: shellRegion, prefix: PREFIX }, NAME)).toMatchObject({
        client: { exists: false },
        token: { exists: false },
      });
      shellRegion.destroy();
      expect(JSON.parse(out.sirvReadPolicy)).toMatchObject({
        Statement: [expect.objectContaining({ Resource: out.sirvTokenSecretArn })],
      });
      expect((await readClientSecret(where(), NAME)).document.issuer).toMatchObject({ clientId, clientSecret: secret });
    });

    itChangesNothingOnASecondUp(cycle);

    it('a check failure names the credential, the field and what to do, without value {<nil>}', async () => {
      // Prepare: plain http without allowInsecureHttp.
      await project.ok(['pulumi', 'config', 'set', 'sirvAllowInsecureHttp', 'false']);
      // Act
      const run = await pulumi('preview');
      await project.ok(['pulumi', 'config', 'set', 'sirvAllowInsecureHttp', 'true']);
      // Assess
      const printed = run.stdout + run.stderr;
      expect(run.code).not.toBe(0);
      expect(printed).toMatch(
        /ProviderCredential resource 'sirv-prod' has a problem: Credential "sirv-prod": issuer\.url: expected an https:\/\/ URL \(set allowInsecureHttp/,
      );
      expect(printed).not.toContain('<nil>');
    });

    itChangesTheClientSecret(cycle);

    it("the installed package's CLI reads the credential from the same moto", async () => {
      // Prepare
      const [readmeStatus] = project.readmeCommands('status');
      expect(readmeStatus).toEqual(['npx', 'token-rotator', 'status', NAME, '--region', STACK_REGION]);
      // Act: with the same credentials as pulumi (the CLI reads the standard AWS configuration).
      const env = { AWS_PROFILE: STACK_PROFILE };
      const table = await project.run(readmeStatus ?? [], { env });
      const json = await project.run([...(readmeStatus ?? []), '--json'], { env });
      // Assess
      expect(table.code, table.stdout + table.stderr).toBe(0);
      expect(table.stdout).toContain(NAME);
      expect(json.code, json.stderr).toBe(0);
      const token = await storedToken();
      expect(JSON.parse(json.stdout)).toEqual([
        expect.objectContaining({ credential: NAME, state: 'ok', issuer: 'sirv', generation: token?.generation }),
      ]);
    });

    itDestroysAndMakesAgain(cycle);

    itLeaksNoPlantedValue(cycle, { planted: 6, sources: 20 });
  });
}
