// Builds the archives of the token-rotator provider plugin into dist/plugin-archive/:
// `pulumi-resource-token-rotator-v<version>-<os>-<arch>.tar.gz`, the names `pulumi plugin install`
// asks a `github://` pluginDownloadURL for, each holding
//   pulumi-plugin.json              (what the engine reads: a resource plugin named token-rotator)
//   pulumi-resource-token-rotator   (the launcher: execs node on the bundle)
//   token-rotator-plugin.js         (plugin/main.ts and every module it loads, @pulumi/pulumi, gRPC,
//                                    the AWS SDK and @pulumi/aws included, bundled by esbuild)
//   lambda-bundle/                  (the rotator Lambda's bundle, scripts/build-lambda.mjs's output,
//                                    which the TokenRotator component deploys by default)
// The bundle is JavaScript, so the archives differ only in their names; each needs Node.js 22+
// on PATH (docs/plugin.md says why it is not a single executable). Windows is not served: the
// launcher is a POSIX shell script.
//
// Install one with `pulumi plugin install resource token-rotator <version> --file <archive>`.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outDir = join(root, 'dist', 'plugin-archive');
// Staged outside dist/: the npm package carries dist/**/*.js, and the bundle belongs in the archives only.
const staging = mkdtempSync(join(tmpdir(), 'token-rotator-plugin-build-'));
/** The platforms a release serves (Pulumi's os-arch names). */
export const PLUGIN_PLATFORMS = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64'];

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

try {
  await build({
    entryPoints: [join(root, 'plugin', 'main.ts')],
    outfile: join(staging, 'token-rotator-plugin.js'),
    bundle: true,
    platform: 'node',
    // The oldest Node.js the package supports (package.json engines).
    target: 'node22',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
} catch {
  // esbuild has already printed each error with its file and line.
  console.error('build-plugin: esbuild failed (see the errors above).');
  rmSync(staging, { recursive: true, force: true });
  process.exit(1);
}
// Built here, not taken as found: the archive must carry the rotator of the same sources.
execFileSync(process.execPath, [join(root, 'scripts', 'build-lambda.mjs')], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
cpSync(join(root, 'dist', 'lambda-bundle'), join(staging, 'lambda-bundle'), { recursive: true });
copyFileSync(join(root, 'plugin', 'pulumi-resource-token-rotator'), join(staging, 'pulumi-resource-token-rotator'));
chmodSync(join(staging, 'pulumi-resource-token-rotator'), 0o755);
writeFileSync(
  join(staging, 'pulumi-plugin.json'),
  `${JSON.stringify({ resource: true, name: 'token-rotator', version }, null, 2)}\n`,
);

const files = ['pulumi-plugin.json', 'pulumi-resource-token-rotator', 'token-rotator-plugin.js', 'lambda-bundle'];
for (const platform of PLUGIN_PLATFORMS) {
  const archive = join(outDir, `pulumi-resource-token-rotator-v${version}-${platform}.tar.gz`);
  execFileSync('tar', ['-czf', archive, '-C', staging, ...files]);
}
const bundleBytes = readFileSync(join(staging, 'token-rotator-plugin.js')).length;
const archiveBytes = readFileSync(
  join(outDir, `pulumi-resource-token-rotator-v${version}-${PLUGIN_PLATFORMS[0]}.tar.gz`),
).length;
rmSync(staging, { recursive: true, force: true });
console.log(
  `build-plugin: ${PLUGIN_PLATFORMS.length} archives of token-rotator v${version} in dist/plugin-archive/ (plugin bundle ${(bundleBytes / 1e6).toFixed(1)} MB, archive ${(archiveBytes / 1e6).toFixed(2)} MB)`,
);
