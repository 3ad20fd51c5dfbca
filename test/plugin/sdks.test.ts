/**
 * The SDKs generated from the plugin's schema (scripts/build-sdks.sh, run by this project's
 * globalSetup): the Go module builds against the Pulumi Go SDK, the Node.js package compiles with
 * the dependencies it declares, every SDK keeps the issuer block secret and declares the
 * TokenRotator component as a remote component (built by the plugin's construct). The Python SDK
 * runs a whole program in python.test.ts.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

const execFileAsync = promisify(execFile);
const sdkDir = resolve(__dirname, '..', '..', 'dist-sdk');

describe('the SDKs generated from the plugin schema', () => {
  it('the Go SDK builds, marks the issuer secret, and declares the component remote', async () => {
    // Prepare
    const dir = join(sdkDir, 'go');
    const env = {
      ...process.env,
      GOFLAGS: '-mod=mod',
      GONOSUMDB: 'github.com/pulumi/pulumi',
      GOTOOLCHAIN: 'local',
    };
    // Act: a cold Go cache compiles the Pulumi Go SDK (about 2 minutes on 2 cores); a warm one, seconds.
    await execFileAsync('go', ['mod', 'tidy'], { cwd: dir, env, timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 });
    const build = await execFileAsync('go', ['build', './...'], {
      cwd: dir,
      env,
      timeout: 10 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const credential = await readFile(join(dir, 'tokenrotator', 'credential.go'), 'utf8');
    const rotator = await readFile(join(dir, 'tokenrotator', 'tokenRotator.go'), 'utf8');
    // Assess
    expect(build.stderr).toBe('');
    expect(credential).toMatch(/pulumi\.AdditionalSecretOutputs\(\[\]string\{\s*"issuer",\s*\}\)/);
    expect(credential).toContain('ctx.RegisterResource("token-rotator:index:Credential"');
    expect(rotator).toContain('ctx.RegisterRemoteComponentResource("token-rotator:index:TokenRotator"');
    // Arguments the component needs before it declares anything are plain values in the SDK.
    expect(rotator).toMatch(/\bPrefix \*string\b/);
    expect(rotator).toMatch(/\bKmsKeyArn pulumi\.StringPtrInput\b/);
  });

  it('the Node.js SDK compiles with the dependencies it declares, and declares the component remote', async () => {
    // Prepare: a copy, so the generated directory stays as generated.
    const dir = await mkdtemp(join(tmpdir(), 'token-rotator-nodejs-sdk-'));
    await cp(join(sdkDir, 'nodejs'), dir, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: [inject('node22Bin'), process.env.PATH].join(':') };
    for (const name of Object.keys(env)) if (name.startsWith('npm_')) delete env[name];
    // Act: as a user builds it (npm install fetches @pulumi/pulumi and TypeScript in the ranges it names).
    await execFileAsync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: dir,
      env,
      timeout: 5 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const build = await execFileAsync('npm', ['run', '--silent', 'build'], { cwd: dir, env, timeout: 5 * 60_000 });
    const compiled = await readFile(join(dir, 'bin', 'tokenRotator.js'), 'utf8');
    const credential = await readFile(join(dir, 'credential.ts'), 'utf8');
    // Assess
    expect(build.stdout + build.stderr).toBe('');
    expect(compiled).toMatch(/super\(TokenRotator\.__pulumiType, name, resourceInputs, opts, true \/\*remote\*\/\)/);
    expect(credential).toMatch(/additionalSecretOutputs: \["issuer"\]/);
    await rm(dir, { recursive: true, force: true });
  });

  it('the Python SDK, built as a wheel, marks the issuer secret and asks for this plugin version', async () => {
    // Prepare
    const wheel = inject('pythonSdkWheel');
    // Act
    const credential = await readFile(join(sdkDir, 'python', 'pulumi_token_rotator', 'credential.py'), 'utf8');
    const rotator = await readFile(join(sdkDir, 'python', 'pulumi_token_rotator', 'token_rotator.py'), 'utf8');
    const plugin = JSON.parse(
      await readFile(join(sdkDir, 'python', 'pulumi_token_rotator', 'pulumi-plugin.json'), 'utf8'),
    ) as Record<string, unknown>;
    // Assess
    expect(wheel).toMatch(new RegExp(`pulumi_token_rotator-${inject('pluginVersion')}-py3-none-any\\.whl$`));
    expect(credential).toContain('additional_secret_outputs=["issuer"]');
    expect(rotator).toContain('class TokenRotator(pulumi.ComponentResource)');
    expect(rotator).toMatch(
      /super\(TokenRotator, __self__\).__init__\(\s*'token-rotator:index:TokenRotator',[^)]*remote=True\)/s,
    );
    expect(plugin).toEqual({
      resource: true,
      name: 'token-rotator',
      version: inject('pluginVersion'),
      server: 'github://api.github.com/token-rotator/token-rotator',
    });
  });
});
