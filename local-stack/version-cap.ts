/**
 * Secrets Manager's cap on young versions. Its quotas page: "Secrets Manager removes unlabeled
 * versions when there are more than 100, but it does not remove versions created less than 24
 * hours ago. If you update the secret value more than once every 10 minutes, you create more
 * versions than Secrets Manager removes, and you will reach the quota for secret versions." Past
 * the quota, PutSecretValue fails with LimitExceededException ("The request failed because it
 * would exceed one of the Secrets Manager quotas."). A repeat of an existing version's
 * ClientRequestToken creates no version ("the operation succeeds but does nothing"), so it never
 * counts.
 */
import { LimitExceededException } from '@aws-sdk/client-secrets-manager';

/** Versions younger than {@link VERSION_AGE_MS} one secret may hold. */
export const SECRET_VERSION_QUOTA = 100;
/** Versions younger than this are never removed to make room: 24 hours. */
export const VERSION_AGE_MS = 24 * 60 * 60_000;

/** The error Secrets Manager answers a PutSecretValue past the version quota with. */
export function versionQuotaExceeded(secretId: string, cap: number): LimitExceededException {
  return new LimitExceededException({
    message:
      'The request failed because it would exceed one of the Secrets Manager quotas: ' +
      `secret ${secretId} already has ${cap} versions created in the last 24 hours.`,
    $metadata: { httpStatusCode: 400 },
  });
}

interface Version {
  at: number;
  /** The version's value, when the ledger's owner keeps it (a double that must tell a repeat from a conflict). */
  value?: string | undefined;
}

function checkCap(cap: number): void {
  if (cap !== Number.POSITIVE_INFINITY && (!Number.isInteger(cap) || cap < 1))
    throw new RangeError(`versionCap must be an integer >= 1, got ${cap}`);
}

/**
 * The versions one store created, per secret, with the time of each: whether a new one is
 * admitted, and which version ids already exist (a repeat of one is not a new version).
 * Versions older than a day are forgotten once a secret holds more than 100, as Secrets Manager
 * removes them, so memory stays bounded.
 *
 * @example
 * ```ts
 * const versions = new VersionLedger({ cap: 100, now: clock.now });
 * versions.admit('app/token');          // throws LimitExceededException at the 101st within 24 h
 * versions.record('app/token', 'v-42'); // once the write is accepted
 * ```
 */
export class VersionLedger {
  readonly #cap: number;
  readonly #now: () => Date;
  readonly #bySecret = new Map<string, Map<string, Version>>();

  /** @param options.cap versions younger than 24 h per secret; {@link SECRET_VERSION_QUOTA} when absent, `Infinity` for none. */
  constructor(options: { cap?: number | undefined; now: () => Date }) {
    this.#cap = options.cap ?? SECRET_VERSION_QUOTA;
    checkCap(this.#cap);
    this.#now = options.now;
  }

  /** The cap this ledger enforces. */
  get cap(): number {
    return this.#cap;
  }

  /** Whether `versionId` is a version `secretId` already has (a repeat, not a new version). */
  has(secretId: string, versionId: string | undefined): boolean {
    return versionId !== undefined && (this.#bySecret.get(secretId)?.has(versionId) ?? false);
  }

  /** Versions of `secretId` created within the last 24 hours by the ledger's clock. */
  young(secretId: string): number {
    const since = this.#now().getTime() - VERSION_AGE_MS;
    let count = 0;
    for (const { at } of this.#bySecret.get(secretId)?.values() ?? []) if (at > since) count += 1;
    return count;
  }

  /**
   * Throws Secrets Manager's LimitExceededException when one more version would pass the cap.
   * `inFlight` counts versions admitted but not yet recorded (writes still on their way), so
   * concurrent writes cannot pass the cap together.
   */
  admit(secretId: string, inFlight = 0): void {
    if (this.young(secretId) + inFlight >= this.#cap) throw versionQuotaExceeded(secretId, this.#cap);
  }

  /** The value recorded with `versionId` of `secretId`, if the ledger has it. */
  valueOf(secretId: string, versionId: string): string | undefined {
    return this.#bySecret.get(secretId)?.get(versionId)?.value;
  }

  /** Records a new version of `secretId`, created now (or at `at`, epoch ms), with its value if kept. */
  record(secretId: string, versionId: string, options: { at?: number; value?: string } = {}): void {
    const versions = this.#bySecret.get(secretId) ?? new Map<string, Version>();
    versions.set(versionId, { at: options.at ?? this.#now().getTime(), value: options.value });
    if (versions.size > SECRET_VERSION_QUOTA) {
      const since = this.#now().getTime() - VERSION_AGE_MS;
      for (const [id, { at }] of versions) {
        if (versions.size <= SECRET_VERSION_QUOTA) break;
        if (at <= since && id !== versionId) versions.delete(id);
      }
    }
    this.#bySecret.set(secretId, versions);
  }

  /** Forgets `secretId`'s versions (the secret was deleted). */
  forget(secretId: string): void {
    this.#bySecret.delete(secretId);
  }
}
