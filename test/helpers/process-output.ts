/**
 * Captures what the process writes to stdout and stderr (Powertools writes its JSON log lines
 * and EMF metrics through a Console bound to those streams), so tests can assert on it.
 * The spies are vitest's: `vi.restoreAllMocks()` in `afterEach` releases them.
 */
import { vi } from 'vitest';

/** Starts capturing; returns the array every written chunk is appended to, as text. */
export function captureProcessOutput(): string[] {
  const output: string[] = [];
  const capture = (chunk: unknown) => {
    output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return output;
}
