/**
 * ProviderCredential at a platform repo's scale, under the real pulumi CLI (local file backend,
 * passphrase), moto and the Sirv fake, with the packed package: `npm pack` of this checkout's
 * build, unpacked, is what the programs declare credentials with and what the provider process
 * loads:
 *
 * 1. preview, `up` (create), a no-op `up` and `destroy` of 200 credentials, each against the same
 *    command on 200 trivial dynamic resources (a provider whose create returns an id at once) on
 *    the same CLI, backend kind and machine, the two stacks taking turns so both see the same load.
 *    The commands that change nothing (the goal's) run {@link STEADY_RUNS} times each, the stack
 *    that goes first alternating, and report medians: one run of a two-second command swings by a
 *    quarter on a shared two-core machine. A third stack, a do-nothing provider handed the same
 *    properties as the credentials, takes its turn too: it splits what is left into the engine's
 *    handling of a credential's properties and token-rotator's own code;
 * 2. the program's own share, without the CLI: the CPU of declaring 200 credentials against 200
 *    trivial resources under Pulumi's mocks (provider-program.ts), steadier than the CLI timings;
 * 3. one `up` of 500 credentials through a proxy that throttles past 50 Secrets Manager writes per
 *    second (local-stack/throttling-proxy.ts): it must finish with no failed resource; the baseline
 *    is the least time the writes it made can take at 50 per second.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as pulumi from '@pulumi/pulumi';
import type { Stack } from '@pulumi/pulumi/automation';
import { CODE_VERSION } from '../core/version';
import { startSirvFake } from '../local-stack/fakes/sirv';
import { createLocalBackend, inlineStack, type LocalBackend } from '../local-stack/pulumi';
import {
  SECRETS_MANAGER_WRITES_PER_SECOND,
  startThrottlingProxy,
  type ThrottlingCounts,
} from '../local-stack/throttling-proxy';
import type { ProviderCredential } from '../provider/resource';
import type { BenchContext, BenchOutcome } from './context';
import { type ProgramCpu, programCpu } from './provider-program';
import { median } from './stats';
import { type BenchRow, row } from './table';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..');

const BENCHMARK = 'provider-scale';
/**
 * Where the packed package is unpacked, as `node_modules/token-rotator`: inside this checkout, so
 * the package's own `require('@pulumi/pulumi')` finds the instance that hosts the inline programs.
 */
const PACKED_ROOT = join(repoRoot, '.local', 'bench-provider-scale');
const COUNT = 200;
const THROTTLED_COUNT = 500;
/** A quota well below what one `up` writes per second on a 2-core machine, so throttling does happen. */
const TIGHT_COUNT = 100;
const TIGHT_WRITES_PER_SECOND = 5;
// A test value planted in the fake's client table, not a secret.
const CLIENT_SECRET = 'bench-provider-scale-client-secret';
/** Runs of each command that changes nothing, per stack (the median is reported). */
const STEADY_RUNS = 7;
/** Runs of the program measurement per kind (the median is reported). */
const PROGRAM_RUNS = 3;
/** Each CLI command's bound: a stuck `up` fails the bench instead of holding it. */
const COMMAND_TIMEOUT_MS = 6 * 60_000;

/**
 * The floor: a dynamic provider that does no work at all, one object for every resource (so
 * @pulumi/pulumi serializes it once, as it does ProviderCredential's).
 */
const TRIVIAL_PROVIDER: pulumi.dynamic.ResourceProvider = {
  async create(inputs: { n: number }) {
    return { id: `trivial-${inputs.n}`, outs: inputs };
  },
};

class Trivial extends pulumi.dynamic.Resource {
  constructor(name: string, n: number) {
    super(TRIVIAL_PROVIDER, name, { n });
  }
}

function trivialProgram(count: number): pulumi.automation.PulumiFn {
  return async () => {
    for (let i = 0; i < count; i++) new Trivial(`trivial-${i}`, i);
  };
}

/**
 * The same properties without token-rotator's code: a dynamic provider that checks and compares
 * nothing, handed what a credential registers and answering what the credential's provider answers
 * (its inputs and two ARNs). The bench checks that both kinds hold the same property names.
 */
const SAME_DATA_PROVIDER: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    return { inputs: news };
  },
  async diff() {
    return { changes: false };
  },
  async create(inputs: Record<string, string>) {
    const arn = (half: string) =>
      `arn:aws:secretsmanager:us-east-1:123456789012:secret:${inputs.prefix}${inputs.name}/${half}-AbCdEf`;
    return {
      id: `${inputs.prefix}${inputs.name}`,
      outs: { ...inputs, tokenSecretArn: arn('token'), clientSecretArn: arn('client') },
    };
  },
};

