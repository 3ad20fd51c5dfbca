// Bundles the rotator Lambda (lambda/index.ts) with esbuild into dist/lambda-bundle/index.js
// (+ index.js.map), the directory the TokenRotator component uploads. Writes esbuild's metafile
// to dist/lambda-bundle.meta.json (beside the bundle directory, so it is not uploaded) and prints
// the bundle's size.
import { existsSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'lambda', 'index.ts');
const outDir = join(root, 'dist', 'lambda-bundle');
const outfile = join(outDir, 'index.js');
const metafilePath = join(root, 'dist', 'lambda-bundle.meta.json');

if (!existsSync(entry)) {
  console.error(
    `build-lambda: ${relative(root, entry)} does not exist; the rotator's entry (exporting "handler") must be written before it can be bundled.`,
  );
  process.exit(1);
}

// Start clean so no stale file from an earlier build ends up in the uploaded archive.
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });

let result;
try {
  result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    sourcemap: 'external',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    // Nothing is external, @aws-sdk/* included. The nodejs22.x runtime does ship an AWS SDK v3,
    // but its version is whatever AWS deployed that week, not the one in package-lock.json that
    // our tests ran against; bundling deploys exactly what we tested (and lets esbuild drop
    // the parts we do not use).
    external: [],
    // esbuild's default resolution for platform node (`main` before `module`): the same CommonJS
    // entry points Node loaded in our tests; preferring `module` saves ~10 % but is not what ran.
  });
} catch {
  // esbuild has already printed each error with its file and line.
  console.error('build-lambda: esbuild failed (see the errors above).');
  process.exit(1);
}

// The rotator must never carry the Pulumi SDK: it would mean a provider module leaked into it.
const pulumiInputs = Object.keys(result.metafile.inputs).filter((p) => p.includes('node_modules/@pulumi/'));
if (pulumiInputs.length > 0) {
  console.error(
    `build-lambda: the bundle includes @pulumi/* modules, e.g. ${pulumiInputs[0]}; import them as types only.`,
  );
  process.exit(1);
}

await writeFile(metafilePath, JSON.stringify(result.metafile));
const { size } = await stat(outfile);
console.log(
  `build-lambda: ${relative(root, outfile)} ${size} bytes (${(size / 1024).toFixed(1)} KiB); metafile ${relative(root, metafilePath)}`,
);
