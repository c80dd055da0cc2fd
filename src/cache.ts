/** What this process last read or wrote for a session id. @internal */
export interface CacheEntry {
  /** Digest of the stored data (sorted JSON), to recognise an unchanged session. */
  digest: string;
  /** The item's stored expiry, epoch seconds. */
  expiresAtSec: number;
}

/** A bounded least-recently-used map: a Map keeps insertion order, so the first key is the oldest. @internal */
export class LruCache {
  private readonly entries = new Map<string, CacheEntry>();
  constructor(private readonly max: number) {}

  get(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: CacheEntry): void {
    if (this.max === 0) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
