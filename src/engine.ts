/**
 * The storage engine: load, save, touch and destroy a session. It decides what to write (nothing,
 * the expiry alone, or the whole session) and under which condition; `format/` says how a session
 * is stored, `transport/` how a call reaches DynamoDB.
 */
import { debuglog } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LruCache } from './cache.js';
import { nowSec } from './clock.js';
import { DEFAULTS } from './defaults.js';
import { InvalidArgumentError, InvalidSessionIdError } from './errors.js';
import {
  handOut,
  type Item,
  ItemFormat,
  type PreparedData,
  prepareData,
  type SessionRecord,
} from './format/item.js';
import { keyTag, maxKeyBytes, type SessionKeys, sessionKeysOf } from './format/keys.js';
import { missingTableAdvice, whereOf } from './missing-table.js';
import { type EngineOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { removeSessionItem } from './save/conditions.js';
import { SessionWriter } from './save/writer.js';
import { StatsRecorder, type StatsSnapshot } from './stats.js';
import { countedTransport } from './transport/counted.js';
import { directTransport, hasOnlySdkMiddleware } from './transport/direct.js';
import { sdkTransport } from './transport/sdk.js';
import type { TableTransport } from './transport/types.js';
import {
  type DestroyUserSessionsOptions,
  type DestroyUserSessionsResult,
  destroyUserSessions,
  type ListUserSessionsOptions,
  listUserSessions,
  type UserSession,
  type UserTable,
} from './users.js';

/** What a caller of `set` knows about the session it saves. @public */
export interface SetOptions<T> {
  /**
   * What this request loaded: the record `load` returned, or `null` when it loaded nothing (a new
   * session). Unchanged data then costs at most an expiry-only write; changed data is written only
   * over the version it loaded, and re-applied onto a copy changed meanwhile by another request.
   * Left out, `set` reads the item first (one more read) and replaces it whole.
   */
  loaded?: SessionRecord<T> | null;
  /**
   * The top-level keys that hold the session's lifetime (a framework's cookie fields). When this save
   * changes one and another request changed the session meanwhile, this save's expiry is written
   * (the later write wins, for the lifetime as for any key); when only the other request changed
   * one, its expiry stands. Left out, a merged save keeps the later of the two expiries.
   */
  lifetimeKeys?: readonly string[];
}

/** What the tests of this package reach inside an engine. @internal */
export interface EngineInternals<T> {
  options: ResolvedOptions<T>;
  /** The client the calls go through; `undefined` on an in-memory table. */
  client: DynamoDBClient | undefined;
}

const debug = debuglog('dynamodb-sessions');

let injected: TableTransport | undefined;
let internalsOf: <T extends object>(engine: SessionEngine<T>) => EngineInternals<T>;

/**
 * The storage engine: every DynamoDB call of every adapter goes through it.
 * @example
 * ```ts
 * const engine = new SessionEngine({ tableName: 'sessions' });
 * await engine.set('abc', { user: 'ada' }, Math.floor(Date.now() / 1000) + 3600);
 * await engine.get('abc'); // { user: 'ada' }
 * engine.close(); // at shutdown
 * ```
 * @public
 */
export class SessionEngine<T extends object = Record<string, unknown>> {
  readonly #options: ResolvedOptions<T>;
  readonly #client: DynamoDBClient | undefined;
  readonly #ownsClient: boolean;
  readonly #recorder: StatsRecorder;
  readonly #cache: LruCache<number>;
  readonly #capacityInput: { ReturnConsumedCapacity?: 'TOTAL' };
  readonly #format: ItemFormat<T>;
  readonly #transport: TableTransport;
  readonly #writer: SessionWriter<T>;
  /** Records loaded from a plain-id key, by that key: their next write moves them. */
  readonly #plainLoads = new WeakMap<SessionRecord<T>, string>();

  static {
    internalsOf = (engine) => ({ options: engine.#options, client: engine.#client });
  }

  /**
   * Makes no DynamoDB call: the table must exist (see `createTable`). A client passed in as
   * `client` stays its owner's; a client the engine makes is closed by `close()`.
   * @throws InvalidOptionError
   */
  constructor(options: EngineOptions<T> = {}) {
    this.#options = resolveOptions(options);
    this.#recorder = new StatsRecorder(this.#options.onCapacity);
    this.#cache = new LruCache(this.#options.cacheSize);
    this.#capacityInput = this.#options.capacity ? { ReturnConsumedCapacity: 'TOTAL' } : {};
    this.#format = new ItemFormat(this.#options, (itemKey, err) => {
      this.#recorder.unreadable++;
      debug('session %s read as no session: %s', keyTag(itemKey), err.message);
    });
    let inner: TableTransport;
    if (injected) {
      inner = injected;
      this.#client = undefined;
      this.#ownsClient = false;
    } else if (options.client) {
      // a DynamoDBDocumentClient works as well: only its `send` is used
      const client = options.client;
      this.#client = client as DynamoDBClient;
      this.#ownsClient = false;
      // a plain client takes the direct path, as the engine's own does; one with the app's
      // middleware keeps every call in its `send`
      if (this.#options.transport === 'sdk') inner = sdkTransport(this.#client, false);
      else if (hasOnlySdkMiddleware(client)) inner = directTransport(client, { passedIn: true });
      else inner = sdkTransport(this.#client, true);
    } else {
      const d = DEFAULTS.clientConfig;
      // copies: the SDK keeps what it is given, and DEFAULTS is frozen
      this.#client = new DynamoDBClient({
        ...d,
        requestHandler: { ...d.requestHandler },
        ...options.clientConfig,
      });
      this.#ownsClient = true;
      const given = options.clientConfig;
      const config = this.#client.config;
      // an endpoint or region given as a function is asked on every call (failover); a fixed one once
      inner =
        this.#options.transport === 'sdk'
          ? sdkTransport(this.#client, false)
          : directTransport(this.#client, {
              ...(typeof given?.endpoint !== 'function' && { fixedEndpoint: config.endpoint }),
              ...(typeof given?.region !== 'function' && { fixedRegion: config.region }),
            });
    }
    const client = this.#client;
    this.#transport = countedTransport(inner, this.#recorder, this.#options.callTimeoutMs, async () =>
      missingTableAdvice(this.#options, await whereOf(client)),
    );
    this.#writer = new SessionWriter({
      options: this.#options,
      format: this.#format,
      transport: this.#transport,
      cache: this.#cache,
      recorder: this.#recorder,
      capacityInput: this.#capacityInput,
    });
  }

  /** Reads a session; `null` when absent, destroyed or expired. @throws MalformedItemError, StoreUnavailableError */
  async get(id: string): Promise<T | null> {
    return (await this.load(id))?.data ?? null;
  }

  /** Reads a session with its stored expiry; `null` when absent, destroyed or expired. @throws MalformedItemError, StoreUnavailableError */
  async load(id: string): Promise<SessionRecord<T> | null> {
    const keys = this.#keysOf(id);
    if (keys === null) return null; // such an id can never have been stored
    const found = await this.#read(keys);
    const stored = found ? this.#format.fromItem(found.item, nowSec()) : null;
    if (!stored) {
      this.#cache.delete(id);
      return null;
    }
    // the caller's data is a copy: what it changes in place, at any depth, is judged against this load
    const record = handOut(stored);
    if (found?.underPlainId) this.#plainLoads.set(record, found.key);
    this.#cache.set(id, record.expiresAtSec);
    return record;
  }

  /**
   * Stores a session until `expiresAtSec` (default: now + `ttl`), judged against what this request
   * loaded (`options.loaded`). Unchanged data only moves the expiry, at most once per `touchAfter`.
   * Changed data is written over the version loaded; when another request changed the session
   * meanwhile, this request's own top-level changes are re-applied onto the fresh copy (the later
   * write wins for a key both changed). A session destroyed, deleted or expired meanwhile is not
   * written back, and that is not an error.
   * @returns what to pass as `loaded` to a later save of the same request: the session as now stored
   * when it holds exactly this data, else the record given (its own changes are then re-applied again);
   * `null` when the session was destroyed, deleted or expired meanwhile (nothing was written)
   * @throws SessionDataError, SessionTooLargeError, InvalidSessionIdError, InvalidArgumentError,
   * SessionConflictError, StoreUnavailableError
   */
  async set(
    id: string,
    data: T,
    expiresAtSec: number = this.defaultExpiry(),
    options: SetOptions<T> = {},
  ): Promise<SessionRecord<T> | null> {
    return this.setEager(id, data, expiresAtSec, options);
  }

  /**
   * `set`, with its result at once (not a promise) when nothing is to be written: unchanged data
   * whose expiry is not due. For a store of a framework that takes callbacks: it can call back in the
   * same tick (express-session sends an unmodified answer in one piece only then). It may throw at
   * once what `set` rejects with before any call.
   */
  setEager(
    id: string,
    data: T,
    expiresAtSec: number = this.defaultExpiry(),
    options: SetOptions<T> = {},
  ): SessionRecord<T> | null | Promise<SessionRecord<T> | null> {
    const keys = this.#requireKeys(id);
    const key = keys.key;
    const expires = expiryOf(expiresAtSec);
    const prepared = prepareData(data);
    const loaded = options.loaded;
    if (loaded === undefined) return this.#replace(id, keys, data, prepared, expires);
    const migrateFrom = loaded ? this.#plainLoads.get(loaded) : undefined;
    const lifetimeKeys = options.lifetimeKeys ?? [];
    const s = { id, key, data, prepared, expires, loaded, overwrite: false, migrateFrom, lifetimeKeys };
    return this.#writer.save(s);
  }

  /** A save whose caller does not say what it loaded: what is stored now is what it replaces. */
  async #replace(
    id: string,
    keys: SessionKeys,
    data: T,
    prepared: PreparedData,
    expires: number,
  ): Promise<SessionRecord<T> | null> {
    // encoding first refuses data too large for an item before any call
    this.#format.toItem(keys.key, data, prepared, expires, 1);
    const found = await this.#read(keys, true);
    const loaded = found ? this.#format.fromItem(found.item, nowSec()) : null;
    const migrateFrom = found?.underPlainId ? found.key : undefined;
    const s = {
      id,
      key: keys.key,
      data,
      prepared,
      expires,
      loaded,
      overwrite: true,
      migrateFrom,
      lifetimeKeys: [],
    };
    return this.#writer.save(s);
  }

  /**
   * Moves a session's expiry, writing only when it moves later by `touchAfter` or more, or earlier.
   * Never creates an item, and never brings back a session destroyed or expired.
   * @throws InvalidArgumentError, StoreUnavailableError
   */
  async touch(id: string, expiresAtSec: number = this.defaultExpiry()): Promise<void> {
    const keys = this.#keysOf(id);
    const expires = expiryOf(expiresAtSec);
    if (keys === null) return;
    // a session still under its plain id is touched there
    if ((await this.#writer.touch(id, keys.key, expires)) === 'absent' && keys.plain)
      await this.#writer.touch(id, keys.plain, expires);
  }

  /**
   * Destroys a session. With `tombstoneSeconds` > 0 (the default) the item is replaced by a small
   * tombstone, so that no request in flight can write the session back. @throws StoreUnavailableError
   */
  async destroy(id: string): Promise<void> {
    const keys = this.#keysOf(id);
    if (keys === null) return;
    const key = keys.key;
    this.#cache.delete(id);
    const o = this.#options;
    const removeKey = () => removeSessionItem(this.#transport, o, key, this.#capacityInput);
    if (!keys.plain) {
      await removeKey();
      return;
    }
    // the session kept under the plain id goes too: once the tombstone is gone, nothing of it is left
    // to find. With no tombstone, the plain item goes first: a save moving it to the hashed key at
    // this moment then either finds it gone and undoes its move, or wrote before this delete
    if (o.tombstoneSeconds === 0) {
      await this.#removePlain(keys.plain);
      await removeKey();
    } else await Promise.all([removeKey(), this.#removePlain(keys.plain)]);
  }

  /**
   * Lists a user's live sessions (needs the `userId` option and the user index): one `Query` per
   * index page, then a `BatchGetItem` per 100 sessions for their expiry. Expired and destroyed
   * sessions are left out. The index is eventually consistent: a session saved a moment ago may be missing.
   * @param userId - the id `userId` returns for the user's sessions
   * @returns the sessions, latest expiry first
   * @throws MissingIndexError when `userId` is not set or the table has no such index; InvalidArgumentError; StoreUnavailableError
   * @example
   * ```ts
   * const devices = await engine.listUserSessions('user-42'); // [{ id, expiresAtSec }]
   * ```
   */
  listUserSessions(userId: string, options?: ListUserSessionsOptions): Promise<UserSession[]> {
    return listUserSessions(this.#userTable(), userId, options);
  }

  /**
   * Destroys every session of a user except those in `except` ("log out other devices"): one write per
   * session, conditional on it still belonging to the user, 8 at a time, as tombstones so that no
   * request in flight writes them back. Safe to retry.
   * @param userId - the id `userId` returns for the user's sessions
   * @returns how many sessions were destroyed
   * @throws MissingIndexError when `userId` is not set or the table has no such index; InvalidArgumentError; StoreUnavailableError
   * @example
   * ```ts
   * await engine.destroyUserSessions('user-42', { except: req.sessionID });
   * ```
   */
  destroyUserSessions(
    userId: string,
    options?: DestroyUserSessionsOptions,
  ): Promise<DestroyUserSessionsResult> {
    return destroyUserSessions(this.#userTable(), userId, options);
  }

  /** Counters per DynamoDB operation since this engine was made (RCU/WCU need `capacity: true`). */
  stats(): StatsSnapshot {
    return this.#recorder.snapshot();
  }

  /** Default expiry: now + `ttl`, epoch seconds. */
  defaultExpiry(): number {
    return nowSec() + this.#options.ttl;
  }

  /**
   * Closes the client the engine made (its open connections), for a graceful shutdown. A client
   * passed in as `client` is left alone: its owner closes it. Calls after `close()` fail.
   */
  close(): void {
    // what the engine put on a client passed in (a watch on its middleware stack) comes off
    this.#transport.close?.();
    if (this.#ownsClient) this.#client?.destroy();
  }

  #userTable(): UserTable {
    return { options: this.#options, transport: this.#transport };
  }

  /** The keys of a session id; the plain one only while `plainIdFallback` looks there. */
  #keysOf(id: string): SessionKeys | null {
    const o = this.#options;
    const keys = sessionKeysOf(o.prefix, id, o.hashIds);
    return keys && !o.plainIdFallback ? { key: keys.key, plain: undefined } : keys;
  }

  #requireKeys(id: string): SessionKeys {
    const key = this.#keysOf(id);
    if (key === null) {
      throw new InvalidSessionIdError(
        typeof id !== 'string' || id === ''
          ? 'it must be a non-empty string'
          : `with the prefix it exceeds ${maxKeyBytes} bytes`,
      );
    }
    return key;
  }

  /**
   * The item of a session: under its key and, when that holds nothing and ids are hashed, under its
   * plain id (where earlier versions wrote). A miss is read again strongly when `consistentReadOnMiss`
   * (read-your-login: an eventually consistent read can miss a session written a moment ago), at the
   * same time as the plain id; a session found under its key costs no read of the plain one.
   */
  async #read(keys: SessionKeys, strong = false): Promise<Found | undefined> {
    const o = this.#options;
    const first = await this.#getItem(keys.key, strong || o.consistentRead);
    if (first) return { item: first, key: keys.key, underPlainId: false };
    const again = !strong && !o.consistentRead && o.consistentReadOnMiss;
    // both keys at once: the hashed one again (strongly), and the plain one, eventually consistent
    // unless asked otherwise: with ids hashed nothing writes plain ids, so none was written a moment ago
    const [hashed, plain] = await Promise.all([
      again ? this.#getItem(keys.key, true) : undefined,
      keys.plain ? this.#getItem(keys.plain, strong || o.consistentRead) : undefined,
    ]);
    if (hashed) return { item: hashed, key: keys.key, underPlainId: false };
    // an id that could be some session's hash has no plain key (sessionKeysOf): what is found here
    // was stored under this very id, by an earlier version or with `hashIds: false`
    if (!keys.plain || !plain) return undefined;
    return { item: plain, key: keys.plain, underPlainId: true };
  }

  /**
   * Deletes what an earlier version stored under a session's plain id, if anything: read first (half
   * a read unit), since such items are few and a delete costs a write unit whether or not one is there.
   */
  async #removePlain(plainKey: string): Promise<void> {
    if (await this.#getItem(plainKey, false)) await this.#writer.deletePlain(plainKey);
  }

  async #getItem(key: string, consistent: boolean): Promise<Item | undefined> {
    const o = this.#options;
    const out = await this.#transport.getItem({
      TableName: o.tableName,
      Key: { [o.hashKey]: { S: key } },
      ConsistentRead: consistent,
      ...this.#capacityInput,
    });
    return out.Item;
  }
}

/** An item found for a session id, and under which key. */
interface Found {
  item: Item;
  key: string;
  /** Under the plain id: written by an earlier version, to move to the hashed key at the next write. */
  underPlainId: boolean;
}

/** An expiry given to `set` or `touch`, in whole epoch seconds. @throws InvalidArgumentError */
function expiryOf(expiresAtSec: number): number {
  if (typeof expiresAtSec !== 'number' || !Number.isFinite(expiresAtSec)) {
    throw new InvalidArgumentError(
      'expiresAtSec',
      `expected a finite number of epoch seconds, got ${String(expiresAtSec)}`,
    );
  }
  return Math.ceil(expiresAtSec);
}

/** Makes an engine whose calls go to `transport` and no DynamoDB client: the unit tests' in-memory table. @internal */
export function engineOn<T extends object>(
  transport: TableTransport,
  options: EngineOptions<T> = {},
): SessionEngine<T> {
  injected = transport;
  try {
    return new SessionEngine(options);
  } finally {
    injected = undefined;
  }
}

/** What the tests of this package reach inside an engine. @internal */
export function engineInternals<T extends object>(engine: SessionEngine<T>): EngineInternals<T> {
  return internalsOf(engine);
}
