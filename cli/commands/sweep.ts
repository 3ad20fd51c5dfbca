/**
 * `token-rotator sweep`: one sweep of the prefix in this process with the rotator's own code
 * (lambda/sweep.ts): the plan from tags, the refreshes of what is due with bounded concurrency,
 * writes paced by the rotator's write limiter, failures recorded in tags exactly as the Lambda
 * records them. For a CronJob, a CI schedule or a first try without the Lambda.
 */
import type { Command } from 'commander';
import { sweep as runSweep, type SweepCounts, type SweepSummary, sweepCounts } from '../../lambda/sweep';
import type { CliContext, CliDeps } from '../context';
import { emptyPrefixLine, noCredentialsLine } from '../empty-prefix';
import { EXIT_CODES, type ExitCode } from '../exit-codes';
import { formatDuration } from '../format-duration';
import { ProgressLine } from '../progress';
import { rotatorDeps } from '../refresh-in-process';
import { outcomeLine, outcomeOf, type RefreshOutcome } from '../refresh-outcome';
import { runAction } from '../run-action';
import {
  addOutputOptions,
  allowEmptyOption,
  concurrencyOption,
  outputFormat,
  scheduleIntervalOption,
  writesPerSecondOption,
} from '../shared-options';

/** Options of `sweep`, as commander parses them (the output format is read with {@link outputFormat}). */
export interface SweepOptions {
  scheduleInterval: number;
  concurrency: number;
  writesPerSecond: number;
  allowEmpty?: boolean;
}

/**
 * What `sweep --output json` prints: the prefix, the sweep's counts as the rotator logs them, and
 * the outcome of every credential it took up. Field names and meanings are stable.
 */
export interface SweepReport extends Omit<SweepCounts, 'minSecondsToExpiry'> {
  prefix: string;
  /** As in {@link SweepCounts}; `null` when no token's expiry is known (JSON has no undefined). */
  minSecondsToExpiry: number | null;
  /** Per credential, as `refresh --output json` reports it. */
  results: RefreshOutcome[];
}

/** Registers `sweep` on `program`. */
export function registerSweep(program: Command, deps: CliDeps): Command {
  const command = program
    .command('sweep')
    .summary(
      `run one sweep of the rotator in this process (exit ${EXIT_CODES.refreshFailed} when a credential failed or is blocked)`,
    )
    .description(
      "Refresh every credential under the prefix that is due, once, with the rotator Lambda's own code: the same " +
        'plan, concurrency, write pacing and failure handling (failures are recorded in tags, so the Lambda, status ' +
        'and later sweeps see them). Run it every --schedule-interval seconds from a CronJob or a CI schedule where ' +
        'no rotator Lambda is deployed, or once as a first try.',
    )
    .addOption(
      scheduleIntervalOption(
        'how often this sweep runs, in seconds: it refreshes what falls due before the next one, and leaves what it ' +
          'cannot start within 90% of the interval to it',
      ),
    )
    .addOption(concurrencyOption())
    .addOption(writesPerSecondOption());
  addOutputOptions(command, "the sweep's counts and per-credential outcomes (fields below)");
  return command
    .addOption(allowEmptyOption())
    .addHelpText(
      'after',
      `
It runs with your AWS credentials and needs what the rotator's role has: ListSecrets, GetSecretValue
and BatchGetSecretValue on the client and token secrets, PutSecretValue, TagResource and UntagResource
on the token secrets (and kms:Sign for KMS-keyed signed-jwt credentials). It publishes no metrics and
no events: its output and exit code take their place. Do not run it on the schedule of a deployed
rotator for the same prefix: both would refresh the same tokens.

Result lines as for refresh, then a summary line. --output json prints one object:
  prefix, listed, due, refreshed, failed, rejected, skipped, held, deferred, blocked, backingOff,
  writeBudgetBreached, minSecondsToExpiry, results (as refresh --output json)
held: due, but found still blocked (a clientSecretSource unchanged since the issuer rejected it):
not sent to the issuer. blocked: every credential found blocked, held ones included.

Exit codes: ${EXIT_CODES.ok} nothing failed; ${EXIT_CODES.usage} usage or configuration error; ${EXIT_CODES.aws} AWS error (listing failed);
${EXIT_CODES.refreshFailed} some credential failed, or is blocked until its client credentials change; ${EXIT_CODES.noCredentials} no credential
under the prefix (unless --allow-empty).

Examples:
  token-rotator sweep
  token-rotator --prefix team-a/ sweep --schedule-interval 300 --output json`,
    )
    .action(
      runAction(deps, async (context, command) =>
        sweep(context, outputFormat(command) === 'json', command.opts<SweepOptions>()),
      ),
    );
}

