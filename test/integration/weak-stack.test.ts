/**
 * The weak-guarantee middleware on a real SDK client against moto (strongly consistent, no
 * version cap): ListSecrets lags as Secrets Manager documents ("ListSecrets might not reflect
 * changes from the last five minutes. You can get more recent information for a specific secret
 * by calling DescribeSecret."), paging included, and PutSecretValue is refused past the cap of
 * young versions, a repeated ClientRequestToken not counting.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  LimitExceededException,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIST_SECRETS_LAG_MS } from '../../local-stack/eventual-consistency';
import { weakAws } from '../../local-stack/weak-aws';
import { secretsManagerClient } from '../helpers/aws';
import { frozenClock } from '../helpers/clock';

const REGION = 'us-east-1';
const PREFIX = `it-weak-${randomUUID().slice(0, 8)}/`;
const NAMES = Array.from({ length: 5 }, (_, i) => `${PREFIX}s${i}`);
const BY_PREFIX = { Filters: [{ Key: 'name' as const, Values: [PREFIX] }] };

let setup: SecretsManagerClient;

/** Version `n` of `name`: a ClientRequestToken of the 32 to 64 characters Secrets Manager takes. */
const versionToken = (name: string, n: number) => `${name}-v${n}`.replace(/\W/g, '-').padEnd(40, 'x');

beforeAll(async () => {
  setup = secretsManagerClient({ region: REGION });
  for (const name of NAMES) {
    await setup.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: 'first',
        ClientRequestToken: versionToken(name, 1),
      }),
    );
  }
});

afterAll(async () => {
  for (const name of NAMES) {
    await setup.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })).catch(() => {});
  }
});

/** The AWSCURRENT version of each secret under the prefix, following every page. */
async function listed(client: SecretsManagerClient, maxResults?: number): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let token: string | undefined;
  for (let page = 0; page < 20; page++) {
    const answer = await client.send(
      new ListSecretsCommand({ ...BY_PREFIX, MaxResults: maxResults, NextToken: token }),
    );
    for (const entry of answer.SecretList ?? []) {
      const current = Object.entries(entry.SecretVersionsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'));
      out[entry.Name ?? ''] = current?.[0] ?? '';
    }
    token = answer.NextToken;
    if (!token) return out;
  }
  throw new Error('listing did not end');
}

describe('the weak stack on moto', () => {
  it('lags ListSecrets (every page) for up to 5 minutes after a write, while DescribeSecret is fresh', async () => {
    // Prepare: a weakened client; a listing at t=0 in pages of 2.
    const clock = frozenClock();
    const client = secretsManagerClient({ region: REGION });
    const weak = weakAws({ now: clock.now }).weaken(client);
    const before = await listed(client, 2);
    expect(Object.keys(before).sort()).toEqual(NAMES);
    const target = NAMES[3] as string;
    await client.send(
      new PutSecretValueCommand({
        SecretId: target,
        SecretString: 'second',
        ClientRequestToken: versionToken(target, 2),
      }),
    );

    // Act
    clock.advance(LIST_SECRETS_LAG_MS / 1000 - 1);
    const lagging = await listed(client, 2);
    const described = await client.send(new DescribeSecretCommand({ SecretId: target }));
    const plain = await listed(setup, 2);
    clock.advance(1);
    const caughtUp = await listed(client, 2);

    // Assess: the weakened client still lists v1 at 4:59, moto itself and DescribeSecret show v2,
    // and at 5:00 the weakened listing has caught up.
    expect(lagging).toEqual(before);
    expect(lagging[target]).toBe(versionToken(target, 1));
    expect(described.VersionIdsToStages?.[versionToken(target, 2)]).toContain('AWSCURRENT');
    expect(plain[target]).toBe(versionToken(target, 2));
    expect(caughtUp[target]).toBe(versionToken(target, 2));
    weak.remove();
  });

  it('lags DescribeSecret per secret when asked to, and fails at once for a secret that is gone', async () => {
    // Prepare: a one-minute describe lag; one describe before a write.
    const clock = frozenClock();
    const client = secretsManagerClient({ region: REGION });
    const weak = weakAws({ now: clock.now, listLagMs: 0, describeLagMs: 60_000 }).weaken(client);
    const target = NAMES[4] as string;
    const before = await client.send(new DescribeSecretCommand({ SecretId: target }));
    await client.send(
      new PutSecretValueCommand({
        SecretId: target,
        SecretString: 'second',
        ClientRequestToken: versionToken(target, 2),
      }),
    );

    // Act
    clock.advance(59);
    const lagging = await client.send(new DescribeSecretCommand({ SecretId: target }));
    clock.advance(1);
    const caughtUp = await client.send(new DescribeSecretCommand({ SecretId: target }));
    const missing = client.send(new DescribeSecretCommand({ SecretId: `${PREFIX}never-made` }));

    // Assess
    expect(lagging.VersionIdsToStages).toEqual(before.VersionIdsToStages);
    expect(caughtUp.VersionIdsToStages?.[versionToken(target, 2)]).toContain('AWSCURRENT');
    await expect(missing).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    weak.remove();
  });

  it('refuses a new version past the cap with LimitExceededException before moto sees it, a repeat passing', async () => {
    // Prepare: a cap of 3 young versions on a client that wrote none yet.
    const clock = frozenClock();
    const client = secretsManagerClient({ region: REGION });
    const weak = weakAws({ now: clock.now, listLagMs: 0, versionCap: 3 }).weaken(client);
    const target = NAMES[0] as string;
    for (let n = 2; n <= 4; n++) {
      await client.send(
        new PutSecretValueCommand({
          SecretId: target,
          SecretString: `value-${n}`,
          ClientRequestToken: versionToken(target, n),
        }),
      );
      clock.advance(60);
    }

    // Act
    const repeat = await client.send(
      new PutSecretValueCommand({
        SecretId: target,
        SecretString: 'value-4',
        ClientRequestToken: versionToken(target, 4),
      }),
    );
    const refused = client.send(
      new PutSecretValueCommand({
        SecretId: target,
        SecretString: 'value-5',
        ClientRequestToken: versionToken(target, 5),
      }),
    );

    // Assess: the repeat is moto's no-op; the fourth new version never reached moto.
    expect(repeat.VersionId).toBe(versionToken(target, 4));
    await expect(refused).rejects.toBeInstanceOf(LimitExceededException);
    const versions = await setup.send(new ListSecretVersionIdsCommand({ SecretId: target }));
    expect((versions.Versions ?? []).map((v) => v.VersionId).sort()).toEqual(
      [1, 2, 3, 4].map((n) => versionToken(target, n)).sort(),
    );

    // A day after the first write, one version has aged out: one more is accepted.
    clock.set(24 * 60 * 60 + 30);
    await expect(
      client.send(
        new PutSecretValueCommand({
          SecretId: target,
          SecretString: 'value-5',
          ClientRequestToken: versionToken(target, 5),
        }),
      ),
    ).resolves.toMatchObject({ VersionId: versionToken(target, 5) });
    weak.remove();
  });
});