/** What `ProviderCredential` registers for the arguments of {@link credentialProgram}, by hand. */
class SameData extends pulumi.dynamic.Resource {
  constructor(name: string, prefix: string, issuer: Record<string, pulumi.Input<string | boolean>>) {
    // As ProviderCredential registers: no promise stack traces (see provider/resource.ts).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(
        SAME_DATA_PROVIDER,
        name,
        {
          prefix,
          recoveryWindowInDays: 0,
          name,
          issuer: pulumi.secret(issuer),
          aws: { region: process.env.AWS_REGION },
          owner: `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::pulumi-nodejs:dynamic:Resource::${name}`,
          codeVersion: CODE_VERSION,
          tokenSecretArn: undefined,
          clientSecretArn: undefined,
          publicKeyPem: undefined,
          publicJwks: undefined,
        },
        { additionalSecretOutputs: ['issuer'] },
      );
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }
}

function sameDataProgram(count: number, tokenUrl: string, prefix: string): pulumi.automation.PulumiFn {
  return async () => {
    const clientSecret = new pulumi.Config().requireSecret('sirvClientSecret');
    for (let i = 0; i < count; i++) {
      const issuer = { kind: 'sirv', url: tokenUrl, allowInsecureHttp: true, clientId: `bench-${i}`, clientSecret };
      new SameData(`cred-${i}`, prefix, issuer);
    }
  };
}

type CredentialClass = typeof ProviderCredential;

/**
 * `npm pack` of this checkout (of the build `npm run bench` has just made: `--ignore-scripts`, as
 * prepack would clean and build again), unpacked; its directory and its `ProviderCredential`.
 */
async function packedPackage(): Promise<{ dir: string; ProviderCredential: CredentialClass }> {
  const dir = join(PACKED_ROOT, 'node_modules', 'token-rotator');
  await rm(PACKED_ROOT, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const { stdout } = await execFileAsync(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', PACKED_ROOT],
    {
      cwd: repoRoot,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 5 * 60_000,
    },
  );
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  if (!packed) throw new Error('npm pack printed no package');
  await execFileAsync('tar', ['-xzf', join(PACKED_ROOT, packed.filename), '--strip-components=1', '-C', dir]);
  const entry = require(join(dir, 'dist', 'index.js')) as typeof import('../index');
  return { dir, ProviderCredential: entry.ProviderCredential };
}

function credentialProgram(
  Credential: CredentialClass,
  count: number,
  tokenUrl: string,
  prefix: string,
): pulumi.automation.PulumiFn {
  return async () => {
    const clientSecret = new pulumi.Config().requireSecret('sirvClientSecret');
    for (let i = 0; i < count; i++) {
      new Credential(`cred-${i}`, {
        prefix,
        // Deleted at once: moto would otherwise keep every destroyed secret for the rest of the run.
        recoveryWindowInDays: 0,
        issuer: { kind: 'sirv', url: tokenUrl, allowInsecureHttp: true, clientId: `bench-${i}`, clientSecret },
      });
    }
  };
}

function clientTable(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`bench-${i}`, CLIENT_SECRET]));
}

async function credentialStack(backend: LocalBackend, name: string, program: pulumi.automation.PulumiFn) {
  const stack = await inlineStack(backend, name, 'bench', program);
  await stack.setConfig('sirvClientSecret', { value: CLIENT_SECRET, secret: true });
  return stack;
}

