/**
 * The weak-guarantee stack in one call: Secrets Manager with lagging listings and the version cap,
 * and self-invocations delivered at least once, as AWS documents them (docs/local-stack.md).
 */

import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type AsyncInvocations,
  type AsyncInvocationsOptions,
  asyncInvocations,
  type DeliveryPolicy,
} from './async-invocations';
import { type LagChoice, LIST_SECRETS_LAG_MS } from './eventual-consistency';
import { SECRET_VERSION_QUOTA } from './version-cap';
import { type WeakenedSecretsManager, type WeakSecretsOptions, weakenSecretsManager } from './weak-secrets-manager';

/** Options of {@link weakAws}; each weakness defaults to what AWS documents. */
export interface WeakAwsOptions {
  /** The stack's clock: listing ages, version ages and delivery stamps. */
  now: () => Date;
  /** Seeded draws for `lag: 'random'` and the `mixed` delivery policy. */
  random?: () => number;
  /** How old a ListSecrets answer may be; {@link LIST_SECRETS_LAG_MS} (5 minutes) when absent, 0 for none. */
  listLagMs?: number;
  /** How old a DescribeSecret answer may be; 0 (fresh, AWS's pointer for recent information) when absent. */
  describeLagMs?: number;
  /** Which state within the lag answers; `'oldest'` (the worst case) when absent. */
  lag?: LagChoice;
  /** Versions younger than 24 h per secret; {@link SECRET_VERSION_QUOTA} (100) when absent. */
  versionCap?: number;
  /** How self-invocations arrive; `{ kind: 'once' }` when absent. */
  delivery?: DeliveryPolicy;
  /** Waits before late deliveries; real timers when absent (pass a simulated clock's sleep). */
  sleep?: (ms: number) => Promise<void>;
}

/** The weak stack's pieces, to apply to the clients of a suite, the demo or a benchmark. */
export interface WeakAws {
  /**
   * Options for the in-memory double (`memorySecrets({ ...weak.secrets })`) or for
   * {@link weakenSecretsManager}: the same weaknesses either way.
   */
  secrets: WeakSecretsOptions;
  /** Adds the lag and the cap to a real client (moto-backed); `remove()` takes them off. */
  weaken(client: SecretsManagerClient): WeakenedSecretsManager;
  /** A Lambda client whose asynchronous self-invocations reach `deliver` by the delivery policy. */
  selfInvocations(deliver: AsyncInvocationsOptions['deliver']): AsyncInvocations;
}

/**
 * Composes the weak stack from one set of options.
 *
 * @example
 * ```ts
 * const vt = new VirtualTime(START);
 * const weak = weakAws({ now: vt.now, sleep: vt.sleep, delivery: { kind: 'twice' } });
 * const sm = memorySecrets({ ...weak.secrets });           // or weak.weaken(motoClient)
 * const lambda = weak.selfInvocations((event) => handler(event, context));
 * const handler = createHandler({ secretsManager: sm.client, lambda: lambda.client, now: vt.now, … });
 * await vt.run((async () => { await handler({ action: 'sweep' }, context); await lambda.settle(); })(), LIMIT_MS);
 * ```
 */
export function weakAws(options: WeakAwsOptions): WeakAws {
  const lag = { choice: options.lag ?? 'oldest', random: options.random };
  const listLagMs = options.listLagMs ?? LIST_SECRETS_LAG_MS;
  const describeLagMs = options.describeLagMs ?? 0;
  const secrets: WeakSecretsOptions = {
    now: options.now,
    ...(listLagMs > 0 ? { listLag: { ...lag, lagMs: listLagMs } } : {}),
    ...(describeLagMs > 0 ? { describeLag: { ...lag, lagMs: describeLagMs } } : {}),
    versionCap: options.versionCap ?? SECRET_VERSION_QUOTA,
  };
  return {
    secrets,
    weaken: (client) => weakenSecretsManager(client, secrets),
    selfInvocations: (deliver) =>
      asyncInvocations({
        deliver,
        policy: options.delivery ?? { kind: 'once' },
        random: options.random,
        now: options.now,
        ...(options.sleep ? { sleep: options.sleep } : {}),
      }),
  };
}
