/**
 * The save protocol: what a save writes, given what its request loaded. Unchanged data moves the
 * expiry at most; changed data is written over the version loaded, and after a conflict this
 * request's own changes are re-applied onto the fresh copy; a session gone meanwhile is never
 * written back. No decision rests on the process's cache, which only saves expiry-only writes.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { debuglog } from 'node:util';
import type { LruCache } from '../cache.js';
import { nowSec } from '../clock.js';
import { SessionConflictError } from '../errors.js';
import {
  type Item,
  type ItemFormat,
  type PreparedData,
  prepareData,
  type SessionRecord,
} from '../format/item.js';
import { keyTag } from '../format/keys.js';
import type { ResolvedOptions } from '../options.js';
import type { StatsRecorder } from '../stats.js';
import { isConditionFailure } from '../transport/counted.js';
import type { TableTransport } from '../transport/types.js';
import { putInput, touchInput } from './conditions.js';
import { applyChanges, type OwnChanges, ownChanges } from './merge.js';

const debug = debuglog('dynamodb-sessions');

/** Attempts of one save before `SessionConflictError`: each conflict means another request's write landed. */
const maxSaveAttempts = 16;

/** One save's facts. @internal */
export interface SaveRequest<T> {
  id: string;
  key: string;
  /** The data this request saves, and its plain form. */
  data: T;
  prepared: PreparedData;
  expires: number;
  /** What the request loaded (or what an earlier save of it returned); `null`: nothing, a new session. */
  loaded: SessionRecord<T> | null;
  /** The caller did not say what it loaded: the session is replaced whole, whatever changed meanwhile. */
  overwrite: boolean;
}

/** What the writer needs of its engine. @internal */
export interface WriterParts<T> {
  options: ResolvedOptions<T>;
  format: ItemFormat<T>;
  transport: TableTransport;
  cache: LruCache<number>;
  recorder: StatsRecorder;
  capacityInput: { ReturnConsumedCapacity?: 'TOTAL' };
}

/**
 * Whether a touch must write: the expiry moves earlier, or later by `touchAfter` or by a fifth of
 * the session's lifetime, whichever is less. So the item's expiry never lags the cookie's by more
 * than that, and a lifetime shorter than `touchAfter` still keeps an active session alive.
 * @internal
 */
export function touchDue(storedSec: number, nextSec: number, touchAfter: number, nowSec: number): boolean {
  if (nextSec < storedSec) return true;
  const lifetimeSec = nextSec - nowSec;
  return nextSec - storedSec >= Math.min(touchAfter, lifetimeSec / 5);
}

/** Writes sessions by the save protocol. @internal */
export class SessionWriter<T> {
  /**
   * What a request's data was before its own changes, for records returned after a merge: their data
   * holds other requests' changes too, which this request must not count as its own.
   */
  readonly #origins = new WeakMap<SessionRecord<T>, Record<string, unknown>>();

  constructor(private readonly parts: WriterParts<T>) {}