/** Seconds a command takes; throws past {@link COMMAND_TIMEOUT_MS}. */
async function timed<T>(label: string, run: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${label}: no answer within ${COMMAND_TIMEOUT_MS / 1000} s`)),
      COMMAND_TIMEOUT_MS,
    );
  });
  try {
    const result = await Promise.race([run(), timeout]);
    return { seconds: (performance.now() - started) / 1000, result };
  } finally {
    clearTimeout(timer);
  }
}

/** The CLI's summary of a failed command: its resource errors, without the rest of its output. */
function failureSummary(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const errored = /(\d+) errored/.exec(text)?.[0] ?? 'failed';
  const first = /error: (Credential "[^\n]*)/.exec(text)?.[1] ?? text.split('\n')[0] ?? '';
  return `${errored}; first: ${first.slice(0, 300)}`;
}

interface StateResource {
  type?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/** The state's resources of `type`, from the exported deployment. */
async function stateResources(stack: Stack, type: string): Promise<StateResource[]> {
  const deployment = await stack.exportStack();
  return ((deployment.deployment as { resources?: StateResource[] }).resources ?? []).filter((r) => r.type === type);
}

/** Bytes of state per resource. */
function bytesPerResource(resources: StateResource[]): number {
  return resources.length === 0 ? 0 : Math.round(JSON.stringify(resources).length / resources.length);
}

/** The names of a resource's inputs and outputs in the state, to compare two kinds. */
function propertyNames(resource: StateResource | undefined): string {
  const names = (props: Record<string, unknown> | undefined) =>
    Object.keys(props ?? {})
      .sort()
      .join(',');
  return `inputs ${names(resource?.inputs)}; outputs ${names(resource?.outputs)}`;
}

interface Command {
  label: string;
  run(stack: Stack): Promise<unknown>;
  /** What the command must have changed on each stack (resources, the stack itself aside). */
  expect: string;
  /** Times each stack runs it (commands that change nothing can run again). */
  runs: number;
}

const failOnChange = (summary: Record<string, number> | undefined, allowed: string, label: string) => {
  const changed = Object.entries(summary ?? {}).filter(([op, n]) => op !== allowed && op !== 'same' && n > 0);
  if (changed.length > 0) throw new Error(`${label}: unexpected changes ${JSON.stringify(summary)}`);
};

/** The package under test: its unpacked directory and its `ProviderCredential`. */
interface PackageUnderTest {
  dir: string;
  ProviderCredential: CredentialClass;
}

async function sideBySide(
  context: BenchContext,
  pkg: PackageUnderTest,
  count: number,
): Promise<{ rows: BenchRow[]; details: Record<string, unknown> }> {
  const sirv = await startSirvFake({ clients: clientTable(count) });
  // One backend each: a workspace writes its project's Pulumi.yaml into its own directory.
  const trivialBackend = await createLocalBackend({}, pkg.dir);
  const backend = await createLocalBackend({}, pkg.dir);
  const sameDataBackend = await createLocalBackend({}, pkg.dir);
  try {
    const trivial = await inlineStack(trivialBackend, 'scale-trivial', 'bench', trivialProgram(count));
    const credentials = await credentialStack(
      backend,
      'scale-credentials',
      credentialProgram(pkg.ProviderCredential, count, sirv.tokenUrl, 'bench-provider-scale/'),
    );
    const sameData = await credentialStack(
      sameDataBackend,
      'scale-same-data',
      sameDataProgram(count, sirv.tokenUrl, 'bench-provider-scale/'),
    );
    const stacks = { trivial, credentials, sameData };
    const commands: Command[] = [
      {
        label: 'preview (all new)',
        run: async (s) => failOnChange((await s.preview()).changeSummary, 'create', 'preview'),
        expect: 'create',
        runs: 1,
      },
      {
        label: 'up (create)',
        run: async (s) => failOnChange((await s.up()).summary.resourceChanges, 'create', 'up'),
        expect: 'create',
        runs: 1,
      },
      {
        label: 'preview (no changes)',
        run: async (s) => failOnChange((await s.preview()).changeSummary, 'same', 'preview'),
        expect: 'same',
        runs: STEADY_RUNS,
      },
      {
        label: 'no-op up',
        run: async (s) => failOnChange((await s.up()).summary.resourceChanges, 'same', 'no-op up'),
        expect: 'same',
        runs: STEADY_RUNS,
      },
      {
        label: 'destroy',
        run: async (s) => failOnChange((await s.destroy()).summary.resourceChanges, 'delete', 'destroy'),
        expect: 'delete',
        runs: 1,
      },
    ];
    const rows: BenchRow[] = [];
    const seconds: Record<string, Record<keyof typeof stacks, number[]>> = {};
    let stateBytes: Record<keyof typeof stacks, number> | undefined;
    const ratiosByRound: Record<string, number[]> = {};
    for (const command of commands) {
      const samples: Record<keyof typeof stacks, number[]> = { trivial: [], credentials: [], sameData: [] };
      for (let run = 0; run < command.runs; run++) {
        // Whichever stack goes later runs on a machine the others have warmed: they take turns.
        const kinds = (['trivial', 'credentials', 'sameData'] as const).map((_, i, all) => all[(i + run) % all.length]);
        for (const kind of kinds) {
          if (kind === undefined) continue;
          context.progress(`${BENCHMARK}: ${command.label}, ${count} ${kind}, run ${run + 1} of ${command.runs}`);
          samples[kind].push((await timed(`${kind} ${command.label}`, () => command.run(stacks[kind]))).seconds);
        }
      }
      seconds[command.label] = samples;
      const measured = median(samples.credentials);
      const floor = median(samples.trivial);
      const sameDataSeconds = median(samples.sameData);
      // Each round's own ratio as well: the three stacks of a round ran within seconds of each
      // other, so a slow spell of the machine weighs on all three alike.
      const roundRatios = samples.credentials.map((s, i) => s / (samples.trivial[i] ?? Number.NaN));
      if (command.runs > 1) ratiosByRound[command.label] = roundRatios;
      context.progress(
        `${BENCHMARK}: ${command.label}: ${measured.toFixed(2)} s against ${floor.toFixed(2)} s (same data: ${sameDataSeconds.toFixed(2)} s; each round: ${roundRatios.map((r) => `${r.toFixed(2)}×`).join(' ')})`,
      );
      const of = command.runs > 1 ? `median of ${command.runs}, ` : '';
      const against = (baseline: string, baselineValue: number, meaning: string) =>
        row({
          benchmark: BENCHMARK,
          name: `${command.label}, ${count} credentials (${of}pulumi CLI, moto)`,
          value: measured,
          unit: 's',
          baseline,
          baselineValue,
          meaning,
        });
      rows.push(
        against(
          `the same on ${count} trivial dynamic resources`,
          floor,
          'times the floor of any dynamic provider (goal ≤ 1.3× for preview and no-op up)',
        ),
      );
      if (command.runs > 1) {
        rows.push(
          against(
            `the same on ${count} do-nothing dynamic resources with a credential's properties`,
            sameDataSeconds,
            "times the engine's cost of the properties alone: token-rotator's own share",
          ),
        );
      }
      if (command.label === 'up (create)') {
        const credential = await stateResources(credentials, 'pulumi-nodejs:dynamic/token-rotator:ProviderCredential');
        const same = await stateResources(sameData, 'pulumi-nodejs:dynamic:Resource');
        // The comparison means something only while the stand-in holds what a credential holds.
        if (propertyNames(credential[0]) !== propertyNames(same[0])) {
          throw new Error(
            `the same-data stack no longer mirrors a credential: ${propertyNames(credential[0])} against ${propertyNames(same[0])}`,
          );
        }
        stateBytes = {
          credentials: bytesPerResource(credential),
          sameData: bytesPerResource(same),
          trivial: bytesPerResource(await stateResources(trivial, 'pulumi-nodejs:dynamic:Resource')),
        };
      }
    }
    return { rows, details: { count, seconds, ratiosByRound, stateBytesPerResource: stateBytes } };
  } finally {
    await trivialBackend.dispose();
    await backend.dispose();
    await sameDataBackend.dispose();
    await sirv.close();
  }
}

