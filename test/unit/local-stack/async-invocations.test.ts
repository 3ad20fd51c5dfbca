import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AsyncInvocations,
  type AsyncInvocationsOptions,
  asyncInvocations,
  DUPLICATE_DELAYS_MS,
  MAX_ASYNC_PAYLOAD_BYTES,
} from '../../../local-stack/async-invocations';
import { VirtualTime } from '../../../local-stack/virtual-time';
import { TEST_EPOCH } from '../../helpers/clock';
import { seededRandom } from '../../helpers/sdk-faults';

const LIMIT_MS = 24 * 60 * 60_000;
let lambda: AsyncInvocations | undefined;
afterEach(() => lambda?.restore());

const invoke = (client: LambdaClient, event: unknown, type: 'Event' | 'RequestResponse' = 'Event') =>
  client.send(
    new InvokeCommand({
      FunctionName: 'token-rotator',
      InvocationType: type,
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    }),
  );

/** A stand-in in simulated time, recording what was delivered and when (ms after the start). */
function simulated(options: Omit<AsyncInvocationsOptions, 'deliver' | 'sleep' | 'now'> = {}) {
  const vt = new VirtualTime(TEST_EPOCH);
  const received: { event: unknown; atMs: number }[] = [];
  lambda = asyncInvocations({
    ...options,
    sleep: vt.sleep,
    now: vt.now,
    deliver: (event) => {
      received.push({ event, atMs: vt.now().getTime() - TEST_EPOCH.getTime() });
      return 'handled';
    },
  });
  return { vt, received, lambda };
}

