// Builds the archives of the token-rotator provider plugin into dist/plugin-archive/:
// `pulumi-resource-token-rotator-v<version>-<os>-<arch>.tar.gz`, the names `pulumi plugin install`
// asks a `github://` pluginDownloadURL for, each holding
//   pulumi-plugin.json              (what the engine reads: a resource plugin named token-rotator)
//   pulumi-resource-token-rotator   (the launcher: execs node on the bundle)
//   token-rotator-plugin/           (plugin/main.ts and every module it loads, @pulumi/pulumi, gRPC,
//                                    the AWS SDK and @pulumi/aws included, bundled by esbuild:
//                                    main.mjs and chunks)
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
import { coldStartOutputs, LAMBDA_ESM_OPTIONS } from './lambda-esbuild-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outDir = join(root, 'dist', 'plugin-archive');
// Staged outside dist/: the npm package carries dist/**/*.js, and the bundle belongs in the archives only.
const staging = mkdtempSync(join(tmpdir(), 'token-rotator-plugin-build-'));
/** The platforms a release serves (Pulumi's os-arch names). */
export const PLUGIN_PLATFORMS = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64'];

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

// CommonJS code in an ES module bundle still finds `require`, `__filename` and `__dirname`.
const ESM_BANNER = [
  "import{createRequire as __trCreateRequire}from'node:module';",
  "import{dirname as __trDirname}from'node:path';",
  "import{fileURLToPath as __trFileURLToPath}from'node:url';",
  'const require=__trCreateRequire(import.meta.url);',
  'const __filename=__trFileURLToPath(import.meta.url);',
  'const __dirname=__trDirname(__filename);',
].join('');

let metafile;
try {
  ({ metafile } = await build({
    entryPoints: { main: join(root, 'plugin', 'main.ts') },
    outdir: join(staging, 'token-rotator-plugin'),
    // The Lambda bundle's options (Node 22, ES modules split at each import(), everything
    // bundled): the component's code (@pulumi/aws and the root of @pulumi/pulumi, about 11 MB) is
    // a chunk only `construct` loads, so a program that declares credentials alone does not pay
    // for compiling it at every start of the plugin.
    ...LAMBDA_ESM_OPTIONS,
    banner: { js: ESM_BANNER },
    sourcemap: false,
  }));
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

const files = ['pulumi-plugin.json', 'pulumi-resource-token-rotator', 'token-rotator-plugin', 'lambda-bundle'];
for (const platform of PLUGIN_PLATFORMS) {
  const archive = join(outDir, `pulumi-resource-token-rotator-v${version}-${platform}.tar.gz`);
  execFileSync('tar', ['-czf', archive, '-C', staging, ...files]);
}
const outputs = Object.entries(metafile.outputs);
const bundleBytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
// What a start of the plugin loads: main.mjs and the chunks it imports statically.
const startBytes = coldStartOutputs(metafile, 'main.mjs').reduce((sum, path) => sum + metafile.outputs[path].bytes, 0);
const archiveBytes = readFileSync(
  join(outDir, `pulumi-resource-token-rotator-v${version}-${PLUGIN_PLATFORMS[0]}.tar.gz`),
).length;
rmSync(staging, { recursive: true, force: true });
console.log(
  `build-plugin: ${PLUGIN_PLATFORMS.length} archives of token-rotator v${version} in dist/plugin-archive/ (plugin bundle ${(bundleBytes / 1e6).toFixed(1)} MB, ${(startBytes / 1e6).toFixed(1)} MB of it loaded at start; archive ${(archiveBytes / 1e6).toFixed(2)} MB)`,
);
