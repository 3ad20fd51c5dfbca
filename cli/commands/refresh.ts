/**
 * `token-rotator refresh <names...> | --all`: obtains new tokens now, in this process (the
 * rotator's own code with the caller's AWS credentials) or through the deployed rotator Lambda
 * (`--function`), and prints one line per credential and a summary.
 */
import type { Command } from 'commander';
import { assertCredentialName, type CredentialListing } from '../../core/store';
import { dueVerdict, planSweep } from '../../lambda/plan';
import type { CliContext, CliDeps } from '../context';
import { emptyPrefixLine, noCredentialsLine } from '../empty-prefix';
import { EXIT_CODES, type ExitCode } from '../exit-codes';
import { absentTokenLine, listPrefix } from '../prefix-listing';
import { ProgressLine } from '../progress';
import { LOOKAHEAD_SECONDS, refreshInProcess } from '../refresh-in-process';
import {
  countOutcomes,
  notFoundOutcome,
  outcomeLine,
  type RefreshOutcome,
  skippedOutcome,
  summaryLine,
} from '../refresh-outcome';
import { refreshThroughLambda } from '../refresh-through-lambda';
import { runAction } from '../run-action';
import {
  addOutputOptions,
  allowEmptyOption,
  concurrencyOption,
  outputFormat,
  writesPerSecondOption,
} from '../shared-options';

/** Options of `refresh`, as commander parses them (the output format is read with {@link outputFormat}). */
export interface RefreshOptions {
  all?: boolean;
  force?: boolean;
  /** Name or ARN of the rotator Lambda. */
  function?: string;
  concurrency: number;
  /** In-process Secrets Manager writes per second. */
  writesPerSecond: number;
  allowEmpty?: boolean;
}

/** Registers `refresh` on `program`. */
export function registerRefresh(program: Command, deps: CliDeps): Command {
  const command = program
    .command('refresh')
    .summary(
      `refresh the named credentials, or every due one with --all (exit ${EXIT_CODES.refreshFailed} when one fails)`,
    )
    .description(
      'Obtain new tokens now and write them to their token secrets. Tokens that are not due are skipped ' +
        'unless --force. Runs in this process with your AWS credentials, or in the deployed rotator with --function.',
    )
    .argument('[names...]', 'credentials to refresh')
    .option('--all', 'every credential under the prefix that is due (blocked and backing-off ones too with --force)')
    .option('--force', 'refresh even when the token is not due (each refresh is one PutSecretValue)')
    .option(
      '--function <name|arn>',
      'refresh through the deployed rotator Lambda (synchronous invoke) instead of in this process; ' +
        'the rotator uses its own prefix setting',
    )
    .addOption(concurrencyOption())
    .addOption(writesPerSecondOption());
  addOutputOptions(command, 'an array of per-credential outcomes');
  return command
    .addOption(allowEmptyOption())
    .addHelpText(
      'after',
      `
A credential is due when its refresh time falls within the next ${LOOKAHEAD_SECONDS}s (as for the rotator's next sweep).
--all reads tags only (ListSecrets) to choose; named credentials are checked against their token record.
In this process, writes (PutSecretValue and tag calls) are paced at --writes-per-second, as the rotator
paces its own: the account's write quota (about 50/s) is shared with it. With --function the rotator
paces at its own setting.

Result lines: "ok" (new generation and expiry), "skipped" (not due, backing off, or blocked),
"failed" (error code, message, what to do), "deferred" (not started: interrupted, the rotator ran
short of time, or the call to the rotator failed). A summary line ends the output.
--output json prints an array of {credential, outcome: refreshed|skipped|failed|deferred, ...} instead.

Exit codes: ${EXIT_CODES.ok} all refreshed or skipped; ${EXIT_CODES.usage} usage or configuration error; ${EXIT_CODES.aws} AWS error (the rotator
could not be called, among others); ${EXIT_CODES.refreshFailed} some credential failed or was not started; ${EXIT_CODES.noCredentials} --all found no
credential under the prefix (unless --allow-empty).

Examples:
  token-rotator refresh sirv-prod
  token-rotator refresh --all --output json
  token-rotator refresh --all --force --function token-rotator-prod`,
    )
    .action(
      runAction(deps, async (context, command, names: string[]) =>
        refresh(context, command, names, command.opts<RefreshOptions>()),
      ),
    );
}

