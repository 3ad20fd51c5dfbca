/**
 * The exit codes of the `token-rotator` command. They are part of its interface: a deploy gate
 * or a cron check switches on them, so they never change meaning.
 */
import { CommanderError } from 'commander';

/** Every exit code the command uses, by meaning. */
export const EXIT_CODES = {
  /** Everything asked for is healthy or was done. */
  ok: 0,
  /** Bad usage or configuration: unknown command or option, bad value, invalid name or prefix, no region. */
  usage: 1,
  /** AWS refused or failed (Secrets Manager, Lambda, credentials), or an unexpected runtime error. */
  aws: 2,
  /**
   * `status`: some credential is expired, blocked, failing, unreadable, missing (named but not
   * found) or has no token secret. Takes precedence over {@link EXIT_CODES.overdue}.
   */
  unhealthy: 3,
  /**
   * `refresh`: some credential could not be refreshed (failed, deferred or interrupted);
   * `sweep`: some credential failed, or is blocked until its client credentials change.
   */
  refreshFailed: 4,
  /**
   * `status`, `refresh --all`, `sweep`: no credential under the prefix, which is most often a
   * mistyped `--prefix` or the wrong region (`--allow-empty` makes it exit 0).
   */
  noCredentials: 5,
  /**
   * `status`: nothing worse than this, but some token's refresh is overdue by more than two
   * schedule intervals: no rotator seems to be refreshing it.
   */
  overdue: 6,
} as const;

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/**
 * Thrown by a command's action to end with a non-zero exit code after it has printed what it had
 * to say. It is a {@link CommanderError}, so callers of `parseAsync` (the bin, tests) handle it
 * exactly like commander's own usage errors: read `exitCode`, print nothing more.
 */
export class CliExit extends CommanderError {
  constructor(exitCode: ExitCode) {
    super(exitCode, 'token-rotator.exit', `exit ${exitCode}`);
    this.name = 'CliExit';
  }
}
