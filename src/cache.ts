/**
 * What this process last read or wrote of a session's expiry, by session id. It only saves writes
 * (an expiry-only write another request of this process already made); no decision about what is
 * stored rests on it, so a session evicted from it, or `cacheSize: 0`, costs at most a write.
 */

/** A bounded least-recently-used map: a Map keeps insertion order, so the first key is the oldest. @internal */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: V): void {
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
