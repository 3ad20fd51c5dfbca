/**
 * The packed package installed as a workload installs it: `npm install ./token-rotator-*.tgz` and
 * nothing else, in a fresh directory, on Node 22 (the supported floor). The Pulumi peers are
 * optional, so none is installed; the reader and core entry points load without them; the
 * installed size is measured and bounded.
 */
import { execFile } from 'node:child_process';
import { copyFile, lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const execFileAsync = promisify(execFile);

/**
 * The most a workload's node_modules may weigh. Measured at 21.9 MiB (36 packages: the AWS SDK
 * clients and Powertools, mostly) when this was written; with the Pulumi peers it is about 200 MB,
 * so a peer that became required again fails here.
 */
const MAX_WORKLOAD_BYTES = 40 * 1024 * 1024;

/** Bytes of every file under `dir` (symbolic links counted as links, not followed). */
async function bytesUnder(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        bytes += (await lstat(full)).size;
        files++;
      }
    }
  };
  await walk(dir);
  return { bytes, files };
}

describe('a workload that installs only the packed package', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const run = (argv: string[], timeout = 60_000) => {
    const [command = '', ...args] = argv;
    return execFileAsync(command, args, { cwd: dir, env, timeout, maxBuffer: 16 * 1024 * 1024 });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'token-rotator-workload-'));
    const tarball = inject('consumerTarball');
    await copyFile(tarball, join(dir, basename(tarball)));
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'workload', private: true }, null, 2));
    const inherited = { ...process.env };
    // Nothing of this checkout may leak in: the workload resolves only its own node_modules.
    for (const name of ['NODE_PATH', 'NODE_OPTIONS', 'npm_config_prefix']) delete inherited[name];
    for (const name of Object.keys(inherited)) if (name.startsWith('npm_package_')) delete inherited[name];
    env = {
      ...inherited,
      PATH: [inject('node22Bin'), process.env.PATH ?? ''].join(':'),
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };
  }, 60_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('installs with a plain npm install of the tarball, no @pulumi package among what it installs', async () => {
    // Act
    const started = Date.now();
    await run(['npm', 'install', `./${basename(inject('consumerTarball'))}`], 10 * 60_000);
    const ms = Date.now() - started;
    const { stdout: tree } = await run(['npm', 'ls', '--all', '--parseable']);
    // Assess
    const pulumi = tree.split('\n').filter((path) => path.includes('/node_modules/@pulumi/'));
    expect(pulumi).toEqual([]);
    await expect(lstat(join(dir, 'node_modules', '@pulumi'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(tree).toContain(join(dir, 'node_modules', 'token-rotator'));
    const { bytes, files } = await bytesUnder(join(dir, 'node_modules'));
    const packages = tree.split('\n').filter((line) => line.includes('/node_modules/')).length;
    console.info(
      `workload install: ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${files} files, ${packages} packages, npm install ${(ms / 1000).toFixed(1)} s`,
    );
    expect(bytes).toBeLessThan(MAX_WORKLOAD_BYTES);
  });

  it('loads token-rotator/reader and token-rotator/core without the Pulumi peers', async () => {
    // Act
    const { stdout } = await run([
      'node',
      '-e',
      `const reader = require('token-rotator/reader');
       const core = require('token-rotator/core');
       const record = core.parseTokenRecord(JSON.stringify({
         version: 1, credential: 'c', issuer: 'sirv', accessToken: 'a', tokenType: 'Bearer',
         issuedAt: '2026-01-01T00:00:00Z', expiresAt: '2026-01-01T01:00:00Z', refreshAfter: '2026-01-01T00:45:00Z',
         generation: 1, addedLater: true }));
       process.stdout.write(JSON.stringify({
         node: process.version,
         reader: [typeof reader.TokenReader, typeof reader.getToken, typeof reader.createProtectedUrl],
         core: [typeof core.parseTokenRecord, typeof core.TokenRotatorError],
         record: Object.keys(record).length,
       }));`,
    ]);
    // Assess
    expect(JSON.parse(stdout)).toEqual({
      node: expect.stringMatching(/^v22\./),
      reader: ['function', 'function', 'function'],
      core: ['function', 'function'],
      record: 9,
    });
  });

  it('says what is missing when the Pulumi side is loaded without its peers, and exports no internals', async () => {
    // Act
    const { stdout } = await run([
      'node',
      '-e',
      `const tryRequire = (id) => { try { require(id); return 'loaded'; } catch (e) { return e.code + ' ' + e.message.split('\\n')[0]; } };
       process.stdout.write(JSON.stringify(['token-rotator', 'token-rotator/lambda', 'token-rotator/provider', 'token-rotator/dist/core/store/index.js'].map(tryRequire)));`,
    ]);
    // Assess
    const [root, lambda, provider, internal] = JSON.parse(stdout) as string[];
    expect(root).toMatch(/^MODULE_NOT_FOUND Cannot find module '@pulumi\/(pulumi|aws)'/);
    for (const answer of [lambda, provider, internal]) expect(answer).toMatch(/^ERR_PACKAGE_PATH_NOT_EXPORTED /);
  });
});