async function throttledUp(
  context: BenchContext,
  pkg: PackageUnderTest,
  count: number,
  writesPerSecond: number,
): Promise<{ rows: BenchRow[]; details: Record<string, unknown> }> {
  const sirv = await startSirvFake({ clients: clientTable(count) });
  const proxy = await startThrottlingProxy(context.moto.endpoint, { writesPerSecond });
  // Both variables: the provider process must reach Secrets Manager through the proxy only.
  const backend = await createLocalBackend(
    { AWS_ENDPOINT_URL: proxy.endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.endpoint },
    pkg.dir,
  );
  try {
    const stack = await credentialStack(
      backend,
      `scale-throttled-${writesPerSecond}`,
      credentialProgram(pkg.ProviderCredential, count, sirv.tokenUrl, `bench-provider-throttled-${writesPerSecond}/`),
    );
    context.progress(`${BENCHMARK}: up of ${count} credentials, ${writesPerSecond} writes/s`);
    const up = await timed('throttled up', () => stack.up());
    const changes = up.result.summary.resourceChanges ?? {};
    if (up.result.summary.result !== 'succeeded' || (changes.create ?? 0) < count) {
      throw new Error(`throttled up: ${up.result.summary.result}, changes ${JSON.stringify(changes)}`);
    }
    const afterUp: ThrottlingCounts = proxy.counts();
    context.progress(
      `${BENCHMARK}: throttled up: ${up.seconds.toFixed(1)} s, ${afterUp.throttled} throttled of ${afterUp.throttled + afterUp.forwardedWrites} writes, peak ${afterUp.peakWritesPerSecond} writes/s`,
    );
    context.progress(`${BENCHMARK}: destroy of ${count} credentials, throttled alike`);
    // Recorded, not thrown: a destroy that outlasts its retries under a quota far below what it
    // asks for is a finding of this run, and the measurements before it still stand.
    const destroy = await timed('throttled destroy', () =>
      stack.destroy().then(
        (result) => ({ changes: result.summary.resourceChanges, failure: undefined }),
        (error: unknown) => ({ changes: undefined, failure: failureSummary(error) }),
      ),
    );
    if (destroy.result.failure) context.progress(`${BENCHMARK}: throttled destroy failed: ${destroy.result.failure}`);
    const afterDestroy = proxy.counts();
    const floor = afterUp.forwardedWrites / writesPerSecond;
    return {
      rows: [
        row({
          benchmark: BENCHMARK,
          name: `up of ${count} credentials, store throttling past ${writesPerSecond} writes/s: ${afterUp.throttled} throttled calls, peak ${afterUp.peakWritesPerSecond} writes/s, 0 failed resources`,
          value: up.seconds,
          unit: 's',
          baseline: `its ${afterUp.forwardedWrites} writes at ${writesPerSecond}/s`,
          baselineValue: floor,
          meaning: 'times the least time the quota allows',
        }),
      ],
      details: {
        count,
        writesPerSecond,
        upSeconds: up.seconds,
        upChanges: changes,
        afterUp,
        destroySeconds: destroy.seconds,
        destroyChanges: destroy.result.changes,
        destroyFailure: destroy.result.failure,
        destroyCounts: {
          forwardedWrites: afterDestroy.forwardedWrites - afterUp.forwardedWrites,
          throttled: afterDestroy.throttled - afterUp.throttled,
        },
      },
    };
  } finally {
    await backend.dispose();
    await proxy.close();
    await sirv.close();
  }
}

