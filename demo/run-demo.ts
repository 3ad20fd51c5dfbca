/**
 * `npm run demo` (`token-rotator demo` from a checkout): the whole system on this machine.
 *
 * 1. Setup: moto (local Secrets Manager), the issuer fakes on loopback, the Pulumi CLI, `dist/`
 *    and the rotator's Lambda bundle (each installed or built only when missing or stale).
 * 2. `pulumi up` of {@link demoProgram} through the real CLI (Automation API, local file backend
 *    in a temp dir, passphrase): one credential per issuer kind, first tokens written.
 * 3. The run: the clock is accelerated (`speed` simulated seconds per real second); once per
 *    simulated minute the rotator bundle sweeps, the workload reads every token through
 *    TokenReader and creates a Sirv protected URL, and the status table is redrawn.
 * 4. `pulumi destroy`, a check that nothing is left under the prefix, and cleanup (fakes closed,
 *    moto stopped, temp dirs removed) — also after a failure or Ctrl-C.
 *
 * Nothing printed holds a token or a secret: the table shows codes and times, the URL's JWT is
 * redacted, and pulumi's own output is kept back (only a redacted tail is shown when it fails).
 */
import { randomBytes } from 'node:crypto';
import { paginateListSecrets, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Stack } from '@pulumi/pulumi/automation';
import { abortableSleep, createContext } from '../cli/context';
import { formatDuration } from '../cli/format-duration';
import { collectStatus } from '../cli/status-report';
import { colourAllowed, type OutputStream, type Palette, palette } from '../cli/terminal';
import { isTokenRotatorError } from '../core/errors';
import { redact } from '../core/redact';
import { motoChildEnvironment, motoClientConfig, pointProcessAtMoto } from '../local-stack/aws-environment';
import { startLaggingProxy } from '../local-stack/lagging-proxy';
import { type MotoServer, startMoto } from '../local-stack/moto';
import { createLocalBackend, inlineStack, type LocalBackend, pulumiCliDir } from '../local-stack/pulumi';
import { TokenReader } from '../reader';
import { ensureBuilt, LAMBDA_BUNDLE } from './build-artifacts';
import { DEMO_CREDENTIALS, demoProgram, SECRET_CONFIG_KEYS } from './demo-stack';
import {
  type CredentialSummary,
  type DemoOutcome,
  type DemoSummary,
  problemsOf,
  renderSummary,
  totalsOf,
} from './demo-summary';
import { type DemoClients, type IssuerFakes, randomDemoClients, startIssuerFakes } from './issuer-fakes';
import { RotationTally } from './rotation-tally';
import { loadRotatorBundle } from './rotator-bundle';
import { SampleWorkload } from './sample-workload';
import { SimulatedClock } from './simulated-clock';
import { LiveStatusView } from './status-view';

/** The demo's exit codes (0, 1 and 2 mean what they mean for every token-rotator command). */
export const DEMO_EXIT_CODES = {
  ok: 0,
  usage: 1,
  /** Something could not be installed, built, started or deployed. */
  setupFailed: 2,
  /** The run saw errors: a credential never refreshed, an expired read, an error, a failed destroy. */
  runFailed: 4,
  /** Ctrl-C; everything started was cleaned up. */
  interrupted: 130,
} as const;

/** One of {@link DEMO_EXIT_CODES}. */
export type DemoExitCode = (typeof DEMO_EXIT_CODES)[keyof typeof DEMO_EXIT_CODES];

/** Options of one demo run. */
export interface DemoOptions {
  /** Real seconds the accelerated run lasts. */
  durationSeconds: number;
  /** Simulated seconds per real second. */
  speed: number;
  /** Print the summary as JSON on stdout (the live view goes to stderr). */
  jsonSummary: boolean;
  /**
   * The rotator's ListSecrets answers with a state up to five simulated minutes old (the lagging
   * proxy in front of moto), as AWS documents it may: the run shows it writes nothing twice.
   */
  weakAws?: boolean | undefined;
}

