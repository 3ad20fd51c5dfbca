/**
 * Client middleware that makes any real SecretsManagerClient (the moto-backed suites', or one over
 * the in-memory double) as weak as AWS documents: ListSecrets answers with a state up to minutes
 * old (eventual-consistency.ts), DescribeSecret optionally too, and PutSecretValue refuses a new
 * version past the cap of versions younger than 24 hours (version-cap.ts). The in-memory double
 * takes the same options directly (`memorySecrets({ listLag, describeLag, versionCap })`), since
 * aws-sdk-client-mock replaces `send` and so skips every middleware.
 */
import type {
  DescribeSecretCommandInput,
  DescribeSecretCommandOutput,
  DescribeSecretResponse,
  ListSecretsCommandInput,
  ListSecretsCommandOutput,
  PutSecretValueCommandInput,
  PutSecretValueCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { LaggingListings, LaggingReads, readAllPages } from './eventual-consistency';
import type { MemorySecretsOptions } from './memory-secrets';
import { VersionLedger } from './version-cap';

/** How weak a Secrets Manager is: the clock, and what lags or is capped (nothing when absent). */
export type WeakSecretsOptions = { now: () => Date } & Pick<
  MemorySecretsOptions,
  'listLag' | 'describeLag' | 'versionCap'
>;

/** What {@link weakenSecretsManager} added to a client. */
export interface WeakenedSecretsManager {
  /** The versions the cap counted, per SecretId as sent; absent without a cap. */
  versions: VersionLedger | undefined;
  /** Takes the middleware off the client again. */
  remove(): void;
}

const NAMES = {
  list: 'weakStack.listSecretsLag',
  describe: 'weakStack.describeSecretLag',
  cap: 'weakStack.secretVersionCap',
} as const;

// Innermost of the initialize step: the extra pages a lagging listing reads are the emulated
// service's own work, not calls of the client's user, so recorders added outside never see them.
const PLACEMENT = { step: 'initialize', priority: 'low' } as const;

/**
 * Adds the lag and cap middleware `options` asks for to `client`, and returns how to take it off.
 * The cap counts the PutSecretValue calls this client had accepted, by `options.now`: a secret's
 * versions made before, or by other clients, are not counted. A ClientRequestToken of a version
 * it counted is a repeat (Secrets Manager's "succeeds but does nothing"), never a new version.
 *
 * @example
 * ```ts
 * const client = secretsManagerClient({ region: 'us-east-1' });
 * const weak = weakenSecretsManager(client, {
 *   now: clock.now,
 *   listLag: { lagMs: LIST_SECRETS_LAG_MS },
 *   versionCap: SECRET_VERSION_QUOTA,
 * });
 * // …run the rotator with `client`…
 * weak.remove();
 * ```
 */
export function weakenSecretsManager(
  client: SecretsManagerClient,
  options: WeakSecretsOptions,
): WeakenedSecretsManager {
  const added: string[] = [];
  const stack = client.middlewareStack;

  if (options.listLag) {
    const listings = new LaggingListings({ ...options.listLag, now: options.now });
    stack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'ListSecretsCommand') return next(args);
        const page = await listings.list(args.input as ListSecretsCommandInput, (request) =>
          readAllPages(request, async (input) => (await next({ ...args, input })).output as ListSecretsCommandOutput),
        );
        return { response: {}, output: { ...page, $metadata: { httpStatusCode: 200 } } } as never;
      },
      { ...PLACEMENT, name: NAMES.list },
    );
    added.push(NAMES.list);
  }

  if (options.describeLag) {
    const describes = new LaggingReads<DescribeSecretResponse>({ ...options.describeLag, now: options.now });
    stack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'DescribeSecretCommand') return next(args);
        const id = (args.input as DescribeSecretCommandInput).SecretId ?? '';
        const output = await describes.read(id, async () => {
          const { $metadata: _metadata, ...answer } = (await next(args)).output as DescribeSecretCommandOutput;
          return answer;
        });
        return { response: {}, output: { ...output, $metadata: { httpStatusCode: 200 } } } as never;
      },
      { ...PLACEMENT, name: NAMES.describe },
    );
    added.push(NAMES.describe);
  }

  let versions: VersionLedger | undefined;
  if (options.versionCap !== undefined) {
    const ledger = new VersionLedger({ cap: options.versionCap, now: options.now });
    versions = ledger;
    // Writes admitted and not yet answered, per secret: Secrets Manager counts atomically.
    const inFlight = new Map<string, number>();
    stack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'PutSecretValueCommand') return next(args);
        const input = args.input as PutSecretValueCommandInput;
        const id = input.SecretId ?? '';
        if (ledger.has(id, input.ClientRequestToken)) return next(args);
        ledger.admit(id, inFlight.get(id));
        inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
        try {
          const result = await next(args);
          // The SDK fills a missing ClientRequestToken after this step: the answer names the version.
          const versionId = (result.output as PutSecretValueCommandOutput).VersionId;
          if (versionId !== undefined && !ledger.has(id, versionId)) ledger.record(id, versionId);
          return result;
        } finally {
          const left = (inFlight.get(id) ?? 1) - 1;
          if (left > 0) inFlight.set(id, left);
          else inFlight.delete(id);
        }
      },
      { ...PLACEMENT, name: NAMES.cap },
    );
    added.push(NAMES.cap);
  }

  return {
    versions,
    remove() {
      for (const name of added.splice(0)) stack.remove(name);
    },
  };
}