async function refresh(
  context: CliContext,
  command: Command,
  names: string[],
  options: RefreshOptions,
): Promise<ExitCode> {
  if (options.all && names.length > 0) {
    command.error('error: give credential names or --all, not both.', {
      exitCode: EXIT_CODES.usage,
      code: 'token-rotator.usage',
    });
  }
  if (!options.all && names.length === 0) {
    command.error('error: name the credentials to refresh, or pass --all.', {
      exitCode: EXIT_CODES.usage,
      code: 'token-rotator.usage',
    });
  }
  const json = outputFormat(command) === 'json';
  for (const name of names) assertCredentialName(name);
  const force = options.force === true;
  const outcomes: RefreshOutcome[] = [];
  const settled: RefreshOutcome[] = [];
  let targets: string[] = [];
  let listings: ReadonlyMap<string, CredentialListing> | undefined;
  let clientOnly: ReadonlySet<string> = new Set();

  // Listing needs ListSecrets; a named refresh through the rotator needs only lambda:InvokeFunction.
  if (options.all || !options.function) ({ tokens: listings, clientOnly } = await listPrefix(context.store()));
  if (options.all) {
    const all = [...(listings?.values() ?? [])];
    const now = context.now();
    if (force) targets = all.map((l) => l.name).sort();
    else {
      targets = planSweep(all, now, LOOKAHEAD_SECONDS).due;
      for (const listing of all) {
        const verdict = dueVerdict(listing, now, LOOKAHEAD_SECONDS);
        if (!verdict.due) settled.push(skippedOutcome(listing, verdict.reason, now));
      }
      settled.sort((a, b) => a.credential.localeCompare(b.credential));
    }
  } else {
    for (const name of new Set(names)) {
      if (listings && !listings.has(name)) {
        settled.push(notFoundOutcome(name, absentTokenLine(name, context.prefix, clientOnly.has(name))));
      } else targets.push(name);
    }
  }

  if (targets.length === 0 && settled.length === 0) {
    if (json) context.stdout.write('[]\n');
    if (options.allowEmpty) {
      if (!json) context.stdout.write(`${noCredentialsLine(context)}\n`);
      return EXIT_CODES.ok;
    }
    context.stderr.write(`token-rotator: ${await emptyPrefixLine(context)}\n`);
    return EXIT_CODES.noCredentials;
  }

  const nameWidth = [...targets, ...settled.map((o) => o.credential)].reduce((w, n) => Math.max(w, n.length), 0);
  const progress = new ProgressLine(context.stderr);
  let printed = 0;
  const print = (outcome: RefreshOutcome): void => {
    if (json) return;
    printed += 1;
    progress.around(() => context.stdout.write(`${outcomeLine(outcome, context.now(), context.colour, nameWidth)}\n`));
  };
  const report = (outcome: RefreshOutcome): void => {
    outcomes.push(outcome);
    print(outcome);
  };
  for (const outcome of settled) report(outcome);

  let done = 0;
  const onOutcome = (outcome: RefreshOutcome): void => {
    done += 1;
    report(outcome);
    progress.update(`refreshing ${done}/${targets.length}…`);
  };
  if (targets.length > 0) progress.update(`refreshing 0/${targets.length}…`);
  const finish = (): void => {
    progress.done();
    if (json) {
      const sorted = [...outcomes].sort((a, b) => a.credential.localeCompare(b.credential));
      context.stdout.write(`${JSON.stringify(sorted, null, 2)}\n`);
      context.stderr.write(`${summaryLine(outcomes)}\n`);
    } else if (printed > 0) {
      context.stdout.write(`${summaryLine(outcomes)}\n`);
    }
  };
  try {
    if (options.function) {
      await refreshThroughLambda(context, options.function, targets, { force, listings }, onOutcome);
    } else {
      await refreshInProcess(
        context,
        targets,
        { force, concurrency: options.concurrency, writesPerSecond: options.writesPerSecond, listings },
        onOutcome,
      );
    }
  } catch (e) {
    // The call to the rotator failed: what was done before it is still reported, and the rest is
    // counted as not started because of it. Their lines would only repeat the error that follows,
    // so they are shown only after others' (where the summary must add up), and always in JSON.
    const reported = new Set(outcomes.map((o) => o.credential));
    const partial = outcomes.length > settled.length;
    for (const credential of targets) {
      if (reported.has(credential)) continue;
      const outcome: RefreshOutcome = { credential, outcome: 'deferred', reason: 'call-failed' };
      outcomes.push(outcome);
      if (partial) print(outcome);
    }
    finish();
    throw e;
  }
  finish();
  const counts = countOutcomes(outcomes);
  return counts.failed + counts.deferred > 0 ? EXIT_CODES.refreshFailed : EXIT_CODES.ok;
}
