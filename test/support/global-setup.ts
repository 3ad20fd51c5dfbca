/**
 * vitest globalSetup of the integration and e2e projects: one moto server for the whole run,
 * handed to tests through the standard AWS environment (so product code needs no special path)
 * and through `inject('motoEndpoint')`.
 */
import type { TestProject } from 'vitest/node';
import { type MotoServer, startMoto } from './moto';

/** The AWS environment every test process sees: moto's endpoint and throwaway credentials. */
export function motoEnvironment(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    // Never wait for an instance metadata service that is not there.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

// Settings from the developer's shell that would send the SDK anywhere but moto.
const OVERRIDING_VARIABLES = [
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_LAMBDA',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  'AWS_PROFILE',
  'AWS_SESSION_TOKEN',
];

interface Shared {
  server: Promise<MotoServer>;
  users: number;
}

// Both projects load this file in the same runner process; they share one server so that the
// environment (one process-wide AWS_ENDPOINT_URL) points at a server that lives until the last
// project is done.
const SHARED = Symbol.for('token-rotator.moto');
const registry = globalThis as typeof globalThis & { [SHARED]?: Shared };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  registry[SHARED] ??= { server: startMoto(), users: 0 };
  const shared = registry[SHARED];
  shared.users += 1;
  let moto: MotoServer;
  try {
    moto = await shared.server;
  } catch (e) {
    shared.users -= 1;
    if (shared.users === 0) delete registry[SHARED];
    throw e;
  }
  for (const name of OVERRIDING_VARIABLES) delete process.env[name];
  // Workers are started after globalSetup and inherit this environment.
  Object.assign(process.env, motoEnvironment(moto.endpoint));
  project.provide('motoEndpoint', moto.endpoint);

  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete registry[SHARED];
    await moto.stop();
  };
}
