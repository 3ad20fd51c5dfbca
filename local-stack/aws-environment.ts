/**
 * The one AWS environment of the local stack: what points the SDK (in this process or in a child
 * such as the Pulumi provider) at moto, and which settings of a developer's shell must not leak in.
 * Tests, the demo and the benchmarks all use it, so product code never needs a special path.
 */

/** The region every local-stack client and resource lives in. */
export const MOTO_REGION = 'us-east-1';

/** moto's throwaway credentials (moto accepts any). */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

/** The configuration of an SDK client that talks to moto at `endpoint` without reading the environment. */
export function motoClientConfig(endpoint: string): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return { endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } };
}

/** The AWS environment a process needs to talk to moto at `endpoint` with throwaway credentials. */
export function motoEnvironment(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    // Never wait for an instance metadata service that is not there.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * Settings from the developer's shell that would send the SDK anywhere but moto, each with the
 * value that neutralises it in an environment that cannot simply drop it (a child process whose
 * variables are merged over ours).
 */
function neutralShellSettings(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_ENDPOINT_URL_LAMBDA: endpoint,
    // The SDK accepts only "true" or "false" here.
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false',
    // Empty: the SDK takes the test credentials from the environment.
    AWS_PROFILE: '',
    AWS_SESSION_TOKEN: '',
  };
}

/** The names of the shell settings {@link pointProcessAtMoto} removes. */
export const SHELL_AWS_SETTINGS: readonly string[] = Object.keys(neutralShellSettings(''));

/**
 * Points `env` (this process's environment by default) at moto: removes the shell settings that
 * would override it (and `alsoClear`), then sets {@link motoEnvironment}. Processes started
 * afterwards inherit it.
 *
 * @returns a function that puts back every variable as it was.
 */
export function pointProcessAtMoto(
  endpoint: string,
  options: { env?: NodeJS.ProcessEnv; alsoClear?: readonly string[]; extra?: Record<string, string> } = {},
): () => void {
  const env = options.env ?? process.env;
  const wanted = { ...motoEnvironment(endpoint), ...options.extra };
  const cleared = [...SHELL_AWS_SETTINGS, ...(options.alsoClear ?? [])];
  const touched = [...new Set([...cleared, ...Object.keys(wanted)])];
  const saved = Object.fromEntries(touched.map((key) => [key, env[key]]));
  for (const name of cleared) delete env[name];
  Object.assign(env, wanted);
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
  };
}

/**
 * The variables to hand a child process whose environment is ours plus these (the Pulumi
 * Automation API's `envVars`): {@link motoEnvironment} and every shell setting neutralised.
 */
export function motoChildEnvironment(endpoint: string): Record<string, string> {
  return { ...motoEnvironment(endpoint), ...neutralShellSettings(endpoint) };
}