async function sweep(context: CliContext, json: boolean, options: SweepOptions): Promise<ExitCode> {
  const progress = new ProgressLine(context.stderr);
  progress.update('sweeping…');
  let summary: SweepSummary;
  try {
    summary = await runSweep(
      rotatorDeps(context, {
        concurrency: options.concurrency,
        writesPerSecond: options.writesPerSecond,
        lookaheadSeconds: options.scheduleInterval,
      }),
    );
  } finally {
    progress.done();
  }
  if (summary.listed === 0) {
    if (json) context.stdout.write(`${JSON.stringify(reportOf(context, summary, []), null, 2)}\n`);
    if (options.allowEmpty) {
      if (!json) context.stdout.write(`${noCredentialsLine(context)}\n`);
      return EXIT_CODES.ok;
    }
    context.stderr.write(`token-rotator: ${await emptyPrefixLine(context)}\n`);
    return EXIT_CODES.noCredentials;
  }
  const deferReason = context.signal?.aborted ? 'interrupted' : 'next-sweep';
  const outcomes = summary.results
    .map((r) => outcomeOf(r, deferReason))
    .sort((a, b) => a.credential.localeCompare(b.credential));
  const report = reportOf(context, summary, outcomes);
  if (json) {
    context.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    context.stderr.write(`${summaryLine(report)}\n`);
  } else {
    const width = outcomes.reduce((w, o) => Math.max(w, o.credential.length), 0);
    const now = context.now();
    for (const outcome of outcomes) context.stdout.write(`${outcomeLine(outcome, now, context.colour, width)}\n`);
    context.stdout.write(`${summaryLine(report)}\n`);
  }
  return report.failed + report.blocked > 0 ? EXIT_CODES.refreshFailed : EXIT_CODES.ok;
}

function reportOf(context: CliContext, summary: SweepSummary, results: RefreshOutcome[]): SweepReport {
  const counts = sweepCounts(summary);
  return { prefix: context.prefix, ...counts, minSecondsToExpiry: counts.minSecondsToExpiry ?? null, results };
}

/**
 * The last line of `sweep`, printed always.
 *
 * @example
 * ```text
 * Swept "token-rotator/": 12 listed, 3 due: 2 refreshed, 1 failed; 1 blocked. Soonest expiry in 9m 12s.
 * ```
 */
export function summaryLine(report: SweepReport): string {
  const done = [`${report.refreshed} refreshed`, `${report.failed} failed`];
  if (report.skipped > 0) done.push(`${report.skipped} no longer due`);
  if (report.held > 0) done.push(`${report.held} found still blocked`);
  if (report.deferred > 0) done.push(`${report.deferred} left to the next sweep`);
  const idle: string[] = [];
  if (report.blocked > 0) idle.push(`${report.blocked} blocked`);
  if (report.backingOff > 0) idle.push(`${report.backingOff} backing off`);
  const expiry =
    report.minSecondsToExpiry === null
      ? ''
      : report.minSecondsToExpiry > 0
        ? ` Soonest expiry in ${formatDuration(report.minSecondsToExpiry)}.`
        : ' Some token has expired.';
  return (
    `Swept "${report.prefix}": ${report.listed} listed, ${report.due} due: ${done.join(', ')}` +
    `${idle.length > 0 ? `; ${idle.join(', ')}` : ''}.${expiry}`
  );
}
