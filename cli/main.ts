#!/usr/bin/env node
/**
 * The `token-rotator` executable (package.json `bin`): runs {@link runCli} on this process.
 * The first Ctrl-C asks the running command to stop (`status --watch` ends, `refresh` starts no
 * new work and reports the rest); a second one exits at once with 130.
 */
import { runCli } from './program';

const INTERRUPTED_EXIT_CODE = 130;

function main(): void {
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(INTERRUPTED_EXIT_CODE);
    interrupt.abort();
    process.stderr.write('\ntoken-rotator: stopping after the work in progress; press Ctrl-C again to exit now.\n');
  });
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
