/**
 * The listing finds token secrets by the `client-version` tag key. Whatever
 * tagToken or recordFailure is asked to do, and whichever of its calls fails, a token secret the
 * listing found is found again: one that leaves the listing is never refreshed, and its token
 * expires with no alarm.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type CredentialListing, listCredentials, recordFailure, TAG_KEYS, tagToken } from '../../core/store';
import { type MemorySecrets, memorySecrets } from '../../local-stack/memory-secrets';
import { at, PREFIX, sirvDocument, tokenRecord } from '../helpers/fleet';

const NAME = 'sirv-prod';

let sm: MemorySecrets | undefined;
afterEach(() => sm?.restore());

/** The client, but the first `failOn` command sent is refused (a throttle). */
function flakyClient(client: SecretsManagerClient, failOn: string | undefined): SecretsManagerClient {
  let failed = false;
  return {
    send: (command: object) => {
      if (!failed && command.constructor.name === failOn) {
        failed = true;
        return Promise.reject(
          Object.assign(new Error('Rate exceeded'), {
            name: 'ThrottlingException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          }),
        );
      }
      return client.send(command as never);
    },
  } as unknown as SecretsManagerClient;
}

async function listed(client: SecretsManagerClient): Promise<CredentialListing | undefined> {
  for await (const l of listCredentials({ client, prefix: PREFIX })) if (l.name === NAME) return l;
  return undefined;
}

const failureTags = fc.record(
  {
    [TAG_KEYS.failures]: fc.constantFrom('0', '1', '4'),
    [TAG_KEYS.lastError]: fc.constantFrom('IssuerUnavailable', 'InvalidCredentials'),
    [TAG_KEYS.nextAttempt]: fc.constant(String(Math.floor(at(60).getTime() / 1000))),
  },
  { requiredKeys: [] },
);

const tagCall = fc.record({
  kind: fc.constant('tag' as const),
  clearFailureTags: fc.option(fc.boolean(), { nil: undefined }),
  clientVersion: fc.option(fc.constantFrom('c-2', 'c-3'), { nil: undefined }),
  writeBudgetBreached: fc.option(fc.boolean(), { nil: undefined }),
  failOn: fc.option(fc.constantFrom('TagResourceCommand', 'UntagResourceCommand'), { nil: undefined }),
});

const failureCall = fc.record({
  kind: fc.constant('failure' as const),
  failures: fc.integer({ min: 1, max: 9 }),
  lastError: fc.constantFrom('IssuerUnavailable', 'InvalidCredentials', 'StoreError'),
  nextAttempt: fc.boolean(),
  clientVersion: fc.option(fc.constantFrom('c-1', 'c-2'), { nil: undefined }),
  failOn: fc.option(fc.constantFrom('TagResourceCommand', 'UntagResourceCommand'), { nil: undefined }),
});

describe('a listed token secret', () => {
  it('stays listed whatever tagToken or recordFailure does to it, and whichever of their calls fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        failureTags,
        fc.array(fc.oneof(tagCall, failureCall), { minLength: 1, maxLength: 6 }),
        async (tokenTags, calls) => {
          sm?.restore();
          sm = memorySecrets();
          const record = tokenRecord(NAME, at(600));
          sm.addCredential({
            name: NAME,
            prefix: PREFIX,
            clientDocument: sirvDocument(NAME),
            token: record,
            tokenTags,
          });
          expect(await listed(sm.client)).toBeDefined();
          for (const call of calls) {
            const client = flakyClient(sm.client, call.failOn);
            try {
              if (call.kind === 'tag') {
                await tagToken(
                  { client, prefix: PREFIX },
                  { credential: NAME },
                  {
                    clearFailureTags: call.clearFailureTags,
                    clientVersion: call.clientVersion,
                    writeBudgetBreached: call.writeBudgetBreached,
                  },
                );
              } else {
                await recordFailure({ client, prefix: PREFIX }, NAME, {
                  failures: call.failures,
                  lastError: call.lastError,
                  nextAttempt: call.nextAttempt ? at(120) : undefined,
                  clientVersion: call.clientVersion,
                });
              }
            } catch {
              // A refused call is part of the property: the secret must stay listed anyway.
            }
            const after = await listed(sm.client);
            expect(
              after,
              `${JSON.stringify(call)} left tags ${JSON.stringify(sm.tokenTags(NAME, PREFIX))}`,
            ).toBeDefined();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