describe('asyncInvocations', () => {
  it('answers an Event invoke with 202 at once and delivers the decoded payload once, after the invoke returned', async () => {
    // Prepare
    const { vt, received, lambda } = simulated();

    // Act
    const answer = await invoke(lambda.client, { action: 'refresh-batch', credentials: ['a'] });
    const before = received.length;
    await vt.run(lambda.settle(), LIMIT_MS);

    // Assess
    expect(answer.StatusCode).toBe(202);
    expect(before).toBe(0);
    expect(received).toEqual([{ event: { action: 'refresh-batch', credentials: ['a'] }, atMs: 0 }]);
    expect(lambda.deliveries).toEqual([
      { invocation: 0, copy: 1, delayMs: 0, deliveredAt: TEST_EPOCH, outcome: { ok: true, value: 'handled' } },
    ]);
    expect(lambda.invocations).toEqual([
      { functionName: 'token-rotator', event: { action: 'refresh-batch', credentials: ['a'] } },
    ]);
  });

  it("delivers each event twice under 'twice', 5 s and 12 s after the invoke, each copy its own object", async () => {
    // Prepare
    const { vt, received, lambda } = simulated({ policy: { kind: 'twice' } });

    // Act
    await invoke(lambda.client, { n: 1 });
    await vt.run(lambda.settle(), LIMIT_MS);

    // Assess
    expect(received.map((r) => r.atMs)).toEqual([...DUPLICATE_DELAYS_MS]);
    expect(received.map((r) => r.event)).toEqual([{ n: 1 }, { n: 1 }]);
    expect(received[0]?.event).not.toBe(received[1]?.event);
    expect(lambda.deliveries.map((d) => d.copy)).toEqual([1, 2]);
  });

  it("delivers late under 'late', and settle() waits for it", async () => {
    // Prepare
    const { vt, received, lambda } = simulated({ policy: { kind: 'late', delayMs: 90_000 } });

    // Act
    await invoke(lambda.client, { n: 1 });
    expect(lambda.pending).toBe(1);
    await vt.run(lambda.settle(), LIMIT_MS);

    // Assess
    expect(received).toEqual([{ event: { n: 1 }, atMs: 90_000 }]);
    expect(lambda.pending).toBe(0);
  });

  it("mixes duplicates and late copies by a seeded draw under 'mixed', the same for the same seed", async () => {
    const run = async (seed: number) => {
      const { vt, lambda } = simulated({
        policy: { kind: 'mixed', duplicateChance: 0.3, lateChance: 0.5, maxDelayMs: 60_000 },
        random: seededRandom(seed),
      });
      for (let n = 0; n < 200; n++) await invoke(lambda.client, { n });
      await vt.run(lambda.settle(), LIMIT_MS);
      const schedule = lambda.deliveries.map((d) => [d.invocation, d.copy, d.delayMs]);
      lambda.restore();
      return schedule;
    };

    // Act
    const first = await run(42);
    const again = await run(42);
    const other = await run(43);

    // Assess: about 30 % duplicated, about half the copies late, none later than the maximum.
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    const duplicates = first.filter(([, copy]) => copy === 2).length;
    const late = first.filter(([, , delay]) => (delay ?? 0) > 0).length;
    expect(duplicates).toBeGreaterThan(30);
    expect(duplicates).toBeLessThan(90);
    expect(late / first.length).toBeGreaterThan(0.3);
    expect(late / first.length).toBeLessThan(0.7);
    expect(Math.max(...first.map(([, , delay]) => delay ?? 0))).toBeLessThan(60_000);
    for (let n = 0; n < 200; n++) expect(first.filter(([i]) => i === n).length).toBeGreaterThanOrEqual(1);
  });

  it('waits in settle() for events that deliveries invoke in turn, and records errors without throwing', async () => {
    // Prepare: each delivery of depth < 3 invokes the next depth; depth 3 fails.
    const vt = new VirtualTime(TEST_EPOCH);
    const seen: number[] = [];
    const chain: AsyncInvocations = asyncInvocations({
      sleep: vt.sleep,
      policy: { kind: 'late', delayMs: 1000 },
      deliver: async (event) => {
        const depth = (event as { depth: number }).depth;
        seen.push(depth);
        if (depth === 3) throw new Error('depth 3 failed');
        await invoke(chain.client, { depth: depth + 1 });
        return depth;
      },
    });
    lambda = chain;

    // Act
    await invoke(chain.client, { depth: 0 });
    await vt.run(chain.settle(), LIMIT_MS);

    // Assess
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(vt.now().getTime() - TEST_EPOCH.getTime()).toBe(4000);
    expect(chain.deliveries.map((d) => d.outcome?.ok)).toEqual([true, true, true, false]);
    const last = chain.deliveries[3]?.outcome;
    expect(last?.ok === false && (last.error as Error).message).toBe('depth 3 failed');
  });

  it('bounds a delivery loop: invokes past maxDeliveries are refused and settle() says so', async () => {
    // Prepare: every delivery invokes again.
    const loop: AsyncInvocations = asyncInvocations({
      maxDeliveries: 20,
      deliver: async (event) => invoke(loop.client, event),
    });
    lambda = loop;

    // Act
    await invoke(loop.client, { again: true });

    // Assess
    await expect(loop.settle()).rejects.toThrow(/past 20 deliveries/);
    expect(loop.deliveries).toHaveLength(20);
  });

  it('delivers with real timers when given no scheduler', async () => {
    // Prepare
    const received: unknown[] = [];
    lambda = asyncInvocations({ policy: { kind: 'late', delayMs: 20 }, deliver: (e) => received.push(e) });

    // Act
    await invoke(lambda.client, { real: true });
    const before = received.length;
    await lambda.settle();

    // Assess
    expect(before).toBe(0);
    expect(received).toEqual([{ real: true }]);
  });

  it('refuses what Lambda refuses, and what is no self-invocation', async () => {
    // Prepare
    lambda = asyncInvocations({ deliver: () => undefined });
    const { client } = lambda;

    // Act + Assess
    await expect(invoke(client, { a: 1 }, 'RequestResponse')).rejects.toThrow(/InvocationType 'Event'/);
    await expect(invoke(client, { big: 'x'.repeat(MAX_ASYNC_PAYLOAD_BYTES) })).rejects.toMatchObject({
      name: 'RequestTooLargeException',
    });
    await expect(
      client.send(new InvokeCommand({ FunctionName: 'f', InvocationType: 'Event', Payload: '{not json' })),
    ).rejects.toMatchObject({ name: 'InvalidRequestContentException' });
    expect(lambda.invocations).toEqual([]);
  });

  it('refuses a policy it cannot follow', () => {
    const deliver = () => undefined;
    expect(() => asyncInvocations({ deliver, policy: { kind: 'late', delayMs: -1 } })).toThrow(/late.delayMs/);
    expect(() => asyncInvocations({ deliver, policy: { kind: 'late', delayMs: 7 * 60 * 60_000 } })).toThrow(
      /maximum age/,
    );
    expect(() =>
      asyncInvocations({ deliver, policy: { kind: 'mixed', duplicateChance: 0.5, lateChance: 0, maxDelayMs: 0 } }),
    ).toThrow(/random\(\)/);
    expect(() =>
      asyncInvocations({
        deliver,
        random: Math.random,
        policy: { kind: 'mixed', duplicateChance: 2, lateChance: 0, maxDelayMs: 0 },
      }),
    ).toThrow(/duplicateChance/);
  });
});
