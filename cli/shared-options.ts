/**
 * The options several commands share, each defined once here: the output format (`--output`
 * and its alias `--json`), `--allow-empty`, `--schedule-interval`, `--concurrency` and
 * `--writes-per-second`, with their parsers and defaults.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_WRITES_PER_SECOND, MAX_WRITES_PER_SECOND } from '../core/rotator-protocol';
import { SCHEDULE_INTERVAL_SECONDS } from '../core/schedule-interval';
import { EXIT_CODES } from './exit-codes';

/** How a command prints its result: for people (`table`, the default) or for programs (`json`). */
export type OutputFormat = 'table' | 'json';

const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json'];

/**
 * Adds `-o, --output <format>` (as aws and kubectl spell it) and `--json`, its short form, to
 * `command`. `json` says what the JSON output is, for the help.
 */
export function addOutputOptions(command: Command, json: string): Command {
  return command
    .addOption(
      new Option('-o, --output <format>', `"table" for people (default) or "json": ${json}`).choices(OUTPUT_FORMATS),
    )
    .addOption(new Option('--json', 'same as --output json'));
}

/** The output format `command` was given; a usage error when `--json` and `--output table` are both given. */
export function outputFormat(command: Command): OutputFormat {
  const { output, json } = command.opts<{ output?: OutputFormat; json?: boolean }>();
  if (json === true && output === 'table') {
    command.error('error: --json and --output table contradict each other; pass one of them.', {
      exitCode: EXIT_CODES.usage,
      code: 'token-rotator.usage',
    });
  }
  return json === true ? 'json' : (output ?? 'table');
}

/**
 * `--allow-empty`: a prefix with no credential under it is fine. Without it, an empty prefix
 * exits {@link EXIT_CODES.noCredentials}: a mistyped `--prefix` or the wrong region would
 * otherwise pass a CI check silently.
 */
export function allowEmptyOption(): Option {
  return new Option(
    '--allow-empty',
    `exit 0 when no credential is under the prefix (default: exit ${EXIT_CODES.noCredentials}, as a mistyped --prefix or the wrong region looks exactly like that)`,
  );
}

/** `--schedule-interval` bounds, in seconds: those of the rotator's `scheduleIntervalSeconds`. */
const { min: MIN_SCHEDULE_SECONDS, max: MAX_SCHEDULE_SECONDS } = SCHEDULE_INTERVAL_SECONDS;

/** Parses `--schedule-interval <seconds>`: a whole number in the rotator's range. */
export function parseScheduleInterval(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < MIN_SCHEDULE_SECONDS || n > MAX_SCHEDULE_SECONDS) {
    throw new InvalidArgumentError(
      `expected the rotator's schedule interval in whole seconds, from ${MIN_SCHEDULE_SECONDS} to ${MAX_SCHEDULE_SECONDS}.`,
    );
  }
  return n;
}

/** `--schedule-interval <seconds>`, defaulting to the rotator's own default interval. */
export function scheduleIntervalOption(description: string): Option {
  return new Option('--schedule-interval <seconds>', `${description} (${MIN_SCHEDULE_SECONDS}-${MAX_SCHEDULE_SECONDS})`)
    .argParser(parseScheduleInterval)
    .default(SCHEDULE_INTERVAL_SECONDS.default);
}

/** How many refreshes run at once by default: the rotator's own default concurrency. */
export const DEFAULT_CONCURRENCY = 8;
const MAX_CONCURRENCY = 64;

/** Parses `--concurrency <n>`: a whole number from 1 to 64. */
export function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_CONCURRENCY) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_CONCURRENCY}.`);
  }
  return n;
}

/** `--concurrency <n>`: refreshes (issuer requests) in flight in this process. */
export function concurrencyOption(): Option {
  return new Option('--concurrency <n>', `refreshes at once in this process (1-${MAX_CONCURRENCY})`)
    .argParser(parseConcurrency)
    .default(DEFAULT_CONCURRENCY);
}

/** Parses `--writes-per-second <n>`: a number above 0 and at most 50, as TokenRotator's `writesPerSecond`. */
export function parseWritesPerSecond(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !(n > 0 && n <= MAX_WRITES_PER_SECOND)) {
    throw new InvalidArgumentError(
      `expected a number above 0 and at most ${MAX_WRITES_PER_SECOND} (Secrets Manager's write quota for the account and region).`,
    );
  }
  return n;
}

/** `--writes-per-second <n>`: the pace of this process's Secrets Manager writes, the rotator's by default. */
export function writesPerSecondOption(): Option {
  return new Option(
    '--writes-per-second <n>',
    `Secrets Manager writes per second from this process, shared with the running rotator (above 0, at most ${MAX_WRITES_PER_SECOND})`,
  )
    .argParser(parseWritesPerSecond)
    .default(DEFAULT_WRITES_PER_SECOND);
}
