import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandLines, readmeBlock, readmeBlocks, shellWords } from '../helpers/readme-blocks';

describe("docs/getting-started.md's consumer blocks (what the consumer suite runs)", () => {
  it('has every block the consumer suite reads, and the install lines name the packed tarball', () => {
    // Act
    const blocks = readmeBlocks();
    // Assess
    expect([...blocks.keys()].sort()).toEqual(
      ['Pulumi.yaml', 'index.ts', 'install', 'package.json', 'stack', 'status', 'tsconfig.json'].sort(),
    );
    expect(readmeBlock('Pulumi.yaml', blocks)).toMatch(/^runtime: nodejs$/m);
    expect(readmeBlock('index.ts', blocks)).toContain("from 'token-rotator'");
    const installs = commandLines(readmeBlock('install', blocks)).map(shellWords);
    expect(installs).toEqual([
      ['npm', 'install', './token-rotator-0.1.0.tgz', '@pulumi/pulumi', '@pulumi/aws', 'typescript@5', '@types/node'],
    ]);
  });

  it('refuses a guide line that needs a real shell, and names a missing or doubled block', () => {
    expect(shellWords("pulumi config set --secret x 'a b'")).toEqual([
      'pulumi',
      'config',
      'set',
      '--secret',
      'x',
      'a b',
    ]);
    for (const line of ['npm install $(cat x)', 'a && b', 'echo "x"', 'a > b', 'a; b']) {
      expect(() => shellWords(line), line).toThrow(/needs a real shell/);
    }
    const dir = mkdtempSync(join(tmpdir(), 'readme-blocks-'));
    const doubled = join(dir, 'README.md');
    writeFileSync(doubled, '<!-- consumer:a -->\n```sh\nx\n```\n<!-- consumer:a -->\n```sh\ny\n```\n');
    expect(() => readmeBlocks(doubled)).toThrow(/two blocks marked consumer:a/);
    expect(() => readmeBlock('nope', new Map())).toThrow(/no fenced block after <!-- consumer:nope -->/);
  });
});
