/**
 * A Map with a size bound that forgets its least recently used key first. The reader keys its
 * state by names that workloads may derive from request input (a tenant id), so nothing it keeps
 * per name may grow without bound.
 */
export class LruMap<K, V> {
  private readonly items = new Map<K, V>();
  // The most recently used key: touching it again needs no reordering (the hot path of a cache hit).
  private newest: K | undefined;

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.items.size;
  }

  /** The value of `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    const value = this.items.get(key);
    if (value === undefined || key === this.newest) return value;
    // A Map iterates in insertion order: re-inserting moves the key to the newest end.
    this.items.delete(key);
    this.items.set(key, value);
    this.newest = key;
    return value;
  }

  /** The value of `key`, without changing the order. */
  peek(key: K): V | undefined {
    return this.items.get(key);
  }

  /** Sets `key` as the most recently used; the least recently used ones go while over the bound. */
  set(key: K, value: V): void {
    this.items.delete(key);
    this.items.set(key, value);
    this.newest = key;
    for (const oldest of this.items.keys()) {
      if (this.items.size <= this.maxEntries) break;
      this.delete(oldest);
    }
  }

  delete(key: K): boolean {
    if (key === this.newest) this.newest = undefined;
    return this.items.delete(key);
  }

  clear(): void {
    this.items.clear();
    this.newest = undefined;
  }

  /** Entries from the least to the most recently used. */
  entries(): IterableIterator<[K, V]> {
    return this.items.entries();
  }
}
