#!/usr/bin/env node
/**
 * The `token-rotator` executable (package.json `bin`): runs {@link runCli} on this process.
 * The first Ctrl-C asks the running command to stop (`status --watch` ends, `refresh` starts no
 * new work and reports the rest); a second one exits at once with 130. A reader that goes away
 * (`token-rotator --help | head -1`) stops it the same way, quietly.
 */
import { runCli } from './program';

const INTERRUPTED_EXIT_CODE = 130;

/**
 * Once the reader of `stream` has closed the pipe, a write fails with EPIPE, emitted as an
 * 'error' event that would crash the process with a stack trace. Nobody reads any more: the
 * command is asked to stop, and what it still writes is dropped (the destroyed stream's later
 * writes fail with ERR_STREAM_DESTROYED, ignored too). Any other error is left to crash.
 */
function stopWhenReaderGoes(stream: NodeJS.WriteStream, stop: () => void): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    stop();
  });
}

function main(): void {
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(INTERRUPTED_EXIT_CODE);
    interrupt.abort();
    process.stderr.write('\ntoken-rotator: stopping after the work in progress; press Ctrl-C again to exit now.\n');
  });
  stopWhenReaderGoes(process.stdout, () => interrupt.abort());
  stopWhenReaderGoes(process.stderr, () => interrupt.abort());
  runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: interrupt.signal,
  }).then((code) => {
    // Not process.exit(): it could cut off output still queued for a pipe.
    process.exitCode = code;
  });
}

main();
