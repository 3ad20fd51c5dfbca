import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SweepDeps } from '../../../lambda/sweep';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import { at, NOW, PREFIX, sirvDocument, sirvIssuer, sweepDefaults, tokenRecord } from '../../helpers/fleet';

// The issuer modules are loaded on a container's first refresh (lambda/refresh.ts). The mock
// sees each load of core/issue and can hold it, as a slow cold load would be.
const loading = {
  loads: 0,
  events: [] as string[],
  hold: undefined as Promise<void> | undefined,
  /** Loads that fail, from the first. */
  failing: 0,
};

let sm: MemorySecrets;

beforeEach(() => {
  sm = memorySecrets();
  loading.loads = 0;
  loading.events = [];
  loading.hold = undefined;
  loading.failing = 0;
  // A fresh module registry per test, the mock registered again: each starts as a cold container.
  vi.resetModules();
  vi.doMock('../../../core/issue', async (importOriginal) => {
    loading.loads += 1;
    loading.events.push('load started');
    await loading.hold;
    if (loading.failing > 0) {
      loading.failing -= 1;
      throw new Error('module load failed');
    }
    loading.events.push('load finished');
    return importOriginal();
  });
});

afterEach(() => {
  sm.restore();
  vi.doUnmock('../../../core/issue');
});

function fleet(count: number, refreshAfter: Date): void {
  for (let i = 0; i < count; i++) {
    const name = `c${String(i).padStart(2, '0')}`;
    sm.addCredential({
      name,
      prefix: PREFIX,
      clientDocument: sirvDocument(name),
      token: tokenRecord(name, refreshAfter),
    });
  }
}

/** The store client, noting in `loading.events` when a client document read is sent. */
function observedStore(onRead: () => void = () => undefined): SecretsManagerClient {
  // Still a SecretsManagerClient (the SDK's paginator checks): the double, with `send` observed.
  const observed = Object.create(sm.client) as SecretsManagerClient;
  const send = sm.client.send.bind(sm.client) as (command: unknown) => Promise<unknown>;
  observed.send = ((command: unknown) => {
    if (command instanceof GetSecretValueCommand || command instanceof BatchGetSecretValueCommand) {
      loading.events.push('client document read sent');
      onRead();
    }
    return send(command);
  }) as SecretsManagerClient['send'];
  return observed;
}

async function coldSweep(overrides: Partial<SweepDeps> = {}) {
  const { sweep } = await import('../../../lambda/sweep.js');
  return sweep({
    ...sweepDefaults(observedStore()),
    ...overrides,
  });
}

describe('loading the issuer modules', () => {
  it('is left to the first refresh: an idle sweep never loads them', async () => {
    // Prepare
    fleet(5, at(3600));
    const issuer = sirvIssuer();
    // Act
    const summary = await coldSweep({ fetch: issuer.fetch });
    // Assess
    expect(summary).toMatchObject({ listed: 5, due: 0 });
    expect(loading.loads).toBe(0);
  });

  it('happens once per container, however many credentials are due', async () => {
    // Prepare
    fleet(12, at(-60));
    const issuer = sirvIssuer();
    // Act
    const first = await coldSweep({ fetch: issuer.fetch });
    // Assess
    expect(first).toMatchObject({ due: 12, refreshed: 12, failed: 0 });
    expect(loading.loads).toBe(1);
  });

  it('runs while the first client document read is in flight, not before it is sent', async () => {
    // Prepare: the load is held until a client document read has been sent, or for a few
    // event-loop turns (then a refresh that waited for the load before reading shows up as
    // "load finished" first).
    fleet(3, at(-60));
    let release: () => void = () => undefined;
    const readSent = new Promise<void>((resolve) => {
      release = resolve;
    });
    const turns = (async () => {
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    })();
    loading.hold = Promise.race([readSent, turns]);
    const issuer = sirvIssuer();
    // Act
    const summary = await coldSweep({ fetch: issuer.fetch, secretsManager: observedStore(release) });
    // Assess
    expect(summary).toMatchObject({ due: 3, refreshed: 3, failed: 0 });
    expect(loading.loads).toBe(1);
    // The sweep sent the one batch read of the three cold client documents without waiting for
    // the load, and no refresh read alone.
    expect(loading.events[0]).toBe('client document read sent');
    expect(loading.events.filter((e) => e === 'client document read sent')).toHaveLength(1);
    expect(loading.events.indexOf('load finished')).toBeGreaterThan(0);
    expect(sm.mock.commandCalls(BatchGetSecretValueCommand)[0]?.args[0].input.SecretIdList).toHaveLength(3);
    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(issuer.calls).toHaveLength(3);
  });

  /** A cold sweep of three due sirv credentials, with `onLoad` called when the module `path` loads (a fresh registry per test). */
  async function coldSweepObserving(path: string, onLoad: () => void) {
    vi.doMock(path, async (importOriginal) => {
      onLoad();
      return importOriginal();
    });
    try {
      fleet(3, at(-60));
      const summary = await coldSweep({ fetch: sirvIssuer().fetch });
      expect(summary).toMatchObject({ due: 3, refreshed: 3, failed: 0 });
    } finally {
      vi.doUnmock(path);
    }
  }

  it('sends the batch read of the cold client documents before loading the refresh module', async () => {
    // Act: the refresh module's load is noted as core/issue's is.
    await coldSweepObserving('../../../lambda/refresh', () => loading.events.push('refresh module loaded'));
    // Assess: the read is in flight while the module loads, not sent after it.
    expect(loading.events.slice(0, 2)).toEqual(['client document read sent', 'refresh module loaded']);
  });

  it('leaves out the signed-jwt kind (its key tools) while no credential of that kind is refreshed', async () => {
    // Act
    let signedJwtLoads = 0;
    await coldSweepObserving('../../../core/issuers/signed-jwt', () => {
      signedJwtLoads += 1;
    });
    // Assess
    expect(loading.loads).toBe(1);
    expect(signedJwtLoads).toBe(0);
  });

  it('fails only the refreshes that needed a load that failed, and loads again on the next sweep', async () => {
    // Prepare
    fleet(2, at(-60));
    loading.failing = 1;
    const issuer = sirvIssuer();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Act
      const failed = await coldSweep({ fetch: issuer.fetch });
      // A minute later: past the first failure's back-off (30 s with random 0).
      const retried = await coldSweep({ fetch: issuer.fetch, now: () => new Date(NOW.getTime() + 60_000) });
      await new Promise((resolve) => setImmediate(resolve));
      // Assess
      expect(failed).toMatchObject({ due: 2, refreshed: 0, failed: 2 });
      expect(retried).toMatchObject({ due: 2, refreshed: 2, failed: 0 });
      expect(loading.loads).toBe(2);
      expect(unhandled).toEqual([]);
    } finally {
      process.removeListener('unhandledRejection', onUnhandled);
    }
  });
});
