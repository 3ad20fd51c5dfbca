/**
 * Refresh events end to end on moto: the rotator handler sweeps credentials on loopback Sirv
 * fakes (one refreshes, one is rejected, one meets an outage that outlives its token) and puts
 * its events on a custom bus; a rule on that bus sends them to an SQS queue, where they arrive
 * in order per credential, with no token, client secret or upstream text in them.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialSecrets, deleteCredentialSecrets } from '../../core/store';
import type { TokenRecord } from '../../core/token';
import { createHandler, type InvocationContext } from '../../lambda';
import { EVENT_SOURCE } from '../../lambda/events';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { motoEndpoint, secretsManagerClient } from '../helpers/aws';

const RUN = randomUUID().slice(0, 8);
const PREFIX = `it-events-${RUN}/`;
const BUS = `token-rotator-events-${RUN}`;
const RULE = `to-queue-${RUN}`;
const CONTEXT: InvocationContext = { getRemainingTimeInMillis: () => 600_000, functionName: 'token-rotator' };
const PLANTED_SECRET = `PLANTED-events-client-secret-${RUN}`;
/** Whole seconds, so tags (epoch seconds) and records agree. */
const START_MS = Math.floor(Date.now() / 1000) * 1000;
let simMs = START_MS;
const now = () => new Date(simMs);

let healthy: SirvFake;
let down: SirvFake;
let events: EventBridgeClient;
let sqs: SQSClient;
let queueUrl = '';
const names = { ok: `ok-${RUN}`, rejected: `rejected-${RUN}`, down: `down-${RUN}` };

function dueToken(name: string, expiresInSeconds: number): TokenRecord {
  return {
    version: 1,
    credential: name,
    issuer: 'json',
    accessToken: `PLANTED-old-token-${name}`,
    tokenType: 'Bearer',
    issuedAt: new Date(START_MS - 1000_000).toISOString(),
    expiresAt: new Date(START_MS + expiresInSeconds * 1000).toISOString(),
    refreshAfter: new Date(START_MS - 30_000).toISOString(),
    generation: 5,
  };
}

/** Every message on the queue, read until `count` arrived or 20 polls came back short. */
async function drain(count: number): Promise<Message[]> {
  const messages: Message[] = [];
  for (let poll = 0; poll < 20 && messages.length < count; poll++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    messages.push(...Messages);
    if (Messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }
  return messages;
}

beforeAll(async () => {
  motoEndpoint();
  events = new EventBridgeClient({});
  sqs = new SQSClient({});
  const clients = { [names.ok]: `${PLANTED_SECRET}-ok`, [names.rejected]: `${PLANTED_SECRET}-rejected` };
  [healthy, down] = await Promise.all([
    startSirvFake({ now, clients }),
    startSirvFake({ now, clients: { [names.down]: `${PLANTED_SECRET}-down` } }),
  ]);
  healthy.revokeClient(names.rejected);
  down.setFaultRate({ status503: 1 });

  const sm = secretsManagerClient();
  for (const [name, fake, expiresIn] of [
    [names.ok, healthy, 600],
    [names.rejected, healthy, 600],
    // Expires before the second sweep: the outage outlives it.
    [names.down, down, 90],
  ] as const) {
    await createCredentialSecrets(
      { client: sm, prefix: PREFIX },
      {
        name,
        clientDocument: {
          version: 1,
          issuer: {
            kind: 'sirv',
            url: fake.tokenUrl,
            clientId: name,
            clientSecret: clients[name] ?? `${PLANTED_SECRET}-down`,
            allowInsecureHttp: true,
          },
          policy: { allowFrequentWrites: true },
        },
        token: dueToken(name, expiresIn),
      },
    );
  }

  await events.send(new CreateEventBusCommand({ Name: BUS }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `rejections-${RUN}` }));
  queueUrl = queue.QueueUrl ?? '';
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await events.send(
    new PutRuleCommand({ Name: RULE, EventBusName: BUS, EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }) }),
  );
  await events.send(
    new PutTargetsCommand({ Rule: RULE, EventBusName: BUS, Targets: [{ Id: 'queue', Arn: Attributes?.QueueArn }] }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([healthy?.close(), down?.close()]);
  const sm = secretsManagerClient();
  for (const name of Object.values(names)) {
    await deleteCredentialSecrets({ client: sm, prefix: PREFIX }, name, { forceDeleteWithoutRecovery: true }).catch(
      () => {},
    );
  }
  await events.send(new RemoveTargetsCommand({ Rule: RULE, EventBusName: BUS, Ids: ['queue'] })).catch(() => {});
  await events.send(new DeleteRuleCommand({ Name: RULE, EventBusName: BUS })).catch(() => {});
  await events.send(new DeleteEventBusCommand({ Name: BUS })).catch(() => {});
  if (queueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
});

describe('refresh events through EventBridge to SQS (moto)', () => {
  it('delivers a sweep’s success, rejection and outage, then the expiry, in order per credential, secret-free', async () => {
    // Prepare
    const handler = createHandler({
      secretsManager: secretsManagerClient(),
      now,
      random: () => 0,
      env: { TOKEN_ROTATOR_PREFIX: PREFIX, TOKEN_ROTATOR_EVENT_BUS: BUS },
      logger: new Logger({ serviceName: 'token-rotator', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'TokenRotator', serviceName: 'token-rotator' }),
    });
    // Act: a sweep now, and one after the outage outlived the down credential's token.
    await handler({ action: 'sweep' }, CONTEXT);
    simMs = START_MS + 600_000;
    await handler({ action: 'sweep' }, CONTEXT);
    // Assess
    const messages = await drain(5);
    const bodies = messages.map((m) => JSON.parse(m.Body ?? '{}') as Record<string, unknown>);
    const ours = bodies.filter((b) => b.source === EVENT_SOURCE);
    const seen = (name: string) =>
      ours
        .filter((b) => (b.detail as { credential?: string }).credential === name)
        .map((b) => [b['detail-type'], b.detail]);
    expect(seen(names.ok)).toEqual([
      ['Token Refreshed', expect.objectContaining({ generation: 6, expiresAt: expect.any(String) })],
    ]);
    expect(seen(names.rejected)).toEqual([
      ['Credential Rejected', expect.objectContaining({ errorCode: 'InvalidCredentials', generation: 5 })],
    ]);
    expect(seen(names.down)).toEqual([
      [
        'Refresh Failing',
        expect.objectContaining({
          errorCode: 'IssuerUnavailable',
          secondsToExpiry: 90,
          nextAttempt: expect.any(String),
        }),
      ],
      ['Refresh Failing', expect.objectContaining({ errorCode: 'IssuerUnavailable', secondsToExpiry: -510 })],
      ['Token Expired', expect.objectContaining({ errorCode: 'IssuerUnavailable', generation: 5 })],
    ]);
    expect(ours).toHaveLength(5);
    // Each names the rotator's prefix and the token secret, so two rotators' events on one bus differ.
    for (const b of ours) {
      const detail = b.detail as { credential: string; prefix?: string; tokenSecretName?: string };
      expect(detail).toMatchObject({ prefix: PREFIX, tokenSecretName: `${PREFIX}${detail.credential}/token` });
    }
    const all = JSON.stringify(bodies);
    expect(all).not.toContain(PLANTED_SECRET);
    expect(all).not.toContain('PLANTED-old-token');
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
  });
});
