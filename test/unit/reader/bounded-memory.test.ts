/**
 * The reader's memory is bounded whatever names it is asked for: a workload that derives the
 * credential name from request input (a tenant id) must not be grown to out-of-memory by unknown
 * names. Measured in a process of its own (node --expose-gc), with the real SDK client, so each
 * failure is as heavy as a real one.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CHILD = resolve(__dirname, 'unknown-names.child.ts');
const NAMES = 50_000;
// Retained growth allowed for 50,000 names: the full failure memory (1000 classified errors of
// about 2 KB each) plus the noise of a heap measured after gc (a few hundred KB). A reader that kept
// as little as 100 bytes per name would exceed it; the SDK error of one missing secret alone is
// about 7 KB here (18 KB with a real socket behind it).
const BOUND_BYTES = 5 * 1024 * 1024;

interface Measurement {
  asked: number;
  retainedBytes: number;
  perNameBytes: number;
}

async function measure(): Promise<Measurement> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD], {
    cwd: resolve(__dirname, '..', '..', '..'),
    // The child stops early once it is past this, so a leaking reader fails in seconds.
    env: { ...process.env, UNKNOWN_NAMES: String(NAMES), GIVE_UP_BYTES: String(4 * BOUND_BYTES) },
    timeout: 170_000,
    maxBuffer: 1024 * 1024,
  });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Measurement;
}

describe('TokenReader memory', () => {
  it(`keeps under ${BOUND_BYTES / 1024 / 1024} MB after being asked for ${NAMES.toLocaleString('en')} unknown names`, async () => {
    const result = await measure();

    expect(result.asked, `gave up after ${result.asked} names, ${Math.round(result.perNameBytes)} bytes each`).toBe(
      NAMES,
    );
    expect(result.retainedBytes).toBeLessThan(BOUND_BYTES);
  }, 180_000);
});
