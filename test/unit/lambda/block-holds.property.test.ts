/**
 * Properties of blocked credentials over any sequence of sweeps (warm container or cold), rotations
 * of a client secret source (to a secret the issuer accepts or not) and TagResource or
 * UntagResource throttled or not: the issuer is never sent a client secret it already rejected, and a sweep that sends
 * nothing never raises the failure count.
 */
import { TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { secretNames, TAG_KEYS } from '../../../core/store';
import { ClientDocumentCache } from '../../../lambda/client-cache';
import { RefreshMemory } from '../../../lambda/refresh-memory';
import { sweep } from '../../../lambda/sweep';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import { type FrozenClock, frozenClock } from '../../helpers/clock';
import { at, NOW, PLANTED_SECRET, PREFIX, sirvDocument, sweepDefaults, tokenRecord } from '../../helpers/fleet';

const NAME = 'held';
const SOURCE = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:platform/held-AbCdEf';
const names = secretNames(NAME, PREFIX);
const epoch = (d: Date) => String(Math.floor(d.getTime() / 1000));

/** The system under test: one credential, its issuer, and the containers that sweep it. */
interface World {
  sm: MemorySecrets;
  clock: FrozenClock;
  /** Client secrets the issuer accepts; any other is rejected (401). */
  accepted: Set<string>;
  /** Every client secret sent to the issuer, in order. */
  sent: string[];
  rejected: Set<string>;
  /**
   * Rejected while TagResource was throttled: recorded nowhere but in the memory of the container
   * that saw it, so another (cold) container may send it again; AWS allows nothing better.
   */
  unrecordable: Set<string>;
  /** Rejected in a sweep of the warm container, which remembers what it could not tag. */
  warmRejected: Set<string>;
  /** Issuer calls made while TagResource was throttled: failures the tags may count only later. */
  untaggedCalls: number;
  /** The warm container's memory and client document cache. */
  memory: RefreshMemory;
  cache: ClientDocumentCache;
  untagThrottled: boolean;
  tagThrottled: boolean;
  sourceVersions: number;
}

interface Model {
  sourced: boolean;
}

type HoldCommand = fc.AsyncCommand<Model, World>;

const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });

/** A Sirv token endpoint that accepts only the client secrets in `world.accepted`. */
function issuerOf(world: World): typeof fetch {
  return (async (_url: unknown, init?: { body?: unknown }) => {
    const { clientSecret = '' } = JSON.parse(String(init?.body ?? '{}')) as { clientSecret?: string };
    world.sent.push(clientSecret);
    if (world.accepted.has(clientSecret)) {
      return Response.json({ token: `token-${world.sent.length}`, expiresIn: 1200 });
    }
    world.rejected.add(clientSecret);
    return Response.json({ message: 'Wrong clientId or clientSecret' }, { status: 401 });
  }) as typeof fetch;
}

function failures(world: World): number {
  return Number(world.sm.tokenTags(NAME, PREFIX)[TAG_KEYS.failures] ?? '0');
}

class Sweep implements HoldCommand {
  constructor(
    readonly warm: boolean,
    readonly seconds: number,
  ) {}
  check = () => true;
  async run(_model: Model, world: World): Promise<void> {
    world.clock.advance(this.seconds);
    const before = { sent: world.sent.length, failures: failures(world) };
    const knownToWarm = new Set(world.warmRejected);
    await sweep({
      ...sweepDefaults(world.sm.client),
      now: world.clock.now,
      fetch: issuerOf(world),
      ...(this.warm ? { memory: world.memory, clientCache: world.cache } : {}),
    });
    const rejectedNow = world.sent.slice(before.sent).filter((s) => world.rejected.has(s));
    if (world.tagThrottled) for (const secret of rejectedNow) world.unrecordable.add(secret);
    if (this.warm) {
      // The warm container never sends again what it saw rejected, tagged or not.
      for (const secret of knownToWarm) expect(rejectedNow).not.toContain(secret);
      for (const secret of rejectedNow) world.warmRejected.add(secret);
    }
    // Never a rejected client secret a second time, once its rejection could be tagged.
    for (const secret of world.rejected) {
      if (!world.unrecordable.has(secret)) expect(world.sent.filter((s) => s === secret)).toHaveLength(1);
    }
    // A sweep that sent nothing recorded no failure of its own; it may tag, late, the failures of
    // calls made while TagResource was throttled, which its container remembered.
    if (world.sent.length === before.sent) {
      expect(failures(world)).toBeGreaterThanOrEqual(before.failures);
      expect(failures(world)).toBeLessThanOrEqual(before.failures + world.untaggedCalls);
    } else if (world.tagThrottled) {
      world.untaggedCalls += world.sent.length - before.sent;
    }
  }
  toString = () => `sweep(${this.warm ? 'warm' : 'cold'}, +${this.seconds}s)`;
}

class ThrottleUntag implements HoldCommand {
  constructor(readonly on: boolean) {}
  check = () => true;
  async run(_model: Model, world: World): Promise<void> {
    world.untagThrottled = this.on;
  }
  toString = () => `untag(${this.on ? 'throttled' : 'ok'})`;
}

class ThrottleTag implements HoldCommand {
  constructor(readonly on: boolean) {}
  check = () => true;
  async run(_model: Model, world: World): Promise<void> {
    world.tagThrottled = this.on;
  }
  toString = () => `tag(${this.on ? 'throttled' : 'ok'})`;
}

