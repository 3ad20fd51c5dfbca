/**
 * The lagging proxy in front of moto, as the demo uses it for the Lambda bundle (whose clients it
 * does not build): ListSecrets through it shows a state up to five minutes old by the given clock,
 * paging included; every other call, DescribeSecret first, goes through fresh.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIST_SECRETS_LAG_MS } from '../../local-stack/eventual-consistency';
import { type LaggingProxy, startLaggingProxy } from '../../local-stack/lagging-proxy';
import { motoEndpoint, secretsManagerClient } from '../helpers/aws';
import { frozenClock } from '../helpers/clock';

const PREFIX = `it-lagproxy-${randomUUID().slice(0, 8)}/`;
const NAMES = Array.from({ length: 3 }, (_, i) => `${PREFIX}s${i}`);
const token = (name: string, n: number) => `${name}-v${n}`.replace(/\W/g, '-').padEnd(40, 'x');

let direct: SecretsManagerClient;
let viaProxy: SecretsManagerClient;
let proxy: LaggingProxy;
const clock = frozenClock(new Date('2026-12-07T10:00:00.000Z'));

beforeAll(async () => {
  direct = secretsManagerClient();
  proxy = await startLaggingProxy({ target: motoEndpoint(), now: clock.now });
  viaProxy = new SecretsManagerClient({ endpoint: proxy.endpoint });
  for (const name of NAMES) {
    await direct.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(name, 1) }));
  }
});

afterAll(async () => {
  for (const name of NAMES) {
    await direct.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })).catch(() => {});
  }
  await proxy?.close();
});

async function currentVersions(client: SecretsManagerClient): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  let next: string | undefined;
  for (let page = 0; page < 10; page++) {
    const answer = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [PREFIX] }], MaxResults: 2, NextToken: next }),
    );
    for (const entry of answer.SecretList ?? []) {
      const stages = entry.SecretVersionsToStages ?? {};
      out[entry.Name ?? ''] = Object.keys(stages).find((id) => stages[id]?.includes('AWSCURRENT'));
    }
    next = answer.NextToken;
    if (next === undefined) break;
  }
  return out;
}

describe('the lagging proxy on moto', () => {
  it('lists the state of up to five minutes ago across pages, while DescribeSecret and writes go through fresh', async () => {
    // Prepare: the proxy has seen the first state.
    expect(Object.values(await currentVersions(viaProxy))).toEqual(NAMES.map((n) => token(n, 1)));
    // Act: a write through the proxy, then a minute.
    await viaProxy.send(
      new PutSecretValueCommand({
        SecretId: NAMES[1],
        SecretString: 'v2',
        ClientRequestToken: token(NAMES[1] ?? '', 2),
      }),
    );
    clock.advance(60);
    // Assess: moto and DescribeSecret (through the proxy) show it; the listing does not yet.
    expect((await currentVersions(direct))[NAMES[1] ?? '']).toBe(token(NAMES[1] ?? '', 2));
    const described = await viaProxy.send(new DescribeSecretCommand({ SecretId: NAMES[1] }));
    expect(Object.keys(described.VersionIdsToStages ?? {})).toContain(token(NAMES[1] ?? '', 2));
    expect((await currentVersions(viaProxy))[NAMES[1] ?? '']).toBe(token(NAMES[1] ?? '', 1));
    // Five minutes after the write's first listing, the listing shows it.
    clock.advance(LIST_SECRETS_LAG_MS / 1000);
    expect((await currentVersions(viaProxy))[NAMES[1] ?? '']).toBe(token(NAMES[1] ?? '', 2));
  });

  it("answers the target's own refusal as it was", async () => {
    const refused = await viaProxy
      .send(new ListSecretsCommand({ Filters: [{ Key: 'not-a-key' as never, Values: ['x'] }] }))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });
});
