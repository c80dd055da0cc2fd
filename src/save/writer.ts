/**
 * The save protocol: what a save writes, given what its request loaded. Unchanged data moves the
 * expiry at most; changed data is written over the version loaded, and after a conflict this
 * request's own changes are re-applied onto the fresh copy; a session gone meanwhile is never
 * written back. No decision rests on the process's cache, which only saves expiry-only writes.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { debuglog } from 'node:util';
import type { LruCache } from '../cache.js';
import { nowSec } from '../clock.js';
import { SessionConflictError, SessionIdInUseError, StoreUnavailableError } from '../errors.js';
import {
  baselineOf,
  type Item,
  type ItemFormat,
  type PreparedData,
  prepareData,
  recordOf,
  type SessionRecord,
} from '../format/item.js';
import { keyTag } from '../format/keys.js';
import { copyData, type Plain, samePlain, toPlain } from '../format/plain.js';
import type { ResolvedOptions } from '../options.js';
import type { StatsRecorder } from '../stats.js';
import { isConditionFailure } from '../transport/counted.js';
import { errorText } from '../transport/log.js';
import type { TableTransport } from '../transport/types.js';
import { deleteInput, putInput, touchInput } from './conditions.js';
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
  /**
   * The plain-id key `loaded` was read from: this save writes the session under `key` instead, then
   * deletes that item (and undoes the move when that item is gone meanwhile).
   */
  migrateFrom?: string | undefined;
  /**
   * The top-level keys that hold the session's lifetime (its cookie): a save that changes one has its
   * expiry written as it asks, even onto a copy another request changed meanwhile.
   */
  lifetimeKeys: readonly string[];
}

type Data = Record<string, unknown>;

/**
 * What an expiry-only write did: wrote; found the session destroyed or expired; found no item; or
 * found a newer version than the one loaded, whose expiry stands.
 */
export type TouchOutcome = 'written' | 'gone' | 'absent' | 'stale';

/** One save waiting for its session's earlier saves in this process. */
interface Job<T> {
  s: SaveRequest<T>;
  /** The data the request held before its own changes (what it loaded, unless it merged since). */
  origin: Data;
  /**
   * Its own changes against `origin`, worked out at the first call (a save whose data is as loaded,
   * or that is written as given, never needs them).
   */
  changes(): OwnChanges;
  resolve(record: SessionRecord<T> | null): void;
  reject(err: unknown): void;
}

/** The saves of one session waiting in this process, and what the last of them wrote. */
interface Queue<T> {
  jobs: Job<T>[];
  latest: SessionRecord<T> | undefined;
}

/**
 * The saves written together: a new session, a whole replacement or a move from the plain id alone;
 * else the saves in a row that re-apply changes.
 */
function takeBatch<T>(jobs: Job<T>[]): Job<T>[] {
  const first = jobs[0] as Job<T>;
  const alone = (j: Job<T>) => j.s.loaded === null || j.s.overwrite || j.s.migrateFrom !== undefined;
  if (alone(first)) return [first];
  const end = jobs.findIndex(alone);
  return end === -1 ? [...jobs] : jobs.slice(0, end);
}

/**
 * The version of a new session's first write: random, so that a save whose write landed but whose
 * answer was lost knows its own item from another session's under the same id.
 */
function firstVersion(): number {
  return randomInt(1, 2 ** 31);
}

/** Whether two values have the same stored form. */
function sameStored(a: unknown, b: unknown): boolean {
  return JSON.stringify(toPlain(a)) === JSON.stringify(toPlain(b));
}

