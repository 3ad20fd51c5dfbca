/**
 * An in-memory Secrets Manager behind aws-sdk-client-mock, for the rotator's unit tests: enough
 * of GetSecretValue, BatchGetSecretValue (by `SecretIdList`), PutSecretValue, TagResource, UntagResource, DescribeSecret and ListSecrets
 * (name-prefix and tag-key filters, paging) to run sweeps over many credentials, while every call
 * stays visible through the mock's `commandCalls`.
 *
 * Strongly consistent by default; with `listLag`, `describeLag` and `versionCap` it is as weak as
 * AWS documents (eventual-consistency.ts, version-cap.ts): listings up to minutes old, and no new
 * version past the cap of versions younger than 24 hours.
 */
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  type DescribeSecretResponse,
  GetSecretValueCommand,
  ListSecretsCommand,
  type ListSecretsCommandInput,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretListEntry,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { type ClientDocumentInput, secretNames, TAG_KEYS } from '../core/store';
import type { TokenRecord } from '../core/token';
import { encodeTokenVersion } from '../core/token-version';
import { LaggingListings, LaggingReads, type LagOptions } from './eventual-consistency';
import { VersionLedger } from './version-cap';

/** One stored secret. */
export interface StoredSecret {
  value: string;
  tags: Record<string, string>;
  lastChangedDate: Date;
  versions: number;
  /** The AWSCURRENT version id (the write's ClientRequestToken, as Secrets Manager keeps it). */
  versionId: string;
}

/** The double: the stored secrets and the mock to assert calls on. */
export interface MemorySecrets {
  client: SecretsManagerClient;
  mock: AwsClientStub<SecretsManagerClient>;
  secrets: Map<string, StoredSecret>;
  /** Adds both secrets of a credential, tagged as the store tags them. */
  addCredential(input: {
    name: string;
    prefix: string;
    clientDocument: ClientDocumentInput;
    token?: TokenRecord | undefined;
    tokenTags?: Record<string, string>;
  }): void;
  tokenTags(name: string, prefix: string): Record<string, string>;
  /** Write calls (PutSecretValue, TagResource, UntagResource) accepted, by the double's clock (ms). */
  writeTimes: number[];
  /** Write calls refused with ThrottlingException. */
  throttled: number;
  /**
   * The store's own DescribeSecret answer: a test that injects a fault on one call
   * (`mock.on(DescribeSecretCommand).rejectsOnce(e).callsFake(describeSecret)`) keeps the store
   * answering the calls after it.
   */
  describeSecret(input: { SecretId?: string }): Promise<DescribeSecretResponse>;
  restore(): void;
}

const PAGE_SIZE_LIMIT = 100;

function notFound(id: string): ResourceNotFoundException {
  return new ResourceNotFoundException({
    message: `Secrets Manager can't find the specified secret ${id}.`,
    $metadata: { httpStatusCode: 400 },
  });
}

/** Options of {@link memorySecrets}. */
export interface MemorySecretsOptions {
  /**
   * Clock of the double. When given, PutSecretValue stamps the secret's `LastChangedDate` with it,
   * as Secrets Manager does (a new client secret then lifts a block left by rejected credentials).
   * Without it, `LastChangedDate` stays as the secret was added.
   */
  now?: () => Date;
  /**
   * The account's shared write quota: more PutSecretValue, TagResource and UntagResource calls
   * than this within one second (by `now`) are refused with a ThrottlingException, as Secrets
   * Manager refuses them. Unlimited when absent.
   */
  writesPerSecond?: number;
  /**
   * ListSecrets answers with a state up to `lagMs` old (by `now`), as Secrets Manager documents
   * ("ListSecrets might not reflect changes from the last five minutes"). Strongly consistent when absent.
   */
  listLag?: Omit<LagOptions, 'now'>;
  /** DescribeSecret answers with a state up to `lagMs` old; fresh when absent (AWS's fresher view). */
  describeLag?: Omit<LagOptions, 'now'>;
  /**
   * PutSecretValue refuses a new version of a secret that already has this many versions created
   * in the last 24 hours (by `now`) with Secrets Manager's LimitExceededException; AWS's quota is
   * `SECRET_VERSION_QUOTA` (100). A repeated ClientRequestToken is no new version. Unlimited when absent.
   */
  versionCap?: number;
}

