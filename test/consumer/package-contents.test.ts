/**
 * What `npm pack` puts in the tarball, the package linters, and the serialized provider of the
 * built package: everything the installed package's runtime needs, nothing else.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as {
  private?: boolean;
  license: string;
  repository: { url: string };
  homepage: string;
  bugs: { url: string };
  engines: { node: string };
  scripts: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  exports: Record<string, string | { types?: string; default?: string }>;
  bin: Record<string, string>;
};

async function packedFiles(): Promise<string[]> {
  // --ignore-scripts: prepack would clean and rebuild dist/ while other tests read it; the
  // consumer project's globalSetup has just packed (and so built) it.
  const { stdout } = await execFileAsync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
    timeout: 120_000,
  });
  const [packed] = JSON.parse(stdout) as { files: { path: string }[] }[];
  return (packed?.files ?? []).map((f) => f.path);
}

describe('the packed package', () => {
  it('holds the built JavaScript, a .d.ts per entry point, the Lambda bundle, and nothing of the sources or tests', async () => {
    // Act
    const files = await packedFiles();
    // Assess
    for (const file of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'SECURITY.md']) {
      expect(files).toContain(file);
    }
    // The Lambda bundle: the ES module entry, its chunks, a source map for each, no stale index.js
    // (the runtime would load it before index.mjs).
    const bundle = files.filter((f) => f.startsWith('dist/lambda-bundle/'));
    expect(bundle).toContain('dist/lambda-bundle/index.mjs');
    expect(bundle.filter((f) => f.endsWith('.mjs')).length).toBeGreaterThan(1);
    for (const f of bundle.filter((f) => f.endsWith('.mjs'))) expect(bundle, f).toContain(`${f}.map`);
    expect(bundle.filter((f) => !/\.mjs(\.map)?$/.test(f))).toEqual([]);
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') {
        expect(files, subpath).toContain(target.replace(/^\.\//, ''));
        continue;
      }
      expect(files, `${subpath} default`).toContain(target.default?.replace(/^\.\//, ''));
      expect(target.types, `${subpath} types`).toMatch(/\.d\.ts$/);
      expect(files, `${subpath} types`).toContain(target.types?.replace(/^\.\//, ''));
    }
    for (const bin of Object.values(manifest.bin)) expect(files).toContain(bin.replace(/^\.\//, ''));
    const unwanted = files.filter(
      (f) =>
        /(^|\/)(test|tests|__tests__|fakes|support|local-stack|demo|bench|examples|scripts)\//.test(f) ||
        /\.test\.|\.spec\./.test(f) ||
        (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) ||
        (/\.map$/.test(f) && !/^dist\/lambda-bundle\/[^/]+\.mjs\.map$/.test(f)) ||
        f.endsWith('.meta.json') ||
        /^(tsconfig|vitest|biome)/.test(f),
    );
    expect(unwanted).toEqual([]);
    const topLevel = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'SECURITY.md', 'Pulumi.yaml'];
    expect(files.filter((f) => !f.startsWith('dist/') && !topLevel.includes(f))).toEqual(['bin/token-rotator.js']);
  });

  it('is publishable: not private, says where it lives, builds before it packs, and npm publish --dry-run warns of nothing', async () => {
    // Assess the manifest
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe('Apache-2.0');
    expect(readFileSync(resolve(repoRoot, 'LICENSE'), 'utf8')).toContain(
      'Apache License\n                           Version 2.0',
    );
    expect(manifest.repository.url).toMatch(/^git\+https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/);
    expect(manifest.homepage).toMatch(/^https:\/\//);
    expect(manifest.bugs.url).toMatch(/^https:\/\//);
    expect(manifest.engines.node).toBe('>=22');
    expect(manifest.scripts.prepack).toMatch(/npm run clean && npm run build/);
    // A workload that imports only the reader installs no Pulumi (workload-install.test.ts installs it so).
    for (const peer of Object.keys(manifest.peerDependencies)) {
      expect(manifest.peerDependenciesMeta[peer], peer).toEqual({ optional: true });
    }
    // Act: npm "auto-corrects" a manifest it finds wrong and only warns; the script fails on any warning.
    const { stdout } = await execFileAsync(
      'bash',
      [resolve(repoRoot, 'scripts', 'publish-dry-run.sh'), '--ignore-scripts'],
      {
        cwd: repoRoot,
        timeout: 120_000,
      },
    );
    // Assess
    expect(stdout).toContain('publish-dry-run: name: token-rotator');
  });

  it('passes publint and arethetypeswrong (npm run lint:package)', async () => {
    // Act: both exit non-zero on any finding.
    const { stdout } = await execFileAsync('npm', ['run', '--silent', 'lint:package'], {
      cwd: repoRoot,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 180_000,
    });
    // Assess
    expect(stdout).toContain('All good!');
    expect(stdout).toContain('No problems found');
  });

  it('serializes its provider without capturing a module: the provider process requires only the runtime, by name', async () => {
    // Prepare: the built files in a fresh node, as a program that installed the package loads them.
    const script = `
      const pulumi = require('@pulumi/pulumi');
      const { credentialOperations } = require(${JSON.stringify(resolve(repoRoot, 'dist', 'provider', 'provider.js'))});
      const provider = credentialOperations();
      pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true }).then((r) => process.stdout.write(r.text));
    `;
    // Act
    const { stdout } = await execFileAsync(process.execPath, ['-e', script], { cwd: repoRoot, timeout: 60_000 });
    // Assess
    expect(stdout).toContain('"token-rotator/provider-runtime"');
    expect(stdout).not.toContain('__pulumi_closure_import');
    expect([...stdout.matchAll(/require\(([^)]*)\)/g)].map((m) => m[1])).toEqual(['moduleName']);
  });
});
