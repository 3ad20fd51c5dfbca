/**
 * The fenced blocks of docs/getting-started.md that follow a `<!-- consumer:NAME -->` marker: the
 * files and commands the getting-started guide tells a user, read here so the consumer suite runs
 * exactly those.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const GETTING_STARTED = resolve(__dirname, '..', '..', 'docs', 'getting-started.md');
const BLOCK = /<!-- consumer:([\w.-]+) -->\s*\n```[\w-]*\n([\s\S]*?)\n```/g;

/** Every marked block of docs/getting-started.md by name; throws when a name appears twice. */
export function readmeBlocks(path: string = GETTING_STARTED): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of readFileSync(path, 'utf8').matchAll(BLOCK)) {
    const [, name, body] = match;
    if (name === undefined || body === undefined) continue;
    if (blocks.has(name)) throw new Error(`${path}: two blocks marked consumer:${name}`);
    blocks.set(name, `${body}\n`);
  }
  return blocks;
}

/** One marked block, or a clear error naming the marker that is missing. */
export function readmeBlock(name: string, blocks: Map<string, string> = readmeBlocks()): string {
  const body = blocks.get(name);
  if (body === undefined) {
    throw new Error(`docs/getting-started.md has no fenced block after <!-- consumer:${name} -->`);
  }
  return body;
}

/** The command lines of a shell block: no comments, no blank lines. */
export function commandLines(block: string): string[] {
  return block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Splits a command line of the guide into argv the way the shell would for the simple lines it
 * uses (words, and single-quoted words); anything else is refused so the test never runs a
 * line differently from a user's shell.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  const word = /'([^']*)'|([^\s'"\\$`;&|<>()*?]+)|(\S)/g;
  for (const match of line.matchAll(word)) {
    if (match[3] !== undefined) throw new Error(`Guide command needs a real shell: ${line}`);
    words.push(match[1] ?? match[2] ?? '');
  }
  return words;
}
