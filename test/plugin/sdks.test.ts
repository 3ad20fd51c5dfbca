/**
 * The SDKs generated from the plugin's schema (scripts/build-sdks.sh, run by this project's
 * globalSetup): the Go module builds against the Pulumi Go SDK, and every SDK keeps the issuer
 * block secret. The Python SDK runs a whole program in python.test.ts.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

const execFileAsync = promisify(execFile);
const sdkDir = resolve(__dirname, '..', '..', 'dist-sdk');

describe('the SDKs generated from the plugin schema', () => {
  it('the Go SDK builds, and marks the issuer secret', async () => {
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
    // Assess
    expect(build.stderr).toBe('');
    expect(credential).toMatch(/pulumi\.AdditionalSecretOutputs\(\[\]string\{\s*"issuer",\s*\}\)/);
    expect(credential).toContain('ctx.RegisterResource("token-rotator:index:Credential"');
  });

  it('the Python SDK, built as a wheel, marks the issuer secret and asks for this plugin version', async () => {
    // Prepare
    const wheel = inject('pythonSdkWheel');
    // Act
    const credential = await readFile(join(sdkDir, 'python', 'pulumi_token_rotator', 'credential.py'), 'utf8');
    const plugin = JSON.parse(
      await readFile(join(sdkDir, 'python', 'pulumi_token_rotator', 'pulumi-plugin.json'), 'utf8'),
    ) as Record<string, unknown>;
    // Assess
    expect(wheel).toMatch(new RegExp(`pulumi_token_rotator-${inject('pluginVersion')}-py3-none-any\\.whl$`));
    expect(credential).toContain('additional_secret_outputs=["issuer"]');
    expect(plugin).toEqual({
      resource: true,
      name: 'token-rotator',
      version: inject('pluginVersion'),
      server: 'github://api.github.com/token-rotator/token-rotator',
    });
  });
});