  /**
   * Saves a session against what its request loaded; returns what a later save of the same request
   * compares against: the session as now stored (or as before, when nothing was written).
   */
  async save(s: SaveRequest<T>): Promise<SessionRecord<T> | null> {
    const loaded = s.loaded;
    const origin = loaded ? (this.#origins.get(loaded) ?? (loaded.data as Record<string, unknown>)) : {};
    let changes: OwnChanges | undefined;
    let data = s.data;
    let prepared = s.prepared;
    if (loaded && origin !== loaded.data) {
      // an earlier save of this request merged other requests' changes: keep them
      changes = ownChanges(origin, s.prepared.plain, s.data as Record<string, unknown>);
      data = applyChanges(loaded.data as Record<string, unknown>, changes) as T;
      prepared = prepareData(data);
    }
    if (loaded && prepared.digest === loaded.digest) return this.#touchLoaded(s, loaded, s.expires);
    let base = loaded;
    let expires = s.expires;
    for (let attempt = 1; ; attempt++) {
      const version = (base?.version ?? 0) + 1;
      const item = this.parts.format.toItem(s.key, data, prepared, expires, version);
      const failure = await this.#put(item, base ? base.version : null);
      if (failure === undefined) {
        this.parts.cache.set(s.id, expires);
        const record = { data: prepared.plain as T, expiresAtSec: expires, version, digest: prepared.digest };
        if (data !== s.data) this.#origins.set(record, origin);
        return record;
      }
      const fresh = await this.#foundInstead(failure, s);
      if (!fresh) {
        this.#gone(s.id, s.key, 'PutItem');
        return loaded;
      }
      if (attempt >= maxSaveAttempts) throw new SessionConflictError(attempt);
      this.parts.recorder.conflicts++;
      debug('session %s changed meanwhile (version %d): re-applying this save', keyTag(s.key), fresh.version);
      if (!s.overwrite) {
        changes ??= ownChanges(origin, s.prepared.plain, s.data as Record<string, unknown>);
        data = applyChanges(fresh.data as Record<string, unknown>, changes) as T;
        prepared = prepareData(data);
      }
      expires = Math.max(s.expires, fresh.expiresAtSec);
      base = fresh;
      if (prepared.digest === fresh.digest) {
        // what this request saves is there already: at most the expiry moves
        if (data !== s.data) this.#origins.set(fresh, origin);
        return this.#touchLoaded(s, fresh, expires);
      }
      // full jitter: concurrent savers of one session spread out instead of colliding again
      await delay(Math.random() * Math.min(100, 4 * 2 ** attempt));
    }
  }

  /**
   * Moves the expiry of a session whose loaded state is not known (`touch`), using the cache only to
   * skip a write this process made already. Never creates an item.
   */
  async touch(id: string, key: string, expires: number): Promise<void> {
    const cached = this.parts.cache.get(id);
    if (cached !== undefined && !touchDue(cached, expires, this.parts.options.touchAfter, Date.now() / 1000))
      return;
    await this.#writeExpiry(id, key, expires);
  }

  /** An unchanged loaded session: the expiry alone, when it moves earlier or is due to move later. */
  async #touchLoaded(
    s: SaveRequest<T>,
    loaded: SessionRecord<T>,
    expires: number,
  ): Promise<SessionRecord<T>> {
    if (expires >= loaded.expiresAtSec) {
      // another request of this process may have moved it already: the cache only saves that write
      const stored = Math.max(loaded.expiresAtSec, this.parts.cache.get(s.id) ?? 0);
      if (expires < stored || !touchDue(stored, expires, this.parts.options.touchAfter, Date.now() / 1000))
        return loaded;
    }
    if (!(await this.#writeExpiry(s.id, s.key, expires))) return loaded;
    const touched = { ...loaded, expiresAtSec: expires };
    const origin = this.#origins.get(loaded);
    if (origin) this.#origins.set(touched, origin);
    return touched;
  }

  /** An expiry-only write; `false` when the session was gone. */
  async #writeExpiry(id: string, key: string, expires: number): Promise<boolean> {
    try {
      await this.parts.transport.updateItem({
        ...touchInput(this.parts.options, key, expires, nowSec()),
        ...this.parts.capacityInput,
      });
      this.parts.cache.set(id, expires);
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      this.#gone(id, key, 'UpdateItem');
      return false;
    }
  }

  /** A conditional put; the failure when its condition did not hold, else `undefined`. */
  async #put(item: Item, loadedVersion: number | null): Promise<unknown> {
    try {
      const input = putInput(this.parts.options, item, loadedVersion, nowSec());
      await this.parts.transport.putItem({ ...input, ...this.parts.capacityInput });
      return undefined;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return err;
    }
  }

  /**
   * The session a failed conditional write found: DynamoDB returned it, or it is read now; `null`
   * when it is gone. A live item whose data is not a session this store trusts (not sealed while
   * encryption is on) reads as no session: a new session or a whole replacement may take its place
   * (as an empty session of its version); a save of changes to what was loaded may not.
   */
  async #foundInstead(failure: unknown, s: SaveRequest<T>): Promise<SessionRecord<T> | null> {
    const key = s.key;
    const returned: unknown = Reflect.get(failure as object, 'Item');
    let item = returned && typeof returned === 'object' ? (returned as Item) : undefined;
    if (!item) {
      const o = this.parts.options;
      const out = await this.parts.transport.getItem({
        TableName: o.tableName,
        Key: { [o.hashKey]: { S: key } },
        ConsistentRead: true,
        ...this.parts.capacityInput,
      });
      item = out.Item;
    }
    if (!item) return null;
    const now = nowSec();
    const record = this.parts.format.fromItem(item, now);
    if (record) return record;
    const version = this.parts.format.liveVersion(item, now);
    if (version === null || (s.loaded !== null && !s.overwrite)) return null;
    const empty = prepareData({});
    return { data: empty.plain as T, expiresAtSec: now, version, digest: empty.digest };
  }

  /** A write not made because the session is gone: destroyed, deleted or expired since it was loaded. */
  #gone(id: string, key: string, operation: string): void {
    this.parts.cache.delete(id);
    this.parts.recorder.skipped++;
    debug('%s of session %s skipped: it was destroyed, deleted or expired meanwhile', operation, keyTag(key));
  }
}