/** Where the demo writes, and what it reads from outside. */
export interface DemoIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C: the demo stops what it is doing, cleans up and ends with 130. */
  signal?: AbortSignal | undefined;
  /** Test seam: the issuers' clients (random secrets by default). */
  clients?: DemoClients | undefined;
}

/** The outcome of {@link runDemo}. */
export interface DemoResult {
  exitCode: DemoExitCode;
  summary: DemoSummary;
}

/**
 * Use this Secrets Manager endpoint (a moto server already running, say) instead of starting moto.
 * The demo cleans up its own prefix there and leaves the server running.
 */
export const AWS_ENDPOINT_VARIABLE = 'TOKEN_ROTATOR_DEMO_AWS_ENDPOINT_URL';

/** Simulated time between two sweeps: the rotator's schedule, `rate(1 minute)`. */
const SWEEP_INTERVAL_MS = 60_000;
/** Real time between two plain (non-terminal) tables. */
const PLAIN_TABLE_INTERVAL_MS = 10_000;
const PULUMI_OUTPUT_TAIL_LINES = 20;

class SetupFailure extends Error {
  constructor(step: string, cause: unknown) {
    super(`${step} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'SetupFailure';
  }
}

class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

/**
 * Runs the demo end to end and resolves to its exit code and summary. Never rejects: every
 * failure is printed (one line, no secret) and mapped to an exit code, after cleanup.
 *
 * @example
 * ```ts
 * const { exitCode } = await runDemo(
 *   { durationSeconds: 60, speed: 30, jsonSummary: false },
 *   { stdout: process.stdout, stderr: process.stderr, env: process.env },
 * );
 * ```
 */
export async function runDemo(options: DemoOptions, io: DemoIo): Promise<DemoResult> {
  return new DemoRun(options, io).run();
}

/** One run: its resources, counters and cleanup steps. */
class DemoRun {
  private readonly out: OutputStream;
  private readonly colour: Palette;
  private readonly clock = new SimulatedClock();
  private readonly prefix = `token-rotator-demo-${randomBytes(3).toString('hex')}/`;
  private readonly clients: DemoClients;
  private readonly passphrase = randomBytes(24).toString('base64url');
  /** Cleanup steps, run last-in first-out. */
  private readonly cleanups: { label: string; run: () => Promise<void> }[] = [];
  private readonly pulumiOutput: string[] = [];
  private outcome: DemoOutcome = 'completed';
  private summary: Omit<DemoSummary, 'problems' | 'totals' | 'credentials' | 'outcome'>;
  private credentials: CredentialSummary[];

  private endpoint = '';
  private fakes: IssuerFakes | undefined;
  private stack: Stack | undefined;

  constructor(
    private readonly options: DemoOptions,
    private readonly io: DemoIo,
  ) {
    this.out = options.jsonSummary ? io.stderr : io.stdout;
    this.colour = palette(colourAllowed(this.out, io.env));
    this.clients = io.clients ?? randomDemoClients();
    this.summary = {
      prefix: this.prefix,
      speed: options.speed,
      realSeconds: 0,
      simulatedSeconds: 0,
      sweeps: 0,
      protectedUrl: { created: 0, failed: 0, example: null },
      stack: { up: 'not run', destroy: 'not run', secretsLeft: null },
      timings: { setup: 0, up: 0, run: 0, destroy: 0 },
    };
    this.credentials = DEMO_CREDENTIALS.map((c) => ({
      credential: c.name,
      issuer: null,
      refreshes: 0,
      generation: null,
      reads: 0,
      expiredReads: 0,
      errors: 0,
    }));
  }

  async run(): Promise<DemoResult> {
    let exitCode: DemoExitCode = DEMO_EXIT_CODES.ok;
    try {
      await this.setup();
      await this.deploy();
      await this.rotate();
    } catch (error) {
      if (error instanceof Interrupted || this.io.signal?.aborted) {
        this.outcome = 'interrupted';
        this.say(this.colour.yellow('Interrupted: cleaning up…'));
      } else {
        this.outcome = 'setup-failed';
        this.say(this.colour.red(`token-rotator demo: ${messageOf(error)}`));
      }
    } finally {
      await this.cleanUp();
    }
    const credentials = this.credentials;
    const partial = { ...this.summary, outcome: this.outcome, credentials, totals: totalsOf(credentials) };
    const summary: DemoSummary = { ...partial, problems: problemsOf(partial) };
    if (this.outcome === 'interrupted') exitCode = DEMO_EXIT_CODES.interrupted;
    else if (this.outcome === 'setup-failed') exitCode = DEMO_EXIT_CODES.setupFailed;
    else if (summary.problems.length > 0) exitCode = DEMO_EXIT_CODES.runFailed;
    if (this.outcome !== 'setup-failed' || this.summary.stack.up !== 'not run') {
      this.say('');
      this.say(renderSummary(summary, this.colour).join('\n'));
    }
    if (this.options.jsonSummary) this.io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return { exitCode, summary };
  }

  // -------------------------------------------------------------------------------------------
  // 1. Setup

  private async setup(): Promise<void> {
    const begin = performance.now();
    this.say(this.colour.bold('token-rotator demo'));
    this.say(
      'Setting up moto, the issuer fakes, the Pulumi CLI and dist/ (the first run installs moto and builds the ' +
        'Pulumi CLI from Go modules, about five minutes; later runs take seconds)…',
    );
    this.checkAborted();
    const external = this.io.env[AWS_ENDPOINT_VARIABLE];
    const moto: Promise<MotoServer | undefined> = external ? Promise.resolve(undefined) : startMoto();
    // Registered at once, so a moto that comes up after a failure elsewhere is still stopped.
    this.cleanups.push({
      label: 'stop moto',
      run: () =>
        moto.then(
          (m) => m?.stop(),
          () => undefined,
        ),
    });
    const fakes = startIssuerFakes(this.clock.now, this.clients);
    this.cleanups.push({
      label: 'close the issuer fakes',
      run: () =>
        fakes.then(
          (f) => f.close(),
          () => undefined,
        ),
    });
    const steps = await this.untilAborted(
      Promise.allSettled([
        step('moto', moto),
        step('issuer fakes', fakes),
        step('Pulumi CLI (scripts/setup-pulumi.sh)', pulumiCliDir()),
        step('build of dist/ and the Lambda bundle', ensureBuilt()),
      ]),
    );
    const failed = steps.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [motoResult, fakesResult, cliResult, buildResult] = steps as [
      PromiseFulfilledResult<MotoServer | undefined>,
      PromiseFulfilledResult<IssuerFakes>,
      PromiseFulfilledResult<string>,
      PromiseFulfilledResult<Awaited<ReturnType<typeof ensureBuilt>>>,
    ];
    this.endpoint = motoResult.value?.endpoint ?? String(external);
    this.fakes = fakesResult.value;
    this.summary.timings.setup = seconds(performance.now() - begin);
    this.say(
      `  moto (Secrets Manager) ${this.endpoint}${external ? ` (from ${AWS_ENDPOINT_VARIABLE})` : ''}\n` +
        `  issuers: Sirv ${this.fakes.sirv.url}, Aspose ${this.fakes.aspose.url}, header-JWT ${this.fakes.headerJwt.url}\n` +
        `  pulumi CLI in ${cliResult.value}; dist/ ${buildResult.value.dist}, Lambda bundle ${buildResult.value.bundle}\n` +
        `  ready in ${this.summary.timings.setup.toFixed(1)}s`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // 2. pulumi up

  private async deploy(): Promise<void> {
    const fakes = this.fakes as IssuerFakes;
    const begin = performance.now();
    this.useAwsEnvironment();
    let backend: LocalBackend;
    try {
      backend = await createLocalBackend({
        ...motoChildEnvironment(this.endpoint),
        PULUMI_CONFIG_PASSPHRASE: this.passphrase,
      });
    } catch (error) {
      throw new SetupFailure('creating the local Pulumi backend', error);
    }
    this.cleanups.push({ label: 'remove the Pulumi backend', run: () => backend.dispose() });
    const program = demoProgram({ prefix: this.prefix, fakes, clients: this.clients });
    const stack = await inlineStack(backend, 'token-rotator-demo', 'demo', program);
    await stack.setAllConfig({
      [SECRET_CONFIG_KEYS.sirv]: { value: this.clients.sirv.clientSecret, secret: true },
      [SECRET_CONFIG_KEYS.aspose]: { value: this.clients.aspose.clientSecret, secret: true },
      [SECRET_CONFIG_KEYS.headerJwt]: { value: this.clients.headerJwt.clientSecret, secret: true },
    });
    this.checkAborted();
    // Destroy is registered before `up` starts: an `up` that fails or is cancelled halfway may
    // have created some credentials already.
    this.stack = stack;
    this.cleanups.push({ label: 'pulumi destroy', run: () => this.destroy() });
    this.say(
      `pulumi up: ${DEMO_CREDENTIALS.map((c) => `${c.name} (${c.kind})`).join(', ')} under ${this.prefix}, ` +
        'local file backend in a temp dir…',
    );
    try {
      const up = await stack.up({ onOutput: (text) => this.pulumiOutput.push(text), signal: this.io.signal });
      this.summary.stack.up = 'succeeded';
      this.summary.timings.up = seconds(performance.now() - begin);
      this.say(
        `  ${up.summary.resourceChanges?.create ?? 0} resources created in ${this.summary.timings.up.toFixed(1)}s; ` +
          'first tokens issued by the provider, at real time',
      );
    } catch (error) {
      this.summary.stack.up = this.io.signal?.aborted ? 'cancelled' : 'failed';
      this.summary.timings.up = seconds(performance.now() - begin);
      this.checkAborted();
      throw new SetupFailure('pulumi up', this.pulumiFailure(error));
    }
  }

  // -------------------------------------------------------------------------------------------
  // 3. The accelerated run

  /** What the run drives: the rotator bundle, the workload and the status report's context. */
  private async runParts() {
    const fakes = this.fakes as IssuerFakes;
    const awsConfig = motoClientConfig(this.endpoint);
    const secretsManager = new SecretsManagerClient(awsConfig);
    this.cleanups.push({ label: 'close the AWS client', run: async () => secretsManager.destroy() });
    if (this.options.weakAws) await this.useLaggingListings();
    let rotator: Awaited<ReturnType<typeof loadRotatorBundle>>;
    try {
      rotator = await loadRotatorBundle(LAMBDA_BUNDLE, { prefix: this.prefix, now: this.clock.now });
    } catch (error) {
      throw new SetupFailure('loading the rotator bundle', error);
    }
    const names = DEMO_CREDENTIALS.map((c) => c.name);
    const reader = new TokenReader({ prefix: this.prefix, client: secretsManager, now: this.clock.now });
    const workload = new SampleWorkload({
      reader,
      credentials: names,
      sirvCredential: 'sirv-demo',
      sirvBaseUrl: fakes.sirv.url,
      now: this.clock.now,
    });
    const statusContext = createContext(
      {
        stdout: this.out,
        stderr: this.io.stderr,
        env: {},
        now: this.clock.now,
        secretsManager: () => secretsManager,
      },
      { prefix: this.prefix },
    );
    return { rotator, workload, statusContext, names };
  }

  private async rotate(): Promise<void> {
    const { rotator, workload, statusContext, names } = await this.runParts();
    const view = new LiveStatusView(this.out, this.colour, PLAIN_TABLE_INTERVAL_MS);
    const tally = new RotationTally();

    const durationMs = this.options.durationSeconds * 1000;
    this.clock.accelerate(this.options.speed);
    const tickMs = this.clock.realMsFor(SWEEP_INTERVAL_MS);
    this.say(
      `Running for ${formatDuration(this.options.durationSeconds)} at ×${this.options.speed}: a sweep per simulated ` +
        `minute (every ${(tickMs / 1000).toFixed(1)}s), the workload reading every token each time…`,
    );
    const simStart = this.clock.nowMs();
    const begin = performance.now();
    const elapsed = () => performance.now() - begin;
    const stamp = () => `[+${formatDuration((this.clock.nowMs() - simStart) / 1000)}]`;
    // Bounded by the duration; the count is a second bound should the clock misbehave.
    const maxTicks = Math.ceil(durationMs / tickMs) + 1;
    // Ctrl-C ends the loop; the counts so far still make the summary (then Interrupted is thrown).
    for (let tick = 0; tick < maxTicks && elapsed() < durationMs && !this.io.signal?.aborted; tick++) {
      try {
        const sweep = await rotator.sweep();
        this.summary.sweeps += 1;
        tally.sweepFailed(sweep.failures);
        for (const failure of sweep.failures) {
          view.note(this.colour.yellow(`${stamp()} ${failure.credential}: refresh failed (${failure.code})`));
        }
      } catch (error) {
        tally.invocationFailed(codeOf(error));
        view.note(this.colour.red(`${stamp()} the rotator invocation failed (${codeOf(error)})`));
      }
      await workload.tick();
      try {
        const report = await collectStatus(statusContext, names, true);
        for (const seen of tally.observe(report.statuses, workload.counts)) {
          const expiry = seen.expiresAt
            ? `, expires in ${formatDuration((Date.parse(seen.expiresAt) - this.clock.nowMs()) / 1000)}`
            : '';
          view.note(`${stamp()} ${seen.credential} refreshed: generation ${seen.generation}${expiry}`);
        }
      } catch (error) {
        view.note(this.colour.red(`${stamp()} reading the status failed (${codeOf(error)})`));
      }
      view.show(tally.rows(), this.frameHeader(elapsed()));
      const nextTickAt = Math.min((tick + 1) * tickMs, durationMs);
      await abortableSleep(Math.max(0, nextTickAt - elapsed()), this.io.signal);
    }
    view.show(tally.rows(), this.frameHeader(Math.min(elapsed(), durationMs)), true);
    view.release();
    this.summary.timings.run = seconds(elapsed());
    this.summary.realSeconds = Math.round(elapsed() / 1000);
    this.summary.simulatedSeconds = Math.round((this.clock.nowMs() - simStart) / 1000);
    this.summary.protectedUrl = {
      created: workload.protectedUrls.created,
      failed: workload.protectedUrls.failed,
      example: workload.protectedUrls.lastUrl ?? null,
    };
    this.credentials = tally.summaries(
      DEMO_CREDENTIALS.map((c) => c.name),
      workload.counts,
    );
    this.checkAborted();
  }

  /**
   * Points this process's standard AWS environment at moto, as the TokenRotator component
   * configures the Lambda's, and restores it at cleanup. The bundle builds its clients
   * from it. The SDK's notice about its future Node versions is silenced: it would tear the table.
   */
  private useAwsEnvironment(): void {
    const restore = pointProcessAtMoto(this.endpoint, {
      extra: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    this.cleanups.push({ label: 'restore the AWS environment', run: async () => restore() });
  }

  /**
   * Puts the lagging proxy between the rotator bundle and moto: the bundle builds its clients from
   * the standard environment on its first invocation, so pointing it at the proxy is enough.
   */
  private async useLaggingListings(): Promise<void> {
    const proxy = await startLaggingProxy({ target: this.endpoint, now: this.clock.now });
    const restore = pointProcessAtMoto(proxy.endpoint, {
      extra: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    this.cleanups.push({
      label: 'stop the lagging proxy',
      run: async () => {
        restore();
        await proxy.close();
      },
    });
  }

  private frameHeader(realElapsedMs: number) {
    return {
      simulatedNow: this.clock.now(),
      speed: this.options.speed,
      realElapsedSeconds: realElapsedMs / 1000,
      realDurationSeconds: this.options.durationSeconds,
    };
  }

  // -------------------------------------------------------------------------------------------
  // 4. Teardown

  private async destroy(): Promise<void> {
    const stack = this.stack;
    if (!stack) return;
    const begin = performance.now();
    this.say('pulumi destroy…');
    try {
      await stack.destroy({ onOutput: (text) => this.pulumiOutput.push(text) });
      this.summary.stack.destroy = 'succeeded';
    } catch (error) {
      this.summary.stack.destroy = 'failed';
      this.say(this.colour.red(`pulumi destroy failed: ${this.pulumiFailure(error).message}`));
    }
    this.summary.timings.destroy = seconds(performance.now() - begin);
    try {
      this.summary.stack.secretsLeft = await this.secretsLeft();
    } catch (error) {
      this.say(this.colour.red(`Could not list what is left under ${this.prefix}: ${codeOf(error)}`));
    }
    this.say(
      `  ${this.summary.stack.destroy} in ${this.summary.timings.destroy.toFixed(1)}s; ` +
        `secrets left under ${this.prefix}: ${this.summary.stack.secretsLeft ?? 'unknown'}`,
    );
  }

  /** Secrets under the prefix, those scheduled for deletion included. */
  private async secretsLeft(): Promise<number> {
    const client = new SecretsManagerClient(motoClientConfig(this.endpoint));
    let left = 0;
    let pages = 0;
    try {
      const paginator = paginateListSecrets(
        { client, pageSize: 100 },
        { Filters: [{ Key: 'name', Values: [this.prefix] }], IncludePlannedDeletion: true },
      );
      for await (const page of paginator) {
        left += (page.SecretList ?? []).filter((s) => s.Name?.startsWith(this.prefix)).length;
        if (++pages >= 100) break;
      }
    } finally {
      client.destroy();
    }
    return left;
  }

  private async cleanUp(): Promise<void> {
    while (this.cleanups.length > 0) {
      const cleanup = this.cleanups.pop();
      if (!cleanup) break;
      try {
        await cleanup.run();
      } catch (error) {
        this.say(this.colour.red(`Cleanup step "${cleanup.label}" failed: ${messageOf(error)}`));
      }
    }
  }

  // -------------------------------------------------------------------------------------------

  /** Pulumi's error, with the tail of its output, every known secret and anything token-shaped redacted. */
  private pulumiFailure(error: unknown): Error {
    const output = this.pulumiOutput.join('').trim().split('\n').slice(-PULUMI_OUTPUT_TAIL_LINES).join('\n');
    const message = error instanceof Error ? error.message : String(error);
    const known = [
      this.passphrase,
      this.clients.sirv.clientSecret,
      this.clients.aspose.clientSecret,
      this.clients.headerJwt.clientSecret,
    ];
    const lines = redact(`${firstLines(message, 8)}\n${output}`, known).trim();
    return new Error(lines);
  }

  private checkAborted(): void {
    if (this.io.signal?.aborted) throw new Interrupted();
  }

  /** `promise`, or an {@link Interrupted} rejection as soon as the signal aborts. */
  private untilAborted<T>(promise: Promise<T>): Promise<T> {
    const signal = this.io.signal;
    if (!signal) return promise;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new Interrupted());
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private say(text: string): void {
    this.out.write(`${text}\n`);
  }
}

/** A setup step's promise, its failure named after the step. */
function step<T>(name: string, promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    throw new SetupFailure(name, error);
  });
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

function codeOf(error: unknown): string {
  if (isTokenRotatorError(error)) return error.code;
  return error instanceof Error ? error.name : 'Error';
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return redact(text).trim();
}

function firstLines(text: string, count: number): string {
  return text.split('\n').slice(0, count).join('\n');
}
