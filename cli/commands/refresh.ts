/**
 * `token-rotator refresh <names...> | --all`: obtains new tokens now, in this process (the
 * rotator's own code with the caller's AWS credentials) or through the deployed rotator Lambda
 * (`--function`), and prints one line per credential and a summary.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_WRITES_PER_SECOND, MAX_WRITES_PER_SECOND } from '../../core/rotator-protocol';
import { assertCredentialName, type CredentialListing, listCredentials, secretNames } from '../../core/store';
import { dueVerdict, planSweep } from '../../lambda/plan';
import type { CliContext, CliDeps } from '../context';
import { EXIT_CODES, type ExitCode } from '../exit-codes';
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

/** Options of `refresh`, as commander parses them. */
export interface RefreshOptions {
  all?: boolean;
  force?: boolean;
  /** Name or ARN of the rotator Lambda. */
  function?: string;
  concurrency: number;
  /** In-process Secrets Manager writes per second. */
  writesPerSecond: number;
  json?: boolean;
}

const DEFAULT_CONCURRENCY = 8;
const MAX_CONCURRENCY = 64;

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

/** Parses `--concurrency <n>`: a whole number from 1 to 64. */
export function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_CONCURRENCY) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_CONCURRENCY}.`);
  }
  return n;
}

/** Registers `refresh` on `program`. */
export function registerRefresh(program: Command, deps: CliDeps): Command {
  return program
    .command('refresh')
    .summary('refresh the named credentials, or every due one with --all (exit 4 when one fails)')
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
    .option('--concurrency <n>', 'in-process refreshes at once (1-64)', parseConcurrency, DEFAULT_CONCURRENCY)
    .option(
      '--writes-per-second <n>',
      `in-process Secrets Manager writes per second, shared with the running rotator (above 0, at most ${MAX_WRITES_PER_SECOND})`,
      parseWritesPerSecond,
      DEFAULT_WRITES_PER_SECOND,
    )
    .option('--json', 'print a JSON array of per-credential outcomes instead of result lines')
    .addHelpText(
      'after',
      `
A credential is due when its refresh time falls within the next ${LOOKAHEAD_SECONDS}s (as for the rotator's next sweep).
--all reads tags only (ListSecrets) to choose; named credentials are checked against their token record.
In this process, writes (PutSecretValue and tag calls) are paced at --writes-per-second, as the rotator
paces its own: the account's write quota (about 50/s) is shared with it. With --function the rotator
paces at its own setting.

Result lines: "ok" (new generation and expiry), "skipped" (not due, backing off, or blocked),
"failed" (error code, message, what to do), "deferred" (not started). A summary line ends the output.
--json prints an array of {credential, outcome: refreshed|skipped|failed|deferred, ...} instead.

Exit codes: 0 all refreshed or skipped; 1 usage or configuration error; 2 AWS error;
4 some credential failed or was not started.

Examples:
  token-rotator refresh sirv-prod
  token-rotator refresh --all
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
  for (const name of names) assertCredentialName(name);
  const force = options.force === true;
  const outcomes: RefreshOutcome[] = [];
  const settled: RefreshOutcome[] = [];
  let targets: string[] = [];
  let listings: Map<string, CredentialListing> | undefined;

  // Listing needs ListSecrets; a named refresh through the rotator needs only lambda:InvokeFunction.
  if (options.all || !options.function) listings = await listAll(context);
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
      if (listings && !listings.has(name)) settled.push(notFoundOutcome(name, secretNames(name, context.prefix).token));
      else targets.push(name);
    }
  }

  if (targets.length === 0 && settled.length === 0) {
    const line = `No credentials under prefix "${context.prefix}".`;
    if (options.json) context.stdout.write('[]\n');
    context[options.json ? 'stderr' : 'stdout'].write(`${line}\n`);
    return EXIT_CODES.ok;
  }

  const nameWidth = [...targets, ...settled.map((o) => o.credential)].reduce((w, n) => Math.max(w, n.length), 0);
  const progress = new ProgressLine(context.stderr);
  const report = (outcome: RefreshOutcome): void => {
    outcomes.push(outcome);
    if (!options.json) {
      progress.around(() =>
        context.stdout.write(`${outcomeLine(outcome, context.now(), context.colour, nameWidth)}\n`),
      );
    }
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
    if (options.json) {
      const sorted = [...outcomes].sort((a, b) => a.credential.localeCompare(b.credential));
      context.stdout.write(`${JSON.stringify(sorted, null, 2)}\n`);
      context.stderr.write(`${summaryLine(outcomes)}\n`);
    } else {
      context.stdout.write(`${summaryLine(outcomes)}\n`);
    }
  };
  try {
    if (options.function) await refreshThroughLambda(context, options.function, targets, force, onOutcome);
    else
      await refreshInProcess(
        context,
        targets,
        { force, concurrency: options.concurrency, writesPerSecond: options.writesPerSecond, listings },
        onOutcome,
      );
  } catch (e) {
    // What was done before the failure is still reported, the rest as not started, and the
    // summary still ends the output.
    const reported = new Set(outcomes.map((o) => o.credential));
    for (const credential of targets) if (!reported.has(credential)) report({ credential, outcome: 'deferred' });
    finish();
    throw e;
  }
  finish();
  const counts = countOutcomes(outcomes);
  return counts.failed + counts.deferred > 0 ? EXIT_CODES.refreshFailed : EXIT_CODES.ok;
}

async function listAll(context: CliContext): Promise<Map<string, CredentialListing>> {
  const listings = new Map<string, CredentialListing>();
  for await (const listing of listCredentials(context.store())) listings.set(listing.name, listing);
  return listings;
}
