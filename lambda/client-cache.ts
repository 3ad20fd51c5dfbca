/**
 * The client documents a warm rotator has read, keyed by credential and the client secret's
 * version id. The client document changes rarely (only the provider writes it) and its writer
 * tags the token secret with the new version id, so a sweep that lists token secrets knows when
 * its copy is stale without reading it: a steady-state refresh reads nothing but the issuer.
 */
import type { ClientSecretVersion } from '../core/store';

/** Most entries kept: one per credential; past it the oldest read goes first. */
const DEFAULT_MAX_ENTRIES = 20_000;

/** A per-container cache of client documents (create one per handler, never share across accounts). */
export class ClientDocumentCache {
  readonly #entries = new Map<string, ClientSecretVersion>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  /**
   * The cached document of `credential` when it was read at `versionId`; `undefined` when the
   * version is unknown (the listing carried no client version tag) or differs (the client document changed).
   */
  get(credential: string, versionId: string | undefined): ClientSecretVersion | undefined {
    if (versionId === undefined) return undefined;
    const entry = this.#entries.get(credential);
    return entry?.versionId === versionId ? entry : undefined;
  }

  /** Keeps what was just read (a read without a version id is not cacheable). */
  set(credential: string, read: ClientSecretVersion): void {
    if (read.versionId === undefined) return;
    this.#entries.delete(credential);
    this.#entries.set(credential, read);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** Forgets `credential`: its document failed at the issuer, so the next attempt reads it afresh. */
  delete(credential: string): void {
    this.#entries.delete(credential);
  }

  get size(): number {
    return this.#entries.size;
  }
}
