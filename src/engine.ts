import { hash } from 'node:crypto';
import { debuglog } from 'node:util';
import { type AttributeValue, type ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LruCache } from './cache.js';
import { type Plain, sizeOf, toPlain } from './codec.js';
import { DataCodec } from './data.js';
import {
  InvalidSessionIdError,
  isThrottle,
  MalformedItemError,
  SessionDataError,
  SessionTooLargeError,
  StoreUnavailableError,
} from './errors.js';
import { fastTransport } from './fast-transport.js';
import { type EngineOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { StatsRecorder, type StatsSnapshot } from './stats.js';
import { type ItemTransport, sdkTransport } from './transport.js';
import {
  type DestroyUserSessionsOptions,
  type DestroyUserSessionsResult,
  destroyUserSessions,
  type ListUserSessionsOptions,
  listUserSessions,
  type UserSession,
} from './users.js';

const debug = debuglog('dynamodb-sessions');

/** DynamoDB's item size limit, 400 KB. @public */
export const ITEM_LIMIT_BYTES = 400 * 1024;
const maxKeyBytes = 2048;

/** A session as stored: its data and the item's expiry. @public */
export interface SessionRecord<T> {
  /** The session data, keys sorted. */
  data: T;
  /** The item's expiry, epoch seconds. */
  expiresAtSec: number;
  /** Digest of the data as loaded: give it back to `set` as `loadedDigest`. */
  digest: string;
}

/** What a caller of `set` knows about the session it saves. @public */
export interface SetOptions {
  /**
   * The `digest` of the record this request loaded. Unchanged data is then recognised against
   * this request's own load, not against what another request of this process wrote meanwhile,
   * so a stale copy never overwrites a concurrent change.
   */
  loadedDigest?: string;
  /**
   * The framework guarantees the data did not change since this request loaded the session
   * (e.g. `@fastify/session`'s `isModified()`): only the expiry may be written.
   */
  unchanged?: boolean;
}

/** Epoch seconds now. @internal */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/**
 * The storage engine: every DynamoDB call of every adapter goes through it.
 * @example
 * ```ts
 * const engine = new SessionEngine({ tableName: 'sessions' });
 * await engine.set('abc', { user: 'ada' }, Math.floor(Date.now() / 1000) + 3600);
 * await engine.get('abc'); // { user: 'ada' }
 * ```
 * @public
 */
export class SessionEngine<T extends object = Record<string, unknown>> {
  /** The options with every default applied. @internal */
  readonly options: ResolvedOptions<T>;
  /** @internal */
  readonly client: DynamoDBClient;
  /** @internal */
  readonly recorder: StatsRecorder;
  private readonly cache: LruCache;
  private readonly capacityInput: { ReturnConsumedCapacity?: 'TOTAL' };
  private readonly codec: DataCodec;
  private readonly transport: ItemTransport;

  /** Makes no DynamoDB call: the table must exist (see `createTable`). @throws InvalidOptionError */
  constructor(options: EngineOptions<T> = {}) {
    this.options = resolveOptions(options);
    // a DocumentClient shares its DynamoDBClient's middleware stack, so plain commands work on it
    this.client =
      (options.client as DynamoDBClient | undefined) ?? new DynamoDBClient(defaultClientConfig(options));
    this.cache = new LruCache(this.options.cacheSize);
    this.recorder = new StatsRecorder(this.options.onCapacity);
    this.capacityInput = this.options.capacity ? { ReturnConsumedCapacity: 'TOTAL' } : {};
    this.transport = options.client ? sdkTransport(this.client) : fastTransport(this.client);
    this.codec = new DataCodec(this.options.compress, this.options.serializer, this.options.encryption);
  }

  /** Reads a session; `null` when absent, destroyed or expired. @throws MalformedItemError, StoreUnavailableError */
  async get(id: string): Promise<T | null> {
    return (await this.load(id))?.data ?? null;
  }

  /** Reads a session with its stored expiry; `null` when absent, destroyed or expired. @throws MalformedItemError, StoreUnavailableError */
  async load(id: string): Promise<SessionRecord<T> | null> {
    const key = this.keyOf(id);
    if (key === null) return null; // such an id can never have been stored
    let item = await this.getItem(key, this.options.consistentRead);
    // read-your-login: an eventually consistent read can miss a session written a moment ago
    if (!item && this.options.consistentReadOnMiss && !this.options.consistentRead)
      item = await this.getItem(key, true);
    const record = item ? this.fromItem(item) : null;
    if (!record) {
      this.cache.delete(id);
      return null;
    }
    this.cache.set(id, { digest: record.digest, expiresAtSec: record.expiresAtSec });
    return record;
  }

  /**
   * Stores a session until `expiresAtSec` (default: now + `ttl`). When the data is unchanged from what
   * this request loaded (`options.loadedDigest`), or else from what this process last read or wrote,
   * only the expiry may be written, throttled by `touchAfter`. A session destroyed meanwhile is not
   * written back.
   * @throws SessionDataError, SessionTooLargeError, InvalidSessionIdError, StoreUnavailableError
   */
  async set(
    id: string,
    data: T,
    expiresAtSec: number = this.defaultExpiry(),
    options: SetOptions = {},
  ): Promise<void> {
    const key = this.requireKey(id);
    const plain = toPlain(data);
    if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
      throw new SessionDataError('session', 'must be an object');
    }
    const expires = Math.ceil(expiresAtSec);
    const json = JSON.stringify(plain);
    const digest = digestOf(json);
    const cached = this.cache.get(id);
    if (cached && options.unchanged) return this.touch(id, expires);
    if (digest === (options.loadedDigest ?? cached?.digest)) return this.touch(id, expires);
    const o = this.options;
    const item: Record<string, AttributeValue> = {
      [o.hashKey]: { S: key },
      [o.dataAttribute]: this.codec.encode(plain, json, data, key),
      [o.expiresAttribute]: { N: String(expires) },
    };
    const uid = o.userId?.(data);
    if (typeof uid === 'string' && uid !== '') item[o.userIdAttribute] = { S: uid };
    this.checkSize(item, json.length, plain);
    const guarded = o.tombstoneSeconds > 0;
    const written = await this.write('PutItem', () =>
      this.transport.putItem({
        TableName: o.tableName,
        Item: item,
        ...(guarded && {
          ConditionExpression: 'attribute_not_exists(#t)',
          ExpressionAttributeNames: { '#t': o.tombstoneAttribute },
        }),
        ...this.capacityInput,
      }),
    );
    if (written) this.cache.set(id, { digest, expiresAtSec: expires });
    else this.cache.delete(id);
  }

  /**
   * Moves a session's expiry, writing only when it moves later by `touchAfter` or more, or earlier.
   * Never creates an item and never revives a destroyed session. @throws StoreUnavailableError
   */
  async touch(id: string, expiresAtSec: number = this.defaultExpiry()): Promise<void> {
    const key = this.keyOf(id);
    if (key === null) return;
    const expires = Math.ceil(expiresAtSec);
    const cached = this.cache.get(id);
    if (cached && !touchDue(cached.expiresAtSec, expires, this.options.touchAfter)) return;
    const o = this.options;
    const guard = o.tombstoneSeconds > 0 ? ' AND attribute_not_exists(#t)' : '';
    const written = await this.write('UpdateItem', () =>
      this.transport.updateItem({
        TableName: o.tableName,
        Key: { [o.hashKey]: { S: key } },
        UpdateExpression: 'SET #e = :e',
        ConditionExpression: `attribute_exists(#k)${guard}`,
        ExpressionAttributeNames: {
          '#e': o.expiresAttribute,
          '#k': o.hashKey,
          ...(guard && { '#t': o.tombstoneAttribute }),
        },
        ExpressionAttributeValues: { ':e': { N: String(expires) } },
        ...this.capacityInput,
      }),
    );
    if (!written) this.cache.delete(id);
    else if (cached) cached.expiresAtSec = expires;
  }

  /**
   * Destroys a session. With `tombstoneSeconds` > 0 (the default) the item is replaced by a small
   * tombstone, so that no request in flight can write the session back. @throws StoreUnavailableError
   */
  async destroy(id: string): Promise<void> {
    const key = this.keyOf(id);
    if (key === null) return;
    this.cache.delete(id);
    const o = this.options;
    if (o.tombstoneSeconds === 0) {
      await this.call('DeleteItem', () =>
        this.transport.deleteItem({
          TableName: o.tableName,
          Key: { [o.hashKey]: { S: key } },
          ...this.capacityInput,
        }),
      );
      return;
    }
    await this.call('PutItem', () =>
      this.transport.putItem({ TableName: o.tableName, Item: this.tombstone(key), ...this.capacityInput }),
    );
  }

  /**
   * Lists a user's live sessions (needs the `userId` option and the user index): one `Query` per
   * index page, then a `BatchGetItem` per 100 sessions for their expiry. Expired and destroyed
   * sessions are left out. The index is eventually consistent: a session saved a moment ago may be missing.
   * @param userId - the id `userId` returns for the user's sessions
   * @returns the sessions, latest expiry first
   * @throws MissingIndexError when `userId` is not set or the table has no such index; StoreUnavailableError
   * @example
   * ```ts
   * const devices = await engine.listUserSessions('user-42'); // [{ id, expiresAtSec }]
   * ```
   */
  listUserSessions(userId: string, options?: ListUserSessionsOptions): Promise<UserSession[]> {
    return listUserSessions(this, userId, options);
  }

  /**
   * Destroys every session of a user except those in `except` ("log out other devices"), 25 per
   * `BatchWriteItem`, as tombstones so that no request in flight writes them back. Safe to retry.
   * @param userId - the id `userId` returns for the user's sessions
   * @returns how many sessions were destroyed
   * @throws MissingIndexError when `userId` is not set or the table has no such index; StoreUnavailableError
   * @example
   * ```ts
   * await engine.destroyUserSessions('user-42', { except: req.sessionID });
   * ```
   */
  destroyUserSessions(
    userId: string,
    options?: DestroyUserSessionsOptions,
  ): Promise<DestroyUserSessionsResult> {
    return destroyUserSessions(this, userId, options, (id) => this.cache.delete(id));
  }

  /** Counters per DynamoDB operation since this engine was made (RCU/WCU need `capacity: true`). */
  stats(): StatsSnapshot {
    return this.recorder.snapshot();
  }

  /** The tombstone item that replaces a destroyed session. @internal */
  tombstone(key: string): Record<string, AttributeValue> {
    const o = this.options;
    const now = nowSec();
    return {
      [o.hashKey]: { S: key },
      [o.tombstoneAttribute]: { N: String(now) },
      [o.expiresAttribute]: { N: String(now + o.tombstoneSeconds) },
    };
  }

  /** Default expiry: now + `ttl`. */
  defaultExpiry(): number {
    return nowSec() + this.options.ttl;
  }

  /** The table key of a session id, or `null` when the id cannot be a key. @internal */
  keyOf(id: string): string | null {
    if (typeof id !== 'string' || id === '') return null;
    const key = this.options.prefix + id;
    return key.length * 3 <= maxKeyBytes || Buffer.byteLength(key) <= maxKeyBytes ? key : null;
  }

  private requireKey(id: string): string {
    const key = this.keyOf(id);
    if (key === null) {
      throw new InvalidSessionIdError(
        typeof id !== 'string' || id === ''
          ? 'it must be a non-empty string'
          : `with the prefix it exceeds ${maxKeyBytes} bytes`,
      );
    }
    return key;
  }

  private checkSize(item: Record<string, AttributeValue>, jsonLength: number, plain: Plain): void {
    const data = item[this.options.dataAttribute];
    // JSON text is never much smaller than DynamoDB's size of a map, so small maps skip the exact count;
    // compressed, sealed or serialized data is counted as stored
    if (data?.M !== undefined && jsonLength <= 100_000) return;
    let size = 0;
    for (const [name, value] of Object.entries(item)) {
      size += Buffer.byteLength(name);
      if (value.S !== undefined) size += Buffer.byteLength(value.S);
      else if (value.B !== undefined) size += value.B.byteLength;
      else if (value.N !== undefined) size += 21;
      else if (value === data) size += sizeOf(plain);
    }
    if (size > ITEM_LIMIT_BYTES) throw new SessionTooLargeError(size, ITEM_LIMIT_BYTES);
  }

  private async getItem(
    key: string,
    consistent: boolean,
  ): Promise<Record<string, AttributeValue> | undefined> {
    const o = this.options;
    const out = await this.call('GetItem', () =>
      this.transport.getItem({
        TableName: o.tableName,
        Key: { [o.hashKey]: { S: key } },
        ConsistentRead: consistent,
        ...this.capacityInput,
      }),
    );
    return out.Item;
  }

  private fromItem(item: Record<string, AttributeValue>): SessionRecord<T> | null {
    const o = this.options;
    if (item[o.tombstoneAttribute] !== undefined) return null;
    const expires = item[o.expiresAttribute];
    if (expires?.N === undefined) {
      throw new MalformedItemError(o.expiresAttribute, expires ? 'is not a number (N)' : 'is missing');
    }
    const expiresAtSec = Number(expires.N);
    if (!Number.isFinite(expiresAtSec))
      throw new MalformedItemError(o.expiresAttribute, 'is not a finite number');
    // DynamoDB TTL deletes expired items late (often hours): an expired item can still be read
    if (expiresAtSec <= nowSec()) return null;
    const data = this.codec.decode(item[o.dataAttribute], o.dataAttribute, item[o.hashKey]?.S ?? '');
    return data === null ? null : { data: data as T, expiresAtSec, digest: digestOf(JSON.stringify(data)) };
  }

  /** Sends one call, counting it; a failure becomes `StoreUnavailableError`. @internal */
  async call<O extends { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] | undefined }>(
    operation: string,
    send: () => Promise<O>,
  ): Promise<O> {
    const s = this.recorder.of(operation);
    s.calls++;
    try {
      const out = await send();
      if (out.ConsumedCapacity) this.recorder.capacity(operation, out.ConsumedCapacity);
      return out;
    } catch (err) {
      if (isConditionFailure(err)) throw err;
      s.errors++;
      if (isThrottle(err)) s.throttles++;
      throw new StoreUnavailableError(operation, err);
    }
  }

  /** A conditional write: `false` when its condition failed (the session is gone), never an error then. */
  private async write(
    operation: string,
    send: () => Promise<{ ConsumedCapacity?: ConsumedCapacity | undefined }>,
  ): Promise<boolean> {
    try {
      await this.call(operation, send);
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      debug('%s skipped: the session was destroyed meanwhile', operation);
      return false;
    }
  }
}

/**
 * Whether a touch must write: the expiry moves earlier, or later by `touchAfter` or by a fifth of
 * the session's lifetime, whichever is less. So the item's expiry never lags the cookie's by more
 * than that, and a lifetime shorter than `touchAfter` still keeps an active session alive.
 */
function touchDue(storedSec: number, nextSec: number, touchAfter: number): boolean {
  if (nextSec < storedSec) return true;
  const lifetimeSec = nextSec - Date.now() / 1000;
  return nextSec - storedSec >= Math.min(touchAfter, lifetimeSec / 5);
}

function digestOf(json: string): string {
  return hash('sha1', json, 'base64');
}

function defaultClientConfig<T>(options: EngineOptions<T>): NonNullable<EngineOptions<T>['clientConfig']> {
  return {
    maxAttempts: 3,
    retryMode: 'standard',
    // without throwOnRequestTimeout the SDK only logs a warning and the request hangs on
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
    // the engine never changes this client's middleware: resolve the stack once, not per call
    cacheMiddleware: true,
    ...options.clientConfig,
  };
}
