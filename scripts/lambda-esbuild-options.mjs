// The esbuild options of the rotator's Lambda bundle (scripts/build-lambda.mjs), shared with the
// cold-start benchmark so that its minimal-Lambda baseline is built exactly the same way, and
// with the provider plugin's bundle (scripts/build-plugin.mjs), another Node 22 ES module program.

// Bundled CommonJS (the AWS SDK's dist-cjs, Powertools) calls require() for Node's built-ins; an
// ES module has no require of its own, so every output file gets one from createRequire.
const REQUIRE_BANNER =
  "import{createRequire as __tokenRotatorCreateRequire}from'node:module';const require=__tokenRotatorCreateRequire(import.meta.url);";

/** Options for an ES module entry `index.mjs` plus chunks; add `entryPoints` and `outdir`. */
export const LAMBDA_ESM_OPTIONS = Object.freeze({
  bundle: true,
  platform: 'node',
  // The oldest runtime TokenRotator allows (LAMBDA_NODE_RUNTIMES in infra/settings.ts; a unit test
  // keeps the two equal): one bundle runs on each.
  target: 'node22',
  format: 'esm',
  // Every import() becomes a chunk that the runtime loads only when the code reaches it.
  splitting: true,
  // .mjs: ES modules whatever package.json (if any) sits above /var/task says.
  outExtension: { '.js': '.mjs' },
  chunkNames: '[name]-[hash]',
  banner: { js: REQUIRE_BANNER },
  minify: true,
  sourcemap: 'external',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Nothing is external, @aws-sdk/* included. The Node.js runtimes do ship an AWS SDK v3,
  // but its version is whatever AWS deployed that week, not the one in package-lock.json that
  // our tests ran against; bundling deploys exactly what we tested (and lets esbuild drop the
  // parts we do not use).
  external: [],
  // esbuild's default resolution for platform node (`main` before `module`): the same CommonJS
  // entry points Node loaded in our tests. Preferring `module` makes every bundle smaller and
  // faster to load (the minimal Lambda's most of all), but it is not what ran.
});

/**
 * The output files a cold start loads: the entry (`index.mjs`, the Lambda's) and, transitively,
 * every chunk it imports statically (chunks reached only by import() are left for the invocation
 * that needs them). Paths as the metafile names them.
 */
export function coldStartOutputs(metafile, entry = 'index.mjs') {
  const byBase = new Map(Object.keys(metafile.outputs).map((path) => [path.split('/').pop(), path]));
  const start = byBase.get(entry);
  const seen = new Set();
  const queue = start ? [start] : [];
  while (queue.length > 0) {
    const path = queue.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    for (const imported of metafile.outputs[path].imports) {
      if (imported.kind !== 'import-statement' || imported.external) continue;
      const next = byBase.get(imported.path.split('/').pop());
      if (next) queue.push(next);
    }
  }
  return [...seen];
}
