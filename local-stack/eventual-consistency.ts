/**
 * Secrets Manager's eventual consistency, as its API reference states it: "All Secrets Manager
 * operations are eventually consistent. ListSecrets might not reflect changes from the last five
 * minutes. You can get more recent information for a specific secret by calling DescribeSecret."
 *
 * A lagging view keeps snapshots of the true answer, each stamped with the time it was read, and
 * answers from a snapshot no older than the lag. It can only lag to a state it has seen: a snapshot
 * is taken at each first-page ListSecrets call (and each DescribeSecret call), so a listing at a
 * sweep's tick can answer with the state of any earlier tick within the lag, never with a state
 * from before the first call or from the future. One engine serves both the in-memory double and
 * the client middleware, so both lag the same way.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  InvalidNextTokenException,
  type ListSecretsCommandInput,
  type SecretListEntry,
} from '@aws-sdk/client-secrets-manager';

/** How far ListSecrets may lag behind the true state: AWS's documented five minutes. */
export const LIST_SECRETS_LAG_MS = 5 * 60_000;

/** The most entries ListSecrets returns in one page (its `MaxResults` range is 1 to 100). */
export const LIST_SECRETS_PAGE_LIMIT = 100;

/**
 * Which snapshot within the lag answers: `'oldest'` the worst case AWS allows (the oldest state
 * seen within the window), `'fresh'` the state read now (no lag), `'random'` a snapshot drawn with
 * the given `random()` (seeded in tests, so a failure replays).
 */
export type LagChoice = 'oldest' | 'fresh' | 'random';

/** How a view lags. */
export interface LagOptions {
  /** The most a state may be behind, in ms; 0 answers every call fresh. */
  lagMs: number;
  /** Which snapshot within the lag answers; `'oldest'` when absent. */
  choice?: LagChoice | undefined;
  /** Draws for `choice: 'random'`, in [0, 1). */
  random?: (() => number) | undefined;
  /** The stack's clock: snapshots are stamped and aged by it. */
  now: () => Date;
}

/** Snapshots kept per request: the oldest within the lag and the newest ones. */
const SNAPSHOTS_PER_KEY = 32;
/** Snapshots whose pages a NextToken may still name. */
const PAGED_SNAPSHOTS = 64;
/** A full listing read through a lagging view stops here: 1,000 pages of 100 secrets. */
export const MAX_LISTING_PAGES = 1000;

/** One answer as it was read, and when (epoch ms, by the view's clock). */
export interface Snapshot<T> {
  id: number;
  at: number;
  value: T;
}

function checkLag(options: LagOptions): void {
  if (!Number.isFinite(options.lagMs) || options.lagMs < 0) {
    throw new RangeError(`lagMs must be a finite number of ms >= 0, got ${options.lagMs}`);
  }
  if (options.choice === 'random' && !options.random) {
    throw new TypeError("choice 'random' needs a random() (seed it, so a failing run replays)");
  }
}

/**
 * Snapshots of one kind of answer, keyed by request, and the choice of the one that answers.
 *
 * @example
 * ```ts
 * const history = new SnapshotHistory<string[]>({ lagMs: 300_000, now: clock.now });
 * const { value } = await history.read('all', readFresh); // the oldest state seen in 5 minutes
 * ```
 */
export class SnapshotHistory<T> {
  readonly #options: LagOptions;
  readonly #byKey = new Map<string, Snapshot<T>[]>();
  #nextId = 1;

  constructor(options: LagOptions) {
    checkLag(options);
    this.#options = options;
  }

  /**
   * Reads the true answer for `key` with `read`, keeps it as a snapshot stamped with the time the
   * read began (so a slow read never makes a state look younger than it is), and returns the
   * snapshot that answers instead: one stamped within (now - lag, now], so a lag of 0 always
   * answers what was just read.
   */
  async read(key: string, read: () => Promise<T>): Promise<Snapshot<T>> {
    const began = this.#options.now().getTime();
    const fresh = structuredClone(await read());
    const at = this.#options.now().getTime();
    // A state read exactly `lag` ago may already be superseded by a write of that same instant.
    const kept = (this.#byKey.get(key) ?? []).filter((s) => s.at > at - this.#options.lagMs && s.at <= at);
    let current = kept[kept.length - 1];
    if (current && current.at <= began && isDeepStrictEqual(current.value, fresh)) {
      // Unchanged since the newest snapshot: it is the true state at `began` too. Restamping it
      // keeps one snapshot per distinct state, answering for a full lag from its last sighting.
      current.at = began;
    } else {
      current = { id: this.#nextId++, at: began, value: fresh };
      kept.push(current);
      // Reads that overlapped may end out of order: keep the snapshots by age.
      kept.sort((a, b) => a.at - b.at || a.id - b.id);
      // Bounded memory under many changes: drop the second oldest, so the worst case stays.
      if (kept.length > SNAPSHOTS_PER_KEY) kept.splice(1, 1);
    }
    this.#byKey.set(key, kept);
    return this.#choose(kept, current);
  }

  #choose(kept: Snapshot<T>[], current: Snapshot<T>): Snapshot<T> {
    const choice = this.#options.choice ?? 'oldest';
    if (choice === 'fresh') return current;
    if (choice === 'oldest') return kept[0] ?? current;
    const draw = (this.#options.random as () => number)();
    const index = Math.min(kept.length - 1, Math.max(0, Math.floor(draw * kept.length)));
    return kept[index] ?? current;
  }
}

/** A ListSecrets answer. */
export interface ListSecretsPage {
  SecretList: SecretListEntry[];
  NextToken?: string;
}

/** Reads the true, complete listing for a request (without NextToken and MaxResults). */
export type ReadListing = (input: ListSecretsCommandInput) => Promise<SecretListEntry[]>;

/** The request a snapshot answers: everything but the paging fields, in a stable order. */
function listingKey(input: ListSecretsCommandInput): string {
  const { NextToken: _token, MaxResults: _max, ...rest } = input;
  const fields = rest as Record<string, unknown>;
  return JSON.stringify(
    Object.keys(fields)
      .sort()
      .map((name) => [name, fields[name]]),
  );
}

function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined) return LIST_SECRETS_PAGE_LIMIT;
  return Math.min(LIST_SECRETS_PAGE_LIMIT, Math.max(1, Math.floor(maxResults)));
}