/** Program CPU under Pulumi's mocks, each kind in fresh processes taking turns; the median of {@link PROGRAM_RUNS}. */
async function programUnderMocks(
  context: BenchContext,
  count: number,
): Promise<{ rows: BenchRow[]; details: Record<string, unknown> }> {
  const runs: Record<'credential' | 'trivial', ProgramCpu[]> = { credential: [], trivial: [] };
  for (let i = 0; i < PROGRAM_RUNS; i++) {
    context.progress(`${BENCHMARK}: program CPU under mocks, run ${i + 1} of ${PROGRAM_RUNS}`);
    runs.trivial.push(await programCpu('trivial', count));
    runs.credential.push(await programCpu('credential', count));
  }
  const [credentialRun, trivialRun] = [runs.credential[0], runs.trivial[0]];
  if (!credentialRun || !trivialRun) throw new Error('program CPU: no measurement');
  const credential = { ...credentialRun, cpuSeconds: median(runs.credential.map((r) => r.cpuSeconds)) };
  const trivial = { ...trivialRun, cpuSeconds: median(runs.trivial.map((r) => r.cpuSeconds)) };
  return {
    rows: [
      row({
        benchmark: BENCHMARK,
        name: `program CPU declaring ${count} credentials under Pulumi's mocks (${credential.inputBytes} B of inputs each)`,
        value: credential.cpuSeconds,
        unit: 's',
        baseline: `the same for ${count} trivial dynamic resources (${trivial.inputBytes} B each)`,
        baselineValue: trivial.cpuSeconds,
        meaning: "times the floor: the program's share of preview and up",
      }),
    ],
    details: { count, runs },
  };
}

/**
 * Every measurement; the counts are parameters so a quick run can try fewer. On a small machine
 * the 500-credential `up` writes more slowly than Secrets Manager's quota (moto and the provider
 * are the bottleneck), so a second `up` against a quota this run does reach proves the provider's
 * retries hold when throttled.
 */
export async function providerScale(
  context: BenchContext,
  count = COUNT,
  throttledCount = THROTTLED_COUNT,
  tightCount = TIGHT_COUNT,
): Promise<BenchOutcome> {
  context.progress(`${BENCHMARK}: npm pack of this checkout's build, unpacked under ${PACKED_ROOT}`);
  const pkg = await packedPackage();
  const side = await sideBySide(context, pkg, count);
  const program = await programUnderMocks(context, count);
  const quota = await throttledUp(context, pkg, throttledCount, SECRETS_MANAGER_WRITES_PER_SECOND);
  const tight = await throttledUp(context, pkg, tightCount, TIGHT_WRITES_PER_SECOND);
  return {
    rows: [...side.rows, ...program.rows, ...quota.rows, ...tight.rows],
    details: {
      sideBySide: side.details,
      programUnderMocks: program.details,
      throttled: quota.details,
      tightQuota: tight.details,
    },
  };
}
