/**
 * The seams of the CLI ({@link CliDeps}: streams, environment, clock, AWS clients, sleep) and the
 * per-run context a command works with once the global options are resolved.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DEFAULT_PREFIX, type SecretStore, secretNames } from '../core/store';
import { colourAllowed, type OutputStream, type Palette, palette } from './terminal';

/** Configuration for an AWS client built by the CLI: the region, when `--region` gave one. */
export interface AwsClientConfig {
  region?: string | undefined;
}

/**
 * Everything the CLI touches outside itself. `main.ts` passes the real process; tests pass
 * buffers, a frozen clock and mocked clients. Every field but the streams has a default.
 */
export interface CliDeps {
  stdout: OutputStream;
  stderr: OutputStream;
  /** For `TOKEN_ROTATOR_PREFIX` and `NO_COLOR`. The AWS SDK reads its own configuration from `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
  now?: (() => Date) | undefined;
  /** Jitter seam of the refresh policy: a number in [0, 1). */
  random?: (() => number) | undefined;
  /** The `fetch` issuers use for in-process refreshes. */
  fetch?: typeof fetch | undefined;
  /** Builds the Secrets Manager client; a client from the standard AWS configuration by default. */
  secretsManager?: ((config: AwsClientConfig) => SecretsManagerClient) | undefined;
  /** Builds the Lambda client for `refresh --function`; from the standard AWS configuration by default. */
  lambda?: ((config: AwsClientConfig) => LambdaClient) | undefined;
  /** Waits `ms` between `status --watch` redraws, resolving early when `signal` aborts. */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Aborted on Ctrl-C: `status --watch` stops, `refresh` starts no new work. */
  signal?: AbortSignal | undefined;
  /** Test seam: the most redraws `status --watch` makes before it stops by itself. */
  watchMaxIterations?: number | undefined;
}

/** The global options, as commander parsed them. */
export interface GlobalOptions {
  prefix?: string | undefined;
  region?: string | undefined;
  debug?: boolean | undefined;
}

/** What a command runs with: resolved options, streams with their palettes, lazily built clients. */
export interface CliContext {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Colours for stdout and stderr (identity when that stream may not be coloured). */
  colour: Palette;
  errColour: Palette;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  random: () => number;
  fetch: typeof fetch | undefined;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal: AbortSignal | undefined;
  watchMaxIterations: number;
  prefix: string;
  region: string | undefined;
  debug: boolean;
  /** The Secrets Manager store under the resolved prefix (client built on first use). */
  store(): SecretStore & { prefix: string };
  lambda(): LambdaClient;
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  await wait(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * Resolves the global options against the environment: `--prefix`, else `TOKEN_ROTATOR_PREFIX`,
 * else {@link DEFAULT_PREFIX}.
 *
 * @throws {InvalidConfigurationError} when the prefix is not a valid secret name prefix.
 */
export function createContext(deps: CliDeps, options: GlobalOptions): CliContext {
  const env = deps.env ?? process.env;
  const prefix = options.prefix ?? (env.TOKEN_ROTATOR_PREFIX || undefined) ?? DEFAULT_PREFIX;
  // Validates the prefix with the store's own rule (the name is a placeholder).
  secretNames('placeholder', prefix);
  const region = options.region;
  let store: (SecretStore & { prefix: string }) | undefined;
  let lambda: LambdaClient | undefined;
  return {
    stdout: deps.stdout,
    stderr: deps.stderr,
    colour: palette(colourAllowed(deps.stdout, env)),
    errColour: palette(colourAllowed(deps.stderr, env)),
    env,
    now: deps.now ?? (() => new Date()),
    random: deps.random ?? Math.random,
    fetch: deps.fetch,
    sleep: deps.sleep ?? abortableSleep,
    signal: deps.signal,
    watchMaxIterations: deps.watchMaxIterations ?? Number.POSITIVE_INFINITY,
    prefix,
    region,
    debug: options.debug === true,
    store() {
      store ??= { client: (deps.secretsManager ?? defaultSecretsManager)({ region }), prefix };
      return store;
    },
    lambda() {
      lambda ??= (deps.lambda ?? defaultLambda)({ region });
      return lambda;
    },
  };
}

// Built on first use only, so that help and usage errors never touch AWS configuration.
function defaultSecretsManager(config: AwsClientConfig): SecretsManagerClient {
  const { SecretsManagerClient: Client } =
    require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
  return new Client(config.region ? { region: config.region } : {});
}

function defaultLambda(config: AwsClientConfig): LambdaClient {
  const { LambdaClient: Client } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  return new Client(config.region ? { region: config.region } : {});
}