/** The record of the highest version. */
function newest<T>(records: (SessionRecord<T> | null | undefined)[]): SessionRecord<T> | null {
  let best: SessionRecord<T> | null = null;
  for (const r of records) if (r && (!best || r.version > best.version)) best = r;
  return best;
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
  /** Live items found with data that is not a session this store trusts. */
  readonly #untrusted = new WeakSet<SessionRecord<T>>();
  /** The saves of each session waiting in this process, and what the last of them wrote. */
  readonly #queues = new Map<string, Queue<T>>();

  constructor(private readonly parts: WriterParts<T>) {}

  /**
   * Saves a session against what its request loaded; returns what a later save of the same request
   * compares against: the session as now stored (or as before, when nothing was written). The changed
   * saves of one session in this process wait for each other, and those waiting together are written
   * as one: they would only conflict with each other. A save that writes nothing (unchanged data, its
   * expiry not due) returns its record at once, not a promise: the adapters call back in the same
   * tick, as express-session needs to send its answer in one piece.
   */
  save(s: SaveRequest<T>): SessionRecord<T> | null | Promise<SessionRecord<T> | null> {
    const loaded = s.loaded;
    // what the request loaded, as loaded: never the objects the app holds and changes in place
    const base = loaded ? (baselineOf(loaded) as Data) : undefined;
    const origin = loaded ? (this.#origins.get(loaded) ?? (base as Data)) : {};
    if (loaded && base) {
      // unchanged against what it last saw stored: at most the expiry moves, without waiting
      const data =
        s.overwrite || origin === base
          ? s.data
          : (applyChanges(base, ownChanges(origin, s.prepared.plain, s.data as Data)) as T);
      // walking the data against the loaded copy is cheaper than its JSON text, and enough when equal
      const same =
        data === s.data
          ? samePlain(data, base as Plain) || s.prepared.json === loaded.json
          : prepareData(data).json === loaded.json;
      if (same) {
        if (!this.#expiryDue(s.id, loaded, s.expires)) return loaded;
        // under its plain id: the due write is a whole save, which moves it to its hashed key
        if (s.migrateFrom === undefined) return this.#touchLoaded(s.id, s.key, loaded, s.expires);
      }
    }
    // data that cannot be stored is refused here, before it joins the queue (its plain form checks it)
    void s.prepared.plain;
    // a copy: the app may change its session again before this write is sent
    const queued: SaveRequest<T> = { ...s, data: copyData(s.data) };
    let own: OwnChanges | undefined;
    const changes = () => (own ??= ownChanges(origin, queued.prepared.plain, queued.data as Data));
    let q = this.#queues.get(s.id);
    if (!q) {
      q = { jobs: [], latest: undefined };
      this.#queues.set(s.id, q);
    }
    const queue = q;
    return new Promise((resolve, reject) => {
      queue.jobs.push({ s: queued, origin, changes, resolve, reject });
      if (queue.jobs.length === 1) void this.#drain(s.id, queue);
    });
  }

  /** Writes the queued saves of one session, a batch at a time, until none is left. */
  async #drain(id: string, q: Queue<T>): Promise<void> {
    while (q.jobs.length > 0) {
      const batch = takeBatch(q.jobs);
      let taken = batch.length;
      try {
        const results = await this.#write(batch, q);
        for (const [i, job] of batch.entries()) job.resolve(results[i] ?? null);
      } catch (err) {
        if (err instanceof SessionConflictError) {
          // the session kept changing through every attempt: the saves that waited behind them met
          // the same conflicts, and fail with them (one budget per save, batched or queued, not one each)
          taken = q.jobs.length;
          for (const job of q.jobs) job.reject(err);
        } else if (batch.length === 1 || err instanceof StoreUnavailableError) {
          for (const job of batch) job.reject(err);
        } else {
          // what one save holds (too large, say) must not fail the others: each on its own
          for (const job of batch)
            await this.#write([job], q).then((r) => job.resolve(r[0] ?? null), job.reject);
        }
      }
      q.jobs.splice(0, taken);
    }
    this.#queues.delete(id);
  }

  /**
   * Writes a batch of saves of one session as one: each save's own changes applied, in order, onto
   * the newest stored state known, over its version; after a conflict, onto the fresh copy again.
   */
  async #write(batch: Job<T>[], q: Queue<T>): Promise<(SessionRecord<T> | null)[]> {
    const first = batch[0] as Job<T>;
    const s = first.s;
    const fresh0 = newest([q.latest, ...batch.map((j) => j.s.loaded)]);
    const wanted = Math.max(...batch.map((j) => j.s.expires));
    // a new session or a whole replacement is written as given; loaded saves re-apply their changes
    const compose = (onto: SessionRecord<T> | null): T => {
      if (s.overwrite || onto === null) return s.data;
      const stored = baselineOf(onto) as Data;
      // the common case: one save over what its request loaded is its data as given
      if (batch.length === 1 && onto === s.loaded && first.origin === stored) return s.data;
      return batch.reduce<Data>((data, job) => applyChanges(data, job.changes()), stored) as T;
    };
    // a session moving from its plain id is written under its key as new (or onto what another
    // request moved there already)
    const moving = s.migrateFrom !== undefined;
    const isNew = s.loaded === null && !s.overwrite && !moving;
    let base = (s.loaded === null && !s.overwrite) || moving ? null : fresh0;
    for (const job of batch)
      if (base && (job.s.loaded?.version ?? 0) < base.version) this.parts.recorder.conflicts++;
    // a new session whose id this process just wrote: found as if its write had failed
    let fresh: SessionRecord<T> | null | undefined = base === null && q.latest ? q.latest : undefined;
    let data = compose(base);
    let prepared = data === s.data ? s.prepared : prepareData(data);
    let expires = base && base !== s.loaded ? this.#expiryOver(base, batch, wanted) : wanted;
    /** This save's last write: a failure may have found it landed (its answer lost). */
    let written: { version: number; json: string } | undefined;
    for (let attempt = 1; ; attempt++) {
      if (fresh !== undefined) {
        if (!fresh) {
          this.#gone(s.id, s.key, 'PutItem');
          return batch.map(() => null);
        }
        const ownWrite = written?.version === fresh.version && written.json === fresh.json;
        // a new session never takes a live session's place, whatever its data: its id is not unique
        if (isNew && !ownWrite && !this.#untrusted.has(fresh)) throw new SessionIdInUseError();
        if (fresh.json !== prepared.json) {
          if (attempt > maxSaveAttempts) throw new SessionConflictError(attempt - 1);
          this.parts.recorder.conflicts += batch.length;
          debug('session %s changed meanwhile (version %d): re-applying', keyTag(s.key), fresh.version);
        }
        base = fresh;
        data = compose(fresh);
        prepared = data === s.data ? s.prepared : prepareData(data);
        expires = this.#expiryOver(fresh, batch, wanted);
      }
      if (base && prepared.json === base.json) {
        // what these saves hold is stored already (also: an earlier attempt that landed, its answer
        // lost): at most the expiry moves
        const touched =
          expires === base.expiresAtSec ? base : await this.#touchLoaded(s.id, s.key, base, expires);
        return batch.map((j) => (touched ? this.#keepOrigin(touched, j) : null));
      }
      const created = base === null;
      const version = base ? base.version + 1 : firstVersion();
      const item = this.parts.format.toItem(s.key, data, prepared, expires, version);
      written = { version, json: prepared.json };
      const failure = await this.#put(item, base ? base.version : null);
      if (failure === undefined) {
        this.parts.cache.set(s.id, expires);
        const record = recordOf(prepared.plain as T, expires, version, prepared.json);
        q.latest = record;
        if (moving && !(await this.#finishMove(s, created, version))) {
          q.latest = undefined;
          this.#gone(s.id, s.key, 'PutItem');
          return batch.map(() => null);
        }
        return batch.map((j) => this.#keepOrigin(record, j));
      }
      fresh = await this.#foundInstead(failure, s);
      if (fresh && attempt > 1) {
        // a busy session: wait a random while (full jitter, so that concurrent savers spread out),
        // then read it again, so that what is re-applied onto is a moment old, not the wait's length
        await delay(Math.random() * Math.min(100, 4 * 2 ** attempt));
        fresh = await this.#foundInstead(undefined, s);
      }
    }
  }

  /**
   * The expiry of saves written onto `fresh`, a copy newer than some of them loaded. A save that
   * changed the session's lifetime (its cookie) has its own expiry written: the later write wins, for
   * the lifetime as for any key ("remember me" turned off stays off). When another request changed the
   * lifetime, its expiry stands. Else the later of the two: a request kept the session alive.
   */
  #expiryOver(fresh: SessionRecord<T>, batch: Job<T>[], wanted: number): number {
    const first = batch[0] as Job<T>;
    const keys = first.s.lifetimeKeys;
    if (first.s.overwrite || keys.length === 0) return Math.max(wanted, fresh.expiresAtSec);
    let own: number | undefined;
    for (const job of batch) {
      const c = job.changes();
      if (keys.some((k) => c.set.has(k) || c.deleted.includes(k))) own = job.s.expires;
    }
    if (own !== undefined) return own;
    const stored = baselineOf(fresh) as Data;
    if (keys.some((k) => !sameStored(stored[k], first.origin[k]))) return fresh.expiresAtSec;
    return Math.max(wanted, fresh.expiresAtSec);
  }

  /**
   * `record` as a job's next `loaded`: a later save of the same request counts as its own only what
   * it changes against the data it held (whole replacements hold no one else's data).
   */
  #keepOrigin(record: SessionRecord<T>, job: Job<T>): SessionRecord<T> {
    if (job.s.overwrite || record.json === job.s.prepared.json) return record;
    const next = recordOf(baselineOf(record), record.expiresAtSec, record.version, record.json);
    this.#origins.set(next, applyChanges(job.origin, job.changes()));
    return next;
  }

  /**
   * Moves the expiry of a session whose loaded state is not known (`touch`), using the cache only to
   * skip a write this process made already. Never creates an item.
   */
  async touch(id: string, key: string, expires: number): Promise<TouchOutcome> {
    const cached = this.parts.cache.get(id);
    if (cached !== undefined && !touchDue(cached, expires, this.parts.options.touchAfter, Date.now() / 1000))
      return 'written';
    return this.#writeExpiry(id, key, expires);
  }

  /** Whether an unchanged session's expiry must be written: it moves earlier, or is due to move later. */
  #expiryDue(id: string, loaded: SessionRecord<T>, expires: number): boolean {
    if (expires < loaded.expiresAtSec) return true;
    // another request of this process may have moved it already: the cache only saves that write
    const stored = Math.max(loaded.expiresAtSec, this.parts.cache.get(id) ?? 0);
    return expires >= stored && touchDue(stored, expires, this.parts.options.touchAfter, Date.now() / 1000);
  }

  /** An unchanged loaded session whose expiry is due: the expiry alone. */
  async #touchLoaded(
    id: string,
    key: string,
    loaded: SessionRecord<T>,
    expires: number,
  ): Promise<SessionRecord<T> | null> {
    const outcome = await this.#writeExpiry(id, key, expires, loaded.version);
    // a newer version's expiry stands: what was loaded is still what this request knows
    if (outcome === 'stale') return loaded;
    if (outcome !== 'written') return null;
    const touched = recordOf(baselineOf(loaded), expires, loaded.version, loaded.json);
    const origin = this.#origins.get(loaded);
    if (origin) this.#origins.set(touched, origin);
    return touched;
  }

  /**
   * An expiry-only write, over the version loaded when it is given: `'gone'` when the item was there
   * but destroyed or expired, `'absent'` when there was no item (DynamoDB returns the item a failed
   * condition found), `'stale'` when a newer version was written meanwhile (its expiry stands).
   */
  async #writeExpiry(
    id: string,
    key: string,
    expires: number,
    loadedVersion?: number,
  ): Promise<TouchOutcome> {
    try {
      await this.parts.transport.updateItem({
        ...touchInput(this.parts.options, key, expires, nowSec(), loadedVersion),
        ...this.parts.capacityInput,
      });
      this.parts.cache.set(id, expires);
      return 'written';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const found: unknown = Reflect.get(err as object, 'Item');
      if (found === undefined) {
        this.#gone(id, key, 'UpdateItem');
        return 'absent';
      }
      if (loadedVersion !== undefined && this.parts.format.liveVersion(found as Item, nowSec()) !== null) {
        this.#gone(id, key, 'UpdateItem', 'a newer version was written meanwhile');
        return 'stale';
      }
      this.#gone(id, key, 'UpdateItem');
      return 'gone';
    }
  }

  /** Deletes a session's item under its plain id (a destroy's, when one is there). */
  async deletePlain(plainKey: string): Promise<void> {
    await this.parts.transport.deleteItem({
      ...deleteInput(this.parts.options, plainKey),
      ...this.parts.capacityInput,
    });
  }

  /**
   * After a session is written under its hashed key, deletes the plain-id item it was loaded from,
   * while that item is still the version loaded. When it is not (destroyed meanwhile), a move that
   * created the hashed item undoes it, and returns `false`: a logout stays final.
   */
  async #finishMove(s: SaveRequest<T>, created: boolean, version: number): Promise<boolean> {
    const o = this.parts.options;
    const plainKey = s.migrateFrom as string;
    try {
      await this.parts.transport.deleteItem({
        ...deleteInput(o, plainKey, s.loaded?.version ?? 0),
        ...this.parts.capacityInput,
      });
      debug('session %s moved to its hashed key', keyTag(plainKey));
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) {
        // the session is saved: the old item is never read while the new one exists, a destroy
        // deletes it too, and it expires when it was due to
        debug('session %s moved; its old item stays until it expires: %s', keyTag(plainKey), errorText(err));
        return true;
      }
      // another request moved it first (this save was written onto that copy): nothing to undo
      if (!created) return true;
    }
    try {
      await this.parts.transport.deleteItem({
        ...deleteInput(o, s.key, version),
        ...this.parts.capacityInput,
      });
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    return false;
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
   * The session a failed conditional write found: DynamoDB returned it, or it is read now (as when
   * there is no `failure`); `null`
   * when it is gone. A live item whose data is not a session this store trusts (not sealed while
   * encryption is on) reads as no session: a new session or a whole replacement may take its place
   * (as an empty session of its version); a save of changes to what was loaded may not.
   */
  async #foundInstead(failure: unknown, s: SaveRequest<T>): Promise<SessionRecord<T> | null> {
    const key = s.key;
    const returned: unknown = failure === undefined ? undefined : Reflect.get(failure as object, 'Item');
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
    const placeholder = recordOf(empty.plain as T, now, version, empty.json);
    this.#untrusted.add(placeholder);
    return placeholder;
  }

  /**
   * A write not made: the session is gone (destroyed, deleted or expired since it was loaded), or, for
   * an expiry-only write, a newer version's expiry stands.
   */
  #gone(
    id: string,
    key: string,
    operation: string,
    why = 'it was destroyed, deleted or expired meanwhile',
  ): void {
    this.parts.cache.delete(id);
    this.parts.recorder.skipped++;
    debug('%s of session %s skipped: %s', operation, keyTag(key), why);
  }
}
