/**
 * The rotator's self-invocations (`InvokeCommand` with `InvocationType: 'Event'`) delivered as
 * Lambda documents them: "For asynchronous invocation, Lambda adds events to a queue before sending
 * them to your function. [...] Occasionally, your function may receive the same event multiple
 * times, even if no error occurs." An event can also wait in that queue, up to its maximum age
 * (6 hours by default), so it may arrive late. This stand-in answers the invoke at once, as Lambda
 * does (202), and hands the decoded payload to `deliver` once, twice or late, by a policy.
 */
import {
  InvalidRequestContentException,
  InvokeCommand,
  type InvokeCommandInput,
  LambdaClient,
  RequestTooLargeException,
} from '@aws-sdk/client-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

/** The largest asynchronous payload accepted here: 256 KB, under Lambda's own limit. */
export const MAX_ASYNC_PAYLOAD_BYTES = 256 * 1024;
/** The longest an event may wait before delivery: Lambda's default maximum event age, 6 hours. */
export const MAX_EVENT_AGE_MS = 6 * 60 * 60_000;
/** Delivery times of a duplicated event by default: 5 s and 12 s after the invoke. */
export const DUPLICATE_DELAYS_MS = [5_000, 12_000] as const;

/**
 * How each event is delivered: `once` (at once), `twice` (a duplicate; at `delaysMs`, by default
 * {@link DUPLICATE_DELAYS_MS}), `late` (once, `delayMs` after the invoke), or `mixed` (per event,
 * a duplicate with `duplicateChance`, and each copy late by up to `maxDelayMs` with `lateChance`,
 * drawn with the stand-in's `random`).
 */
export type DeliveryPolicy =
  | { kind: 'once' }
  | { kind: 'twice'; delaysMs?: readonly [number, number] }
  | { kind: 'late'; delayMs: number }
  | { kind: 'mixed'; duplicateChance: number; lateChance: number; maxDelayMs: number };

/** Options of {@link asyncInvocations}. */
export interface AsyncInvocationsOptions {
  /** Runs one delivered event (a handler, a refresh): its result or error is recorded, never thrown here. */
  deliver: (event: unknown) => unknown;
  /** `{ kind: 'once' }` when absent. */
  policy?: DeliveryPolicy;
  /** Draws for the `mixed` policy, in [0, 1); seed it so a failing run replays. */
  random?: () => number;
  /**
   * Waits `ms` before a delivery: real timers when absent; a simulated clock's sleep (for instance
   * local-stack/virtual-time.ts's `VirtualTime.sleep`) to drive deliveries in simulated time.
   */
  sleep?: (ms: number) => Promise<void>;
  /** Stamps each delivery; real time when absent. */
  now?: () => Date;
  /** More deliveries than this in all is a runaway loop: refused, and `settle()` throws. 10,000 when absent. */
  maxDeliveries?: number;
}

/** One delivery of one event. */
export interface Delivery {
  /** Which invoke it came from (0-based, in the order of the invokes). */
  invocation: number;
  /** 1 for the first copy of an event, 2 for its duplicate. */
  copy: 1 | 2;
  /** How long after the invoke it was scheduled. */
  delayMs: number;
  /** When it was handed to `deliver`, by `now`; absent while pending. */
  deliveredAt?: Date;
  /** What `deliver` returned or threw; absent while pending. */
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

/** The stand-in and what it saw. */
export interface AsyncInvocations {
  /** Give this to the code under test as its Lambda client. */
  client: LambdaClient;
  mock: AwsClientStub<LambdaClient>;
  /** Every accepted invoke: the function named and the decoded event, in order. */
  invocations: { functionName: string; event: unknown }[];
  /** Every delivery scheduled, in the order scheduled. */
  deliveries: Delivery[];
  /** Deliveries scheduled but not finished. */
  readonly pending: number;
  /**
   * Waits until every delivery has finished, including those of events that deliveries invoked
   * in turn. Bounded: throws once more than `maxDeliveries` were asked for (a delivery loop).
   */
  settle(): Promise<void>;
  restore(): void;
}

const DEFAULT_MAX_DELIVERIES = 10_000;

function checkDelay(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_EVENT_AGE_MS) {
    throw new RangeError(`${name} must be 0 to ${MAX_EVENT_AGE_MS} ms (an event's maximum age), got ${ms}`);
  }
  return ms;
}

function checkChance(name: string, chance: number): void {
  if (!(chance >= 0 && chance <= 1)) throw new RangeError(`${name} must be within [0, 1], got ${chance}`);
}

