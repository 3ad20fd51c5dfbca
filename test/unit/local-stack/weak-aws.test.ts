import { InvokeCommand } from '@aws-sdk/client-lambda';
import {
  DescribeSecretCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { type MemorySecrets, memorySecrets } from '../../../local-stack/memory-secrets';
import { VirtualTime } from '../../../local-stack/virtual-time';
import { weakAws } from '../../../local-stack/weak-aws';
import { TEST_EPOCH } from '../../helpers/clock';
import { memoryBackedClient } from '../../helpers/sdk-faults';

const SECRET = 'app/token';
let sm: MemorySecrets | undefined;
afterEach(() => sm?.restore());

function store(options: Parameters<typeof memorySecrets>[0]) {
  sm = memorySecrets(options);
  sm.secrets.set(SECRET, { value: 'v', tags: {}, lastChangedDate: TEST_EPOCH, versions: 1, versionId: 'v0' });
  return sm;
}

const listedVersion = async (client: SecretsManagerClient) =>
  Object.keys((await client.send(new ListSecretsCommand({}))).SecretList?.[0]?.SecretVersionsToStages ?? {})[0];
const put = (client: SecretsManagerClient, token: string) =>
  client.send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: token, ClientRequestToken: token }));

describe('weakAws', () => {
  it('defaults to what AWS documents: a 5-minute oldest-state listing, a fresh describe, 100 young versions, one delivery', () => {
    const now = () => TEST_EPOCH;
    expect(weakAws({ now }).secrets).toEqual({
      now,
      listLag: { lagMs: 300_000, choice: 'oldest', random: undefined },
      versionCap: 100,
    });
    expect(weakAws({ now, listLagMs: 0, describeLagMs: 1000, versionCap: 3 }).secrets).toEqual({
      now,
      describeLag: { lagMs: 1000, choice: 'oldest', random: undefined },
      versionCap: 3,
    });
  });

  it.each(['in-memory double', 'real client over a strong double'])('makes the %s weak', async (variant) => {
    // Prepare: the double weakened through its options, or a real client through middleware.
    const vt = new VirtualTime(TEST_EPOCH);
    const weak = weakAws({ now: vt.now, versionCap: 2 });
    let client: SecretsManagerClient;
    if (variant === 'in-memory double') {
      client = store({ ...weak.secrets }).client;
    } else {
      client = memoryBackedClient(store({ now: vt.now }).client);
      weak.weaken(client);
    }

    // Act
    expect(await listedVersion(client)).toBe('v0');
    await put(client, 'v1');
    await put(client, 'v2');
    const capped = put(client, 'v3');
    const listed = await listedVersion(client);
    const described = await client.send(new DescribeSecretCommand({ SecretId: SECRET }));

    // Assess: the listing lags, describe is fresh, the third young version is refused.
    expect(listed).toBe('v0');
    expect(Object.keys(described.VersionIdsToStages ?? {})).toEqual(['v2']);
    await expect(capped).rejects.toMatchObject({ name: 'LimitExceededException' });
  });

  it('hands self-invocations to deliver by its delivery policy, on the clock it is given', async () => {
    // Prepare
    const vt = new VirtualTime(TEST_EPOCH);
    const weak = weakAws({ now: vt.now, sleep: vt.sleep, delivery: { kind: 'twice', delaysMs: [1000, 7000] } });
    const at: number[] = [];
    const lambda = weak.selfInvocations(() => at.push(vt.now().getTime() - TEST_EPOCH.getTime()));

    // Act
    await lambda.client.send(
      new InvokeCommand({ FunctionName: 'token-rotator', InvocationType: 'Event', Payload: '{"action":"x"}' }),
    );
    await vt.run(lambda.settle(), 60_000);
    lambda.restore();

    // Assess
    expect(at).toEqual([1000, 7000]);
    expect(lambda.deliveries.map((d) => d.deliveredAt?.getTime())).toEqual([
      TEST_EPOCH.getTime() + 1000,
      TEST_EPOCH.getTime() + 7000,
    ]);
  });
});
