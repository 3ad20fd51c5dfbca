// Bundles the rotator Lambda (lambda/index.ts) with esbuild into dist/lambda-bundle/: an ES module
// entry index.mjs plus chunk files (*.mjs), each with its source map (*.mjs.map). That directory
// is what the TokenRotator component uploads; the Node.js runtimes (nodejs24.x, nodejs22.x) resolve the handler setting
// `index.handler` to index.mjs (it tries index.js, then index.mjs) and imports it.
//
// Why ESM with code splitting: a cold start pays V8 for parsing every byte the entry loads, and
// only an import() can leave code out of that. Each dynamic import() in the sources (the issuers,
// the KMS, EventBridge and Lambda clients) becomes a chunk loaded by the first invocation that
// needs it, so an idle sweep loads only what it runs.
//
// Writes esbuild's metafile to dist/lambda-bundle.meta.json (beside the bundle directory, so it is
// not uploaded) and prints the bundle's size and the part a cold start loads.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { coldStartOutputs, LAMBDA_ESM_OPTIONS } from './lambda-esbuild-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'lambda', 'index.ts');
const outDir = join(root, 'dist', 'lambda-bundle');
const metafilePath = join(root, 'dist', 'lambda-bundle.meta.json');

if (!existsSync(entry)) {
  console.error(
    `build-lambda: ${relative(root, entry)} does not exist; the rotator's entry (exporting "handler") must be written before it can be bundled.`,
  );
  process.exit(1);
}

// Start clean so no stale file from an earlier build (an index.js, an old chunk) ends up in the
// uploaded archive: the runtime would load an index.js before index.mjs.
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });

let result;
try {
  result = await build({ ...LAMBDA_ESM_OPTIONS, entryPoints: { index: entry }, outdir: outDir });
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

// With splitting, esbuild hands an import() of a CommonJS module back as `{ default }` only
// (evanw/esbuild#3245), so `(await import('@aws-sdk/client-kms')).KMSClient` would be undefined at
// run time though the sources' tests pass. Such an import() must go through an ES module that
// re-exports the names (core/kms-sdk.ts shows how).
const cjsImports = Object.entries(result.metafile.inputs).flatMap(([importer, input]) =>
  input.imports
    .filter((i) => i.kind === 'dynamic-import' && result.metafile.inputs[i.path]?.format === 'cjs')
    .map((i) => `${importer} imports ${i.path}`),
);
if (cjsImports.length > 0) {
  console.error(
    `build-lambda: import() of a CommonJS module, which the split bundle would answer with { default } only: ${cjsImports.join('; ')}. Import an ES module that re-exports the names it needs instead (see core/kms-sdk.ts).`,
  );
  process.exit(1);
}

const files = Object.entries(result.metafile.outputs).filter(([path]) => path.endsWith('.mjs'));
const total = files.reduce((sum, [, output]) => sum + output.bytes, 0);
const coldBytes = coldStartOutputs(result.metafile).reduce((sum, path) => sum + result.metafile.outputs[path].bytes, 0);
await writeFile(metafilePath, JSON.stringify(result.metafile));
console.log(
  `build-lambda: ${relative(root, outDir)}/ ${files.length} files, ${total} bytes (${(total / 1024).toFixed(1)} KiB); index.mjs and its static imports (a cold start's load) ${coldBytes} bytes; metafile ${relative(root, metafilePath)}`,
);
