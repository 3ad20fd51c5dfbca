/**
 * Runs the `token-rotator` command line in-process for tests: buffered stdout and stderr (a TTY
 * or not), a frozen clock, no colour unless asked, and whatever clients the test injects.
 */
import { type CliDeps, runCli } from '../../cli/program';
import type { OutputStream } from '../../cli/terminal';

/** An output stream that keeps what is written to it. */
export class BufferStream implements OutputStream {
  text = '';
  columns = 120;
  constructor(public isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** What a run of the command printed and how it exited. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCommand}: any {@link CliDeps} seam, and whether stdout/stderr are terminals. */
export type RunOptions = Partial<Omit<CliDeps, 'stdout' | 'stderr'>> & { tty?: boolean; stderrTty?: boolean };

/**
 * Runs `argv` (without node and script paths) and collects its output.
 *
 * @example
 * ```ts
 * const { code, stdout } = await runCommand(['status', '--json'], { now: () => NOW });
 * ```
 */
export async function runCommand(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  const { tty = false, stderrTty = tty, ...deps } = options;
  const stdout = new BufferStream(tty);
  const stderr = new BufferStream(stderrTty);
  const code = await runCli(argv, { env: {}, ...deps, stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
