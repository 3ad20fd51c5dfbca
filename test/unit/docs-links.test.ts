/**
 * README.md is the front door and docs/ holds the depth: README stays short, and every relative
 * link of README, docs/, SECURITY.md and CHANGELOG.md (a file, and a heading within it) leads somewhere.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const PAGES = [
  'README.md',
  'SECURITY.md',
  'CHANGELOG.md',
  ...readdirSync(join(ROOT, 'docs')).flatMap((f) => (f.endsWith('.md') ? [`docs/${f}`] : [])),
];

/** The page's text outside fenced blocks (a link or a `#` inside a code block is not markdown). */
function prose(path: string): string {
  return readFileSync(path, 'utf8').replace(/```[\s\S]*?```/g, '');
}

/** The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces as `-`. */
function anchors(path: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading = ''] of prose(path).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\- _]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Every relative link of the page at `path` that leads nowhere, as `page: link (why)`. */
function brokenLinks(path: string, page: string = path): string[] {
  const broken: string[] = [];
  for (const [, link = ''] of prose(path).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^(https?|mailto):/.test(link)) continue;
    const [file = '', anchor] = link.split('#');
    const target = file === '' ? path : resolve(dirname(path), file);
    if (!existsSync(target)) broken.push(`${page}: ${link} (no such file)`);
    else if (anchor && target.endsWith('.md') && !anchors(target).has(anchor)) {
      broken.push(`${page}: ${link} (no such heading)`);
    }
  }
  return broken;
}

describe('README.md, docs/ and the pages beside README', () => {
  it('keeps README.md a front door of at most 350 lines', () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(350);
  });

  it('has no relative link to a missing file or heading', () => {
    expect(PAGES).toContain('docs/getting-started.md');
    expect(PAGES.flatMap((page) => brokenLinks(join(ROOT, page), page))).toEqual([]);
  });

  it('finds a link to a missing file and to a missing heading', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docs-links-'));
    writeFileSync(join(dir, 'b.md'), '# The `b` page: here\n\n## Here\n\n## Here\n');
    writeFileSync(
      join(dir, 'a.md'),
      '[ok](b.md#the-b-page-here) [ok](b.md#here-1) [ok](#top)\n# Top\n[gone](c.md) [nowhere](b.md#there)\n```\n[code](d.md)\n```\n',
    );
    expect(brokenLinks(join(dir, 'a.md'), 'a.md')).toEqual([
      'a.md: c.md (no such file)',
      'a.md: b.md#there (no such heading)',
    ]);
  });
});
