/**
 * vitest globalSetup of the integration, e2e and reliability projects: one moto server of the
 * local stack for the whole run, handed to tests through the standard AWS environment (so product
 * code needs no special path) and through `inject('motoEndpoint')`.
 */
import type { TestProject } from 'vitest/node';
import { pointProcessAtMoto } from '../../local-stack/aws-environment';
import { type MotoServer, startMoto } from '../../local-stack/moto';

interface Shared {
  server: Promise<MotoServer>;
  users: number;
}

// The projects load this file in the same runner process; they share one server so that the
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
  // Workers are started after globalSetup and inherit this environment.
  pointProcessAtMoto(moto.endpoint);
  project.provide('motoEndpoint', moto.endpoint);

  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete registry[SHARED];
    await moto.stop();
  };
}
