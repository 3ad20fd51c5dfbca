/**
 * `token-rotator demo [--duration s] [--speed n] [--json-summary]`: the whole system on this
 * machine (moto, issuer fakes on loopback, the real pulumi CLI, the rotator bundle, a workload)
 * on an accelerated clock. The demo is made of development parts (local-stack/: moto, the issuer
 * fakes), so it runs from a source checkout (`npm run demo`); the published package says so
 * instead of running it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, CommanderError, InvalidArgumentError } from 'commander';
import type { CliDeps } from '../context';
import { CliExit, EXIT_CODES } from '../exit-codes';
import { printError } from '../run-action';

/** Options of `demo`, as commander parses them. */
export interface DemoCommandOptions {
  duration: number;
  speed: number;
  jsonSummary?: boolean;
  weakAws?: boolean;
}

const DURATION_BOUNDS = { min: 5, max: 3600 } as const;
const SPEED_BOUNDS = { min: 1, max: 120 } as const;
/** The exit code of a run stopped with Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED_EXIT_CODE = 130;

/** Parses `--duration <seconds>`: whole real seconds from 5 to 3600. */
export function parseDemoDuration(value: string): number {
  return wholeNumber(value, DURATION_BOUNDS, 'real seconds');
}

/** Parses `--speed <n>`: simulated seconds per real second, a whole number from 1 to 120. */
export function parseDemoSpeed(value: string): number {
  return wholeNumber(value, SPEED_BOUNDS, 'simulated seconds per real second');
}

function wholeNumber(value: string, bounds: { min: number; max: number }, what: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < bounds.min || n > bounds.max) {
    throw new InvalidArgumentError(`expected ${what}, a whole number from ${bounds.min} to ${bounds.max}.`);
  }
  return n;
}

// From cli/commands/ in a checkout (sources run by tsx) the demo is two levels up; in the compiled
// package (dist/cli/commands/) there is no demo/ beside it. It is loaded by path at run time, and
// typed by the interface below, so that neither the build nor the package ever includes it (or
// the test fakes it is made of).
const DEMO_SOURCE = join(__dirname, '..', '..', 'demo', 'run-demo.ts');

/** True when the CLI runs from a source checkout, where the demo is. */
function runsFromCheckout(): boolean {
  return existsSync(DEMO_SOURCE);
}

/** What this command uses of demo/run-demo.ts. */
interface DemoModule {
  runDemo(
    options: { durationSeconds: number; speed: number; jsonSummary: boolean; weakAws: boolean },
    io: {
      stdout: CliDeps['stdout'];
      stderr: CliDeps['stderr'];
      env: NodeJS.ProcessEnv;
      signal?: AbortSignal | undefined;
    },
  ): Promise<{ exitCode: number }>;
}

/** Registers `demo` on `program`. */
export function registerDemo(program: Command, deps: CliDeps): Command {
  // The installed package cannot run it: there it is not listed in the help (it still explains itself).
  return program
    .command('demo', { hidden: !runsFromCheckout() })
    .summary('run everything locally on an accelerated clock (from a checkout: npm run demo)')
    .description(
      'Start moto and the issuer fakes on 127.0.0.1, "pulumi up" a stack with one credential per issuer kind ' +
        '(sirv, aspose, header-jwt, upload), run the rotator Lambda bundle every simulated minute while a ' +
        'workload reads the tokens and creates a Sirv protected URL, show a live status table, then ' +
        '"pulumi destroy" and clean up. Runs from a source checkout: npm run demo -- [options].',
    )
    .option(
      '--duration <seconds>',
      `real seconds to run after "pulumi up" (${DURATION_BOUNDS.min}-${DURATION_BOUNDS.max})`,
      parseDemoDuration,
      60,
    )
    .option(
      '--speed <n>',
      `simulated seconds per real second (${SPEED_BOUNDS.min}-${SPEED_BOUNDS.max}); one sweep per simulated minute`,
      parseDemoSpeed,
      30,
    )
    .option('--json-summary', 'print the summary as JSON on stdout (progress and the table go to stderr)')
    .option(
      '--weak-aws',
      "the rotator's ListSecrets lags up to five simulated minutes, as AWS documents it may (a proxy in front of moto)",
    )
    .addHelpText(
      'after',
      `
Needs Node >= 22, Python 3 (moto) and Go >= 1.26.6 (the Pulumi CLI is built once, about five
minutes, then cached in ~/.cache/token-rotator/). No network besides package installs; every
server listens on 127.0.0.1. TOKEN_ROTATOR_DEMO_AWS_ENDPOINT_URL=URL uses a running moto instead.

Exit codes: 0 every credential was refreshed, no expired read, no error, destroy succeeded;
1 usage; 2 setup failed (install, build, start or pulumi up); 4 the run saw errors (a credential
never refreshed, an expired read, an error, a failed destroy); 130 interrupted (Ctrl-C), after cleanup.

Examples:
  npm run demo
  npm run demo -- --duration 20
  npm run demo -- --duration 30 --speed 60 --json-summary > summary.json
  npm run demo -- --weak-aws`,
    )
    .action(async (options: DemoCommandOptions, command: Command) => {
      const debug = command.optsWithGlobals<{ debug?: boolean }>().debug === true;
      if (!runsFromCheckout()) {
        deps.stderr.write(
          'token-rotator: the demo runs from a source checkout of token-rotator, not from the installed package: ' +
            'clone the repository, then run "npm ci && npm run demo".\n',
        );
        // 2: for the demo, a setup failure (here: what it needs is not installed).
        throw new CliExit(EXIT_CODES.aws);
      }
      let exitCode: number;
      try {
        // A TypeScript file: this works where the CLI itself runs from sources (tsx, as npm run demo does).
        const { runDemo } = require(DEMO_SOURCE) as DemoModule;
        ({ exitCode } = await runDemo(
          {
            durationSeconds: options.duration,
            speed: options.speed,
            jsonSummary: options.jsonSummary === true,
            weakAws: options.weakAws === true,
          },
          { stdout: deps.stdout, stderr: deps.stderr, env: deps.env ?? process.env, signal: deps.signal },
        ));
      } catch (error) {
        // runDemo reports its own failures; this is a demo that could not even be loaded.
        printError(deps, debug, error);
        throw new CliExit(EXIT_CODES.aws);
      }
      if (exitCode === INTERRUPTED_EXIT_CODE) {
        throw new CommanderError(INTERRUPTED_EXIT_CODE, 'token-rotator.interrupted', 'interrupted');
      }
      if (exitCode !== EXIT_CODES.ok) throw new CliExit(exitCode as 2 | 4);
    });
}