/** The delays of one event's copies under `policy`. */
function delaysFor(policy: DeliveryPolicy, random: (() => number) | undefined): number[] {
  switch (policy.kind) {
    case 'once':
      return [0];
    case 'twice':
      return [...(policy.delaysMs ?? DUPLICATE_DELAYS_MS)];
    case 'late':
      return [policy.delayMs];
    case 'mixed': {
      const draw = random as () => number;
      const copies = draw() < policy.duplicateChance ? 2 : 1;
      return Array.from({ length: copies }, () =>
        draw() < policy.lateChance ? Math.floor(draw() * policy.maxDelayMs) : 0,
      );
    }
  }
}

function checkPolicy(policy: DeliveryPolicy, random: (() => number) | undefined): void {
  if (policy.kind === 'twice') for (const ms of policy.delaysMs ?? []) checkDelay('twice.delaysMs', ms);
  if (policy.kind === 'late') checkDelay('late.delayMs', policy.delayMs);
  if (policy.kind === 'mixed') {
    checkChance('mixed.duplicateChance', policy.duplicateChance);
    checkChance('mixed.lateChance', policy.lateChance);
    checkDelay('mixed.maxDelayMs', policy.maxDelayMs);
    if (!random)
      throw new TypeError("the 'mixed' delivery policy needs a random() (seed it, so a failing run replays)");
  }
}

function decode(payload: InvokeCommandInput['Payload']): unknown {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : (payload ?? new Uint8Array());
  if (!(bytes instanceof Uint8Array)) throw new TypeError('Payload must be a string or a Uint8Array');
  if (bytes.byteLength > MAX_ASYNC_PAYLOAD_BYTES) {
    throw new RequestTooLargeException({
      message: `Request must be smaller than ${MAX_ASYNC_PAYLOAD_BYTES} bytes for the InvokeAsync operation`,
      $metadata: { httpStatusCode: 413 },
    });
  }
  try {
    return bytes.byteLength === 0 ? {} : JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InvalidRequestContentException({
      message: 'Could not parse request body into json',
      $metadata: { httpStatusCode: 400 },
    });
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A Lambda client whose asynchronous invokes are delivered to `deliver` by a policy: the one
 * shared stand-in for the rotator's fan-out in unit suites, the demo and the benchmarks. Only this
 * client is stubbed (other LambdaClients are untouched); an invoke of another InvocationType is refused.
 *
 * @example
 * ```ts
 * const lambda = asyncInvocations({
 *   deliver: (event) => handler(event, context),
 *   policy: { kind: 'twice' },
 *   sleep: vt.sleep,
 * });
 * await handler({ action: 'sweep' }, context); // with `lambda: lambda.client`
 * await lambda.settle();                       // every batch handled, twice
 * ```
 */
export function asyncInvocations(options: AsyncInvocationsOptions): AsyncInvocations {
  const policy = options.policy ?? { kind: 'once' };
  checkPolicy(policy, options.random);
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? (() => new Date());
  const maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
  const client = new LambdaClient({ region: 'us-east-1' });
  const mock = mockClient(client);
  const invocations: AsyncInvocations['invocations'] = [];
  const deliveries: Delivery[] = [];
  const pending = new Set<Promise<void>>();
  let overflow = false;

  const schedule = (delivery: Delivery, event: unknown) => {
    const run = sleep(delivery.delayMs)
      .then(async () => {
        delivery.deliveredAt = now();
        // Each copy is parsed on its own by the container that takes it.
        delivery.outcome = { ok: true, value: await options.deliver(structuredClone(event)) };
      })
      .catch((error: unknown) => {
        delivery.outcome = { ok: false, error };
      })
      .finally(() => pending.delete(run));
    pending.add(run);
  };

  mock.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => {
    if (input.InvocationType !== 'Event') {
      throw new Error(
        `asyncInvocations stands in for asynchronous invokes only (InvocationType 'Event'), got ${input.InvocationType ?? 'RequestResponse'}`,
      );
    }
    const event = decode(input.Payload);
    const delays = delaysFor(policy, options.random);
    if (deliveries.length + delays.length > maxDeliveries) {
      overflow = true;
      throw new Error(`asyncInvocations: more than ${maxDeliveries} deliveries; do deliveries invoke without end?`);
    }
    const invocation = invocations.length;
    invocations.push({ functionName: input.FunctionName ?? '', event });
    delays.forEach((delayMs, i) => {
      const delivery: Delivery = { invocation, copy: i === 0 ? 1 : 2, delayMs };
      deliveries.push(delivery);
      schedule(delivery, event);
    });
    return { StatusCode: 202 };
  });

  return {
    client,
    mock,
    invocations,
    deliveries,
    get pending() {
      return pending.size;
    },
    async settle() {
      // Each round waits for what is pending; a delivery that invokes adds to the next round.
      // The delivery cap bounds the rounds.
      while (pending.size > 0) await Promise.all([...pending]);
      if (overflow) throw new Error(`asyncInvocations: refused invokes past ${maxDeliveries} deliveries`);
    },
    restore() {
      mock.restore();
    },
  };
}