function invalidToken(): InvalidNextTokenException {
  return new InvalidNextTokenException({
    message: 'The NextToken value is invalid.',
    $metadata: { httpStatusCode: 400 },
  });
}

/**
 * ListSecrets with a lag: each first-page call reads the true listing, keeps it as a snapshot, and
 * answers from the snapshot the lag choice picks; later pages come from that same snapshot, through
 * NextTokens of this view. Filters, SortOrder and IncludePlannedDeletion key the snapshots, so a
 * filtered request is answered from a filtered state.
 *
 * @example
 * ```ts
 * const listings = new LaggingListings({ lagMs: LIST_SECRETS_LAG_MS, now: clock.now });
 * const page = await listings.list({ Filters: [{ Key: 'name', Values: ['app/'] }] }, readAll);
 * ```
 */
export class LaggingListings {
  readonly #history: SnapshotHistory<SecretListEntry[]>;
  /** Snapshots a NextToken may name, with the request they answer; oldest first. */
  readonly #paged = new Map<number, { key: string; snapshot: Snapshot<SecretListEntry[]> }>();

  constructor(options: LagOptions) {
    this.#history = new SnapshotHistory(options);
  }

  /** Answers one ListSecrets call; `read` is called once per first page. */
  async list(input: ListSecretsCommandInput, read: ReadListing): Promise<ListSecretsPage> {
    const key = listingKey(input);
    const size = pageSize(input.MaxResults);
    if (input.NextToken !== undefined) {
      const match = /^lag-(\d{1,15})-(\d{1,9})$/.exec(input.NextToken);
      const paged = match ? this.#paged.get(Number(match[1])) : undefined;
      // A token of another request (other filters) is refused, not served from the wrong state.
      if (!match || !paged || paged.key !== key) throw invalidToken();
      return this.#page(paged.snapshot, Number(match[2]), size);
    }
    const { NextToken: _token, MaxResults: _max, ...request } = input;
    const snapshot = await this.#history.read(key, () => read(request));
    this.#paged.delete(snapshot.id);
    this.#paged.set(snapshot.id, { key, snapshot });
    for (const id of this.#paged.keys()) {
      if (this.#paged.size <= PAGED_SNAPSHOTS) break;
      this.#paged.delete(id);
    }
    return this.#page(snapshot, 0, size);
  }

  #page(snapshot: Snapshot<SecretListEntry[]>, start: number, size: number): ListSecretsPage {
    const end = start + size;
    const entries = snapshot.value;
    return {
      SecretList: structuredClone(entries.slice(start, end)),
      ...(end < entries.length ? { NextToken: `lag-${snapshot.id}-${end}` } : {}),
    };
  }
}

/**
 * Any per-secret read (DescribeSecret) with a lag: each call reads the true answer for its secret
 * and answers from the snapshot the lag choice picks among that secret's within the lag. A read
 * that fails (the secret is gone) fails now; only answers are kept.
 *
 * @example
 * ```ts
 * const describes = new LaggingReads<DescribeSecretResponse>({ lagMs: 60_000, now: clock.now });
 * const answer = await describes.read(secretId, () => freshDescribe(secretId));
 * ```
 */
export class LaggingReads<T> {
  readonly #history: SnapshotHistory<T>;

  constructor(options: LagOptions) {
    this.#history = new SnapshotHistory(options);
  }

  /** Answers one read of `key`; `read` gives the true answer now. */
  async read(key: string, read: () => Promise<T>): Promise<T> {
    return structuredClone((await this.#history.read(key, read)).value);
  }
}

/** Reads every page of a paged listing through `readPage`, bounded by {@link MAX_LISTING_PAGES}. */
export async function readAllPages(
  input: ListSecretsCommandInput,
  readPage: (input: ListSecretsCommandInput) => Promise<{ SecretList?: SecretListEntry[]; NextToken?: string }>,
): Promise<SecretListEntry[]> {
  const entries: SecretListEntry[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < MAX_LISTING_PAGES; pages++) {
    const page = await readPage({ ...input, MaxResults: LIST_SECRETS_PAGE_LIMIT, NextToken: token });
    entries.push(...(page.SecretList ?? []));
    token = page.NextToken;
    if (token === undefined) return entries;
  }
  throw new Error(`a listing ran past ${MAX_LISTING_PAGES} pages; the lagging view reads whole listings only`);
}
