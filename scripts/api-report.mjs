// The package's public API, pinned: for each entry point in package.json "exports" (but
// ./package.json), API Extractor writes what it exports into etc/api/<entry>.api.md, which is
// committed. `npm run api:check` (CI) fails when the sources export something else than the
// committed report says, and prints the difference; `npm run api:update` rewrites the reports
// after a deliberate change (review the diff: it is the change users see).
//
// The declarations are compiled afresh from the sources into .local/api/dts (never dist/, which
// may be stale or be read by a test), so the check always judges the code as it is.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const update = process.argv.includes('--update');
const dtsDir = join(root, '.local', 'api', 'dts');
const reportFolder = join(root, 'etc', 'api');
const packageJsonFullPath = join(root, 'package.json');
const manifest = JSON.parse(readFileSync(packageJsonFullPath, 'utf8'));

rmSync(dtsDir, { recursive: true, force: true });
mkdirSync(reportFolder, { recursive: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(
  process.execPath,
  [
    tsc,
    '-p',
    join(root, 'tsconfig.build.json'),
    '--emitDeclarationOnly',
    '--declarationMap',
    'false',
    '--outDir',
    dtsDir,
  ],
  { cwd: root, stdio: 'inherit' },
);

/** `./core` → `token-rotator-core`; `.` → `token-rotator`. */
const reportName = (subpath) => [manifest.name, ...subpath.split('/').slice(1)].join('-');

let failed = 0;
for (const [subpath, target] of Object.entries(manifest.exports)) {
  if (typeof target === 'string') continue; // ./package.json
  const entry = join(dtsDir, target.types.replace(/^\.\/dist\//, ''));
  const config = ExtractorConfig.prepare({
    configObjectFullPath: join(root, 'scripts', 'api-report.mjs'),
    packageJsonFullPath,
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: entry,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2023'],
            module: 'node16',
            moduleResolution: 'node16',
            strict: true,
            skipLibCheck: true,
            types: ['node'],
          },
          files: [entry],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: reportName(subpath),
        reportFolder,
        reportTempFolder: join(root, '.local', 'api', 'temp'),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      newlineKind: 'lf',
      messages: {
        compilerMessageReporting: { default: { logLevel: 'warning' } },
        extractorMessageReporting: {
          default: { logLevel: 'warning' },
          // Release tags (@public, @beta) are not used: everything exported is public.
          'ae-missing-release-tag': { logLevel: 'none' },
          // A type reachable from the API but not exported by name (a zod schema behind an
          // inferred type): written into the report, where a reviewer sees it.
          'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: true },
          // Documentation is the linter's and the reviewer's business, not the API's.
          'ae-undocumented': { logLevel: 'none' },
          'ae-unresolved-link': { logLevel: 'none' },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
  });
  const result = Extractor.invoke(config, { localBuild: update, printApiReportDiff: !update });
  const file = `etc/api/${reportName(subpath)}.api.md`;
  if (!result.succeeded) {
    failed++;
    console.error(
      `api-report: ${subpath} does not match ${file}` +
        ` (${result.errorCount} errors, ${result.warningCount} warnings). If the change is meant, run npm run api:update and commit ${file}.`,
    );
  } else {
    console.log(`api-report: ${subpath} ${update && result.apiReportChanged ? 'updated' : 'matches'} ${file}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
