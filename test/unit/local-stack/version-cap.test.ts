import {
  LimitExceededException,
  PutSecretValueCommand,
  type PutSecretValueCommandInput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import { SECRET_VERSION_QUOTA, VersionLedger } from '../../../local-stack/version-cap';
import { weakenSecretsManager } from '../../../local-stack/weak-secrets-manager';
import { frozenClock } from '../../helpers/clock';
import { memoryBackedClient } from '../../helpers/sdk-faults';

const SECRET = 'app/token';
const MINUTE = 60;
const DAY = 24 * 60 * MINUTE;

let sm: MemorySecrets | undefined;
afterEach(() => sm?.restore());

function stack(versionCap: number | undefined) {
  const clock = frozenClock();
  sm = memorySecrets({ now: clock.now, ...(versionCap !== undefined ? { versionCap } : {}) });
  sm.secrets.set(SECRET, {
    value: 'v0',
    tags: {},
    lastChangedDate: clock.now(),
    versions: 1,
    versionId: 'v0',
  });
  return { sm, client: sm.client, clock };
}

const put = (client: SecretsManagerClient, input: Omit<PutSecretValueCommandInput, 'SecretId'>) =>
  client.send(new PutSecretValueCommand({ SecretId: SECRET, ...input }));

/** Writes versions `v<from>`…`v<to - 1>` one minute apart, each with its own token. */
async function writeVersions(
  client: SecretsManagerClient,
  clock: ReturnType<typeof frozenClock>,
  from: number,
  to: number,
) {
  for (let i = from; i < to; i++) {
    await put(client, { SecretString: `value-${i}`, ClientRequestToken: `v${i}` });
    clock.advance(MINUTE);
  }
}

describe('the version cap of the in-memory double', () => {
  it('refuses the 101st new version within 24 hours with LimitExceededException, and writes nothing', async () => {
    // Prepare: 100 versions in 100 minutes.
    const { client, clock, sm } = stack(SECRET_VERSION_QUOTA);
    await writeVersions(client, clock, 1, 101);

    // Act
    const refused = put(client, { SecretString: 'value-101', ClientRequestToken: 'v101' });

    // Assess: the SDK's own exception, a client fault, naming the secret and the quota.
    await expect(refused).rejects.toBeInstanceOf(LimitExceededException);
    await expect(refused).rejects.toMatchObject({
      name: 'LimitExceededException',
      $fault: 'client',
      message: expect.stringMatching(/exceed one of the Secrets Manager quotas.*app\/token.*100 versions/),
    });
    expect(sm.secrets.get(SECRET)).toMatchObject({ value: 'value-100', versionId: 'v100' });
  });

  it('accepts again as the versions age past 24 hours, one for each that aged', async () => {
    // Prepare: v1 written at 0 min, v2 at 1 min, … v100 at 99 min; the clock at 100 min.
    const { client, clock } = stack(SECRET_VERSION_QUOTA);
    await writeVersions(client, clock, 1, 101);

    // Act + Assess: at 24 h + 30 s v1 has aged out: one write fits, the next does not.
    clock.set(DAY + 30);
    await expect(put(client, { SecretString: 'a', ClientRequestToken: 'after-1' })).resolves.toMatchObject({
      VersionId: 'after-1',
    });
    await expect(put(client, { SecretString: 'b', ClientRequestToken: 'after-2' })).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
    // A minute later v2 has aged out too.
    clock.advance(MINUTE);
    await expect(put(client, { SecretString: 'b', ClientRequestToken: 'after-2' })).resolves.toBeDefined();
  });

  it('does not count a repeated ClientRequestToken with the same value, even at the cap', async () => {
    // Prepare: the cap of 3 reached.
    const { client, clock, sm } = stack(3);
    await writeVersions(client, clock, 1, 4);

    // Act: repeats of the current and of an older version, with their own values.
    const current = await put(client, { SecretString: 'value-3', ClientRequestToken: 'v3' });
    const older = await put(client, { SecretString: 'value-1', ClientRequestToken: 'v1' });

    // Assess: both succeed and do nothing (AWSCURRENT stays on v3); a new version is still refused.
    expect([current.VersionId, older.VersionId]).toEqual(['v3', 'v1']);
    expect(sm.secrets.get(SECRET)).toMatchObject({ value: 'value-3', versionId: 'v3', versions: 4 });
    await expect(put(client, { SecretString: 'value-4', ClientRequestToken: 'v4' })).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
  });

  it('refuses a repeated ClientRequestToken with another value as ResourceExistsException, not as a quota', async () => {
    // Prepare
    const { client, clock } = stack(3);
    await writeVersions(client, clock, 1, 3);

    // Act + Assess
    await expect(put(client, { SecretString: 'other', ClientRequestToken: 'v1' })).rejects.toMatchObject({
      name: 'ResourceExistsException',
      message: expect.stringContaining("can't use ClientRequestToken v1"),
    });
  });

  it('counts a write without ClientRequestToken as a new version', async () => {
    // Prepare
    const { client } = stack(2);

    // Act + Assess
    await put(client, { SecretString: 'x' });
    await put(client, { SecretString: 'x' });
    await expect(put(client, { SecretString: 'x' })).rejects.toMatchObject({ name: 'LimitExceededException' });
  });

  it('has no cap when none is asked for', async () => {
    const { client, clock } = stack(undefined);
    await writeVersions(client, clock, 1, 151);
    await expect(put(client, { SecretString: 'x', ClientRequestToken: 'v151' })).resolves.toBeDefined();
  });
});

describe('the version cap middleware on a real SDK client', () => {
  it('refuses past the cap before the store sees the write, skips repeats, and accepts again a day later', async () => {
    // Prepare: a plain double under a real client, capped at 2 by middleware.
    const { sm: backend, clock } = stack(undefined);
    const client = memoryBackedClient(backend.client);
    const weak = weakenSecretsManager(client, { now: clock.now, versionCap: 2 });
    await writeVersions(client, clock, 1, 3);

    // Act
    const repeat = await put(client, { SecretString: 'value-2', ClientRequestToken: 'v2' });
    const refused = put(client, { SecretString: 'value-3', ClientRequestToken: 'v3' });

    // Assess: the repeat went through, the new version never reached the store.
    expect(repeat.VersionId).toBe('v2');
    await expect(refused).rejects.toBeInstanceOf(LimitExceededException);
    expect(backend.mock.commandCalls(PutSecretValueCommand)).toHaveLength(3);
    expect(weak.versions?.young(SECRET)).toBe(2);
    clock.advance(DAY);
    await expect(put(client, { SecretString: 'value-3', ClientRequestToken: 'v3' })).resolves.toBeDefined();
  });

  it('lets no more than the cap through when writes to one secret overlap', async () => {
    // Prepare: a cap of 3; 6 writes sent at once.
    const { sm: backend, clock } = stack(undefined);
    const client = memoryBackedClient(backend.client);
    weakenSecretsManager(client, { now: clock.now, versionCap: 3 });

    // Act
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => put(client, { SecretString: `x${i}`, ClientRequestToken: `c${i}` })),
    );

    // Assess
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(backend.mock.commandCalls(PutSecretValueCommand)).toHaveLength(3);
  });

  it('counts the version id the answer names when the caller gave no token', async () => {
    // Prepare
    const { sm: backend, clock } = stack(undefined);
    const client = memoryBackedClient(backend.client);
    const weak = weakenSecretsManager(client, { now: clock.now, versionCap: 5 });

    // Act
    const written = await put(client, { SecretString: 'x' });

    // Assess: the store chose the version id; that version is known, and its repeat is no new version.
    expect(written.VersionId).toEqual(expect.any(String));
    expect(weak.versions?.has(SECRET, written.VersionId)).toBe(true);
    await put(client, { SecretString: 'x', ClientRequestToken: written.VersionId });
    expect(weak.versions?.young(SECRET)).toBe(1);
  });
});

describe('VersionLedger', () => {
  it('refuses a cap that is not a positive integer', () => {
    const now = () => new Date();
    for (const cap of [0, -1, 1.5, Number.NaN]) expect(() => new VersionLedger({ cap, now })).toThrow(/versionCap/);
  });

  it('forgets versions older than a day once a secret holds more than 100, keeping the young ones', () => {
    // Prepare
    const clock = frozenClock();
    const ledger = new VersionLedger({ cap: Number.POSITIVE_INFINITY, now: clock.now });
    for (let i = 0; i < 100; i++) ledger.record(SECRET, `old-${i}`);
    clock.advance(DAY + 1);

    // Act
    for (let i = 0; i < 150; i++) ledger.record(SECRET, `young-${i}`);

    // Assess
    expect(ledger.has(SECRET, 'old-0')).toBe(false);
    expect(ledger.has(SECRET, 'young-0')).toBe(true);
    expect(ledger.young(SECRET)).toBe(150);
  });
});