/** Starts an empty double; `restore()` it after each test. */
export function memorySecrets(options: MemorySecretsOptions = {}): MemorySecrets {
  const mock = mockClient(SecretsManagerClient);
  const clock = options.now ?? (() => new Date());
  // Every version the double created, with its value: a repeated ClientRequestToken is then a
  // no-op or a conflict as on AWS, and the young ones count against the cap.
  const versions = new VersionLedger({ cap: options.versionCap ?? Number.POSITIVE_INFINITY, now: clock });
  const listings = options.listLag ? new LaggingListings({ ...options.listLag, now: clock }) : undefined;
  const describes = options.describeLag
    ? new LaggingReads<DescribeSecretResponse>({ ...options.describeLag, now: clock })
    : undefined;
  const secrets = new Map<string, StoredSecret>();
  const get = (id: string | undefined): StoredSecret => {
    const secret = id === undefined ? undefined : secrets.get(id);
    if (!secret) throw notFound(id ?? '');
    return secret;
  };
  const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
  const writeTimes: number[] = [];
  let throttled = 0;
  let windowStart = 0;
  /** Admits one write under the quota, or throws as Secrets Manager does. */
  const admitWrite = () => {
    const at = clock().getTime();
    if (options.writesPerSecond !== undefined) {
      while (windowStart < writeTimes.length && (writeTimes[windowStart] ?? 0) <= at - 1000) windowStart += 1;
      if (writeTimes.length - windowStart >= options.writesPerSecond) {
        throttled += 1;
        throw Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      }
    }
    writeTimes.push(at);
  };

  mock.on(GetSecretValueCommand).callsFake(async (input: { SecretId?: string }) => {
    const secret = get(input.SecretId);
    return {
      Name: input.SecretId,
      ARN: arn(input.SecretId ?? ''),
      SecretString: secret.value,
      VersionId: secret.versionId,
    };
  });
  mock.on(BatchGetSecretValueCommand).callsFake(async (input: { SecretIdList?: string[] }) => {
    // As Secrets Manager: 1 to 20 ids, and a secret that cannot be read is an entry of `Errors`,
    // not a failure of the call.
    const ids = input.SecretIdList ?? [];
    if (ids.length === 0 || ids.length > 20) {
      throw Object.assign(new Error('SecretIdList must hold 1 to 20 ids.'), {
        name: 'InvalidParameterException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const found = ids.flatMap((id) => {
      const secret = secrets.get(id);
      return secret ? [{ id, secret }] : [];
    });
    return {
      SecretValues: found.map(({ id, secret }) => ({
        Name: id,
        ARN: arn(id),
        SecretString: secret.value,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
      })),
      Errors: ids
        .filter((id) => !secrets.has(id))
        .map((id) => ({
          SecretId: id,
          ErrorCode: 'ResourceNotFoundException',
          Message: `Secrets Manager can't find the specified secret ${id}.`,
        })),
    };
  });
  mock
    .on(PutSecretValueCommand)
    .callsFake(async (input: { SecretId?: string; SecretString?: string; ClientRequestToken?: string }) => {
      const secret = get(input.SecretId);
      const id = input.SecretId ?? '';
      admitWrite();
      const token = input.ClientRequestToken;
      if (token !== undefined && (token === secret.versionId || versions.has(id, token))) {
        // Secrets Manager: the same token with the same value is a no-op, with another value an error.
        const existing = token === secret.versionId ? secret.value : versions.valueOf(id, token);
        if (input.SecretString === existing) return { Name: input.SecretId, VersionId: token };
        throw new ResourceExistsException({
          message: `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${arn(id)}.`,
          $metadata: { httpStatusCode: 400 },
        });
      }
      versions.admit(id);
      secret.value = input.SecretString ?? '';
      secret.versions += 1;
      secret.versionId = token ?? `v${secret.versions}-${input.SecretId}`;
      if (options.now) secret.lastChangedDate = options.now();
      versions.record(id, secret.versionId, { value: secret.value });
      return { Name: input.SecretId, VersionId: secret.versionId };
    });
  mock
    .on(TagResourceCommand)
    .callsFake(async (input: { SecretId?: string; Tags?: { Key?: string; Value?: string }[] }) => {
      const secret = get(input.SecretId);
      admitWrite();
      for (const t of input.Tags ?? []) if (t.Key) secret.tags[t.Key] = t.Value ?? '';
      return {};
    });
  mock.on(UntagResourceCommand).callsFake(async (input: { SecretId?: string; TagKeys?: string[] }) => {
    const secret = get(input.SecretId);
    admitWrite();
    for (const key of input.TagKeys ?? []) delete secret.tags[key];
    return {};
  });
  const freshDescribe = async (input: { SecretId?: string }): Promise<DescribeSecretResponse> => {
    const secret = get(input.SecretId);
    return {
      Name: input.SecretId,
      ARN: arn(input.SecretId ?? ''),
      LastChangedDate: secret.lastChangedDate,
      Tags: Object.entries(secret.tags).map(([Key, Value]) => ({ Key, Value })),
      VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] },
    };
  };
  const describeSecret = (input: { SecretId?: string }): Promise<DescribeSecretResponse> =>
    describes ? describes.read(input.SecretId ?? '', () => freshDescribe(input)) : freshDescribe(input);
  mock.on(DescribeSecretCommand).callsFake(describeSecret);
  const freshListing = (input: ListSecretsCommandInput) => {
    const prefixes = input.Filters?.find((f) => f.Key === 'name')?.Values ?? [''];
    const tagKeys = input.Filters?.find((f) => f.Key === 'tag-key')?.Values;
    // Entries are built for the page only: sweeps over thousands of secrets stay cheap.
    const matching = [...secrets.entries()].filter(
      ([name, s]) =>
        prefixes.some((p) => name.startsWith(p)) &&
        // Prefix match, any of the values (as Secrets Manager's tag-key filter).
        (!tagKeys || tagKeys.some((k) => Object.keys(s.tags).some((key) => key.startsWith(k)))),
    );
    const entry = ([name, s]: [string, StoredSecret]): SecretListEntry => ({
      Name: name,
      ARN: arn(name),
      LastChangedDate: s.lastChangedDate,
      Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
      SecretVersionsToStages: { [s.versionId]: ['AWSCURRENT'] },
    });
    return { matching, entry };
  };
  mock.on(ListSecretsCommand).callsFake(async (input: ListSecretsCommandInput) => {
    if (listings) {
      return listings.list(input, async (request) => {
        const { matching, entry } = freshListing(request);
        return matching.map(entry);
      });
    }
    const { matching, entry } = freshListing(input);
    const size = Math.min(input.MaxResults ?? PAGE_SIZE_LIMIT, PAGE_SIZE_LIMIT);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const end = start + size;
    return {
      SecretList: matching.slice(start, end).map(entry),
      ...(end < matching.length ? { NextToken: String(end) } : {}),
    };
  });

  return {
    client: new SecretsManagerClient({ region: 'us-east-1' }),
    mock,
    secrets,
    addCredential({ name, prefix, clientDocument, token, tokenTags }) {
      const names = secretNames(name, prefix);
      const added = new Date('2020-01-01T00:00:00.000Z');
      const clientVersion = `client-${name}-1`;
      // A credential added again starts a new history; its first versions are `changed` old.
      versions.forget(names.client);
      versions.forget(names.token);
      secrets.set(names.client, {
        value: JSON.stringify(clientDocument),
        tags: { [TAG_KEYS.credential]: name },
        lastChangedDate: added,
        versions: 1,
        versionId: clientVersion,
      });
      secrets.set(names.token, {
        value: token ? JSON.stringify(token) : '',
        tags: { [TAG_KEYS.credential]: name, [TAG_KEYS.clientVersion]: clientVersion, ...tokenTags },
        lastChangedDate: added,
        versions: 1,
        versionId: token ? encodeTokenVersion(token, clientVersion) : `empty-${name}-1`,
      });
      for (const id of [names.client, names.token]) {
        const secret = get(id);
        versions.record(id, secret.versionId, { at: added.getTime(), value: secret.value });
      }
    },
    writeTimes,
    describeSecret,
    get throttled() {
      return throttled;
    },
    tokenTags(name, prefix) {
      return { ...get(secretNames(name, prefix).token).tags };
    },
    restore() {
      mock.restore();
    },
  };
}
