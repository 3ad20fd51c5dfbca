/**
 * The program's share of a ProviderCredential stack, without the CLI: the CPU a Pulumi program
 * spends declaring `count` credentials (or trivial dynamic resources) under Pulumi's mocks, until
 * every registration has been answered. Each measurement runs in a fresh process (spawned by
 * {@link programCpu}), so module loading and the one serialization of the provider are outside
 * it and both kinds start alike. Far steadier than the CLI's timings, so it decides between
 * alternatives; the CLI bench (provider-scale.ts) confirms.
 *
 * Run alone: `npx tsx bench/provider-program.ts credential 200` prints one JSON line.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as pulumi from '@pulumi/pulumi';
import { ProviderCredential } from '../provider/resource';

const execFileAsync = promisify(execFile);

/** What one measurement reports. */
export interface ProgramCpu {
  kind: ProgramKind;
  count: number;
  /** CPU (user + system) of the declarations until the last registration was answered. */
  cpuSeconds: number;
  /** Bytes of one resource's registered inputs, as the engine receives them (`__provider` included). */
  inputBytes: number;
}

export type ProgramKind = 'credential' | 'trivial';

/** Runs one measurement in a fresh process (the same Node and loader as this one). */
export async function programCpu(kind: ProgramKind, count: number): Promise<ProgramCpu> {
  const { stdout } = await execFileAsync(process.execPath, [...process.execArgv, __filename, kind, String(count)], {
    timeout: 120_000,
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ProgramCpu;
}

async function measure(kind: ProgramKind, count: number): Promise<ProgramCpu> {
  let inputBytes = 0;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        inputBytes = JSON.stringify(args.inputs).length;
        // What the provider's create returns beside the inputs.
        const arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${args.name}`;
        return { id: `${args.name}-id`, state: { ...args.inputs, tokenSecretArn: arn, clientSecretArn: arn } };
      },
      call: () => ({}),
    },
    'bench',
    'dev',
  );
  pulumi.runtime.setAllConfig({ 'aws:region': 'us-east-1', 'bench:clientSecret': 'bench-program-client-secret' }, [
    'bench:clientSecret',
  ]);
  const trivialProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: { n: number }) {
      return { id: `trivial-${inputs.n}`, outs: inputs };
    },
  };
  class Trivial extends pulumi.dynamic.Resource {
    constructor(name: string, n: number) {
      super(trivialProvider, name, { n });
    }
  }
  const declare = (i: number): pulumi.Resource =>
    kind === 'trivial'
      ? new Trivial(`trivial-${i}`, i)
      : new ProviderCredential(`cred-${i}`, {
          prefix: 'bench-program/',
          recoveryWindowInDays: 0,
          issuer: {
            kind: 'sirv',
            url: 'http://127.0.0.1:9/token',
            allowInsecureHttp: true,
            clientId: `bench-${i}`,
            clientSecret: new pulumi.Config('bench').requireSecret('clientSecret'),
          },
        });
  const urnOf = (r: pulumi.Resource) => new Promise<string>((resolve) => r.urn.apply(resolve));
  // One resource first, outside the measurement: it serializes the shared provider (once per program).
  await urnOf(declare(count));
  const started = process.cpuUsage();
  const resources = Array.from({ length: count }, (_, i) => declare(i));
  await Promise.all(resources.map(urnOf));
  const used = process.cpuUsage(started);
  return { kind, count, cpuSeconds: (used.user + used.system) / 1e6, inputBytes };
}

if (require.main === module) {
  const [kind = 'credential', count = '200'] = process.argv.slice(2);
  if (kind !== 'credential' && kind !== 'trivial') throw new Error(`kind must be credential or trivial, not ${kind}`);
  measure(kind, Number(count)).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