class RotateSource implements HoldCommand {
  constructor(readonly accepted: boolean) {}
  check = (model: Readonly<Model>) => model.sourced;
  async run(_model: Model, world: World): Promise<void> {
    world.sourceVersions += 1;
    const value = `${PLANTED_SECRET}-source-${world.sourceVersions}`;
    if (this.accepted) world.accepted.add(value);
    world.sm.secrets.set(SOURCE, {
      value,
      tags: {},
      lastChangedDate: world.clock.now(),
      versions: world.sourceVersions,
      versionId: `s${world.sourceVersions}`,
    });
  }
  toString = () => `rotateSource(${this.accepted ? 'accepted' : 'rejected'})`;
}

/**
 * The credential, due, with a next-attempt tag an earlier transient failure left (what the
 * UntagResource after a rejection must remove), and a client secret the issuer rejects.
 */
function worldOf(sourced: boolean): World {
  const clock = frozenClock(NOW);
  const sm = memorySecrets({ now: clock.now });
  const world: World = {
    sm,
    clock,
    accepted: new Set(),
    sent: [],
    rejected: new Set(),
    unrecordable: new Set(),
    warmRejected: new Set(),
    untaggedCalls: 0,
    memory: new RefreshMemory(),
    cache: new ClientDocumentCache(),
    untagThrottled: false,
    tagThrottled: false,
    sourceVersions: 0,
  };
  sm.addCredential({
    name: NAME,
    prefix: PREFIX,
    clientDocument: sirvDocument(NAME),
    token: tokenRecord(NAME, at(-30)),
    tokenTags: {
      [TAG_KEYS.failures]: '1',
      [TAG_KEYS.lastError]: 'IssuerUnavailable',
      [TAG_KEYS.nextAttempt]: epoch(at(-10)),
    },
  });
  if (sourced) {
    const { clientSecret: _inline, ...issuer } = sirvDocument(NAME).issuer as { clientSecret?: string };
    const client = sm.secrets.get(names.client);
    if (!client) throw new Error('no client secret');
    sm.secrets.set(names.client, {
      ...client,
      value: JSON.stringify({ version: 1, issuer, policy: {}, clientSecretSource: { secretArn: SOURCE } }),
    });
    world.sourceVersions = 1;
    sm.secrets.set(SOURCE, {
      value: `${PLANTED_SECRET}-source-1`,
      tags: {},
      lastChangedDate: at(-3600),
      versions: 1,
      versionId: 's1',
    });
  }
  // TagResource and UntagResource as the double answers them, or throttled while the world says so.
  sm.mock
    .on(TagResourceCommand)
    .callsFake(async (input: { SecretId?: string; Tags?: { Key?: string; Value?: string }[] }) => {
      if (world.tagThrottled) throw throttled();
      const secret = sm.secrets.get(input.SecretId ?? '');
      for (const t of input.Tags ?? []) if (secret && t.Key) secret.tags[t.Key] = t.Value ?? '';
      return {};
    });
  sm.mock.on(UntagResourceCommand).callsFake(async (input: { SecretId?: string; TagKeys?: string[] }) => {
    if (world.untagThrottled) throw throttled();
    const secret = sm.secrets.get(input.SecretId ?? '');
    for (const key of input.TagKeys ?? []) delete secret?.tags[key];
    return {};
  });
  return world;
}

const commands = fc.commands(
  [
    fc.tuple(fc.boolean(), fc.integer({ min: 60, max: 4000 })).map(([warm, seconds]) => new Sweep(warm, seconds)),
    fc.boolean().map((on) => new ThrottleUntag(on)),
    fc.boolean().map((on) => new ThrottleTag(on)),
    fc.boolean().map((accepted) => new RotateSource(accepted)),
  ],
  { maxCommands: 20 },
);

describe('blocked credentials, over any sequence of sweeps, source rotations and throttled untags', () => {
  it('never send a rejected client secret again, and a sweep that sends nothing raises no failure count', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.boolean(), commands, async (sourced, throttledFirst, cmds) => {
        const world = worldOf(sourced);
        world.untagThrottled = throttledFirst;
        try {
          await fc.asyncModelRun(() => ({ model: { sourced }, real: world }), cmds);
        } finally {
          world.sm.restore();
        }
      }),
      { numRuns: 200 },
    );
  });

  // Sequences the property has found, kept so that each runs every time.
  const runs = async (sourced: boolean, cmds: HoldCommand[]) => {
    const world = worldOf(sourced);
    try {
      await fc.asyncModelRun(() => ({ model: { sourced }, real: world }), cmds);
    } finally {
      world.sm.restore();
    }
  };

  it('a warm container does not keep the rejected source secret a held recheck read', async () => {
    await runs(true, [
      new Sweep(false, 60),
      new Sweep(true, 60),
      new RotateSource(true),
      new Sweep(false, 60),
      new Sweep(true, 841),
    ]);
  });

  it('a container that could not tag a second rejected source version does not send it again', async () => {
    await runs(true, [
      new Sweep(true, 60),
      new RotateSource(false),
      new ThrottleTag(true),
      new Sweep(true, 4000),
      new Sweep(true, 4000),
      new Sweep(true, 4000),
    ]);
  });
});
