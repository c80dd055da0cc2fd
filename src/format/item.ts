/**
 * A session as a table item: its key, its data in one of the stored forms, its expiry and its owner;
 * and the reading of any item back into a session record (or `null` for a tombstone or an expired item).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  MalformedItemError,
  SessionDataError,
  SessionIntegrityError,
  SessionTooLargeError,
} from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { DataCodec } from './envelope.js';
import { sizeOf } from './marshal.js';
import { copyData, type Plain, toPlain } from './plain.js';

/** DynamoDB's item size limit, 400 KB. @public */
export const ITEM_LIMIT_BYTES = 400 * 1024;

/** A table item, as the SDK's low-level client sends and returns it. @internal */
export type Item = Record<string, AttributeValue>;

/**
 * A session as loaded: its data, the item's expiry and version. Give it back to `set` as `loaded`:
 * the save is then judged against what this request loaded.
 * @public
 */
export interface SessionRecord<T> {
  /** The session data, keys sorted. */
  readonly data: T;
  /** The item's expiry, epoch seconds. */
  readonly expiresAtSec: number;
  /** The item's version: every write of the data increments it (0 for items written without one). */
  readonly version: number;
  /** The data's JSON text as loaded (keys sorted): equal texts mean unchanged data. */
  readonly json: string;
}

/**
 * Session data made ready to store: its plain form and JSON text (keys sorted), each made at its
 * first read (a save that turns out unchanged needs neither). Reading either throws
 * `SessionDataError` for data that cannot be stored. @internal
 */
export interface PreparedData {
  readonly plain: { [key: string]: Plain };
  readonly json: string;
}

function plainOf(data: unknown): { [key: string]: Plain } {
  const plain = toPlain(data);
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new SessionDataError('session', 'must be an object');
  }
  return plain;
}

/** Session data to store; its plain form and JSON text are made when first read. @internal */
export function prepareData(data: unknown): PreparedData {
  let plain: { [key: string]: Plain } | undefined;
  let json: string | undefined;
  return {
    get plain() {
      plain ??= plainOf(data);
      return plain;
    },
    get json() {
      json ??= JSON.stringify(this.plain);
      return json;
    },
  };
}

/**
 * The data each record was made with: kept apart from what a caller holds of it (`load` hands out a
 * copy), so that a change the caller makes in place, at any depth, is seen against it.
 */
const baselines = new WeakMap<object, unknown>();

/**
 * A session as loaded or stored; its JSON text, when not given, is made at its first read (an
 * unmodified request that only reads its session needs none). `data` is the record's baseline:
 * what later saves compare against. @internal
 */
export function recordOf<T>(data: T, expiresAtSec: number, version: number, json?: string): SessionRecord<T> {
  let text = json;
  const record = { data, expiresAtSec, version } as SessionRecord<T>;
  Object.defineProperty(record, 'json', {
    enumerable: true,
    get: () => {
      text ??= JSON.stringify(data);
      return text;
    },
  });
  baselines.set(record, data);
  return record;
}

/**
 * The record to hand to a caller: its data a deep copy, the caller's to change in place; the
 * record's baseline and JSON text stay those of `record`. @internal
 */
export function handOut<T>(record: SessionRecord<T>): SessionRecord<T> {
  const baseline = baselineOf(record);
  const out = { data: copyData(baseline), expiresAtSec: record.expiresAtSec, version: record.version };
  Object.defineProperty(out, 'json', { enumerable: true, get: () => record.json });
  baselines.set(out, baseline);
  return out as SessionRecord<T>;
}

/**
 * What a record's data was when it was made: for records this package made, never the object a
 * caller holds; for one made elsewhere, its data as it is now. @internal
 */
export function baselineOf<T>(record: SessionRecord<T>): T {
  return baselines.has(record) ? (baselines.get(record) as T) : record.data;
}

/** An item's version: 0 when it has none (written by an earlier version of this store, or another tool). */
function versionOf(av: AttributeValue | undefined, attribute: string): number {
  if (av === undefined) return 0;
  const version = av.N === undefined ? Number.NaN : Number(av.N);
  if (!Number.isSafeInteger(version) || version < 0)
    throw new MalformedItemError(attribute, 'is not a whole number (N)');
  return version;
}

/** Writes and reads the items of one engine's options. @internal */
export class ItemFormat<T> {
  private readonly codec: DataCodec;

  constructor(
    private readonly options: ResolvedOptions<T>,
    private readonly onUnreadable: (itemKey: string, err: SessionIntegrityError) => void = () => {},
  ) {
    this.codec = new DataCodec(options.compress, options.serializer, options.encryption);
  }

  /**
   * The item of a session: `data` is the session as given (for the serializer and `userId`),
   * `prepared` its plain form. @throws SessionTooLargeError, SessionDataError
   */
  toItem(itemKey: string, data: T, prepared: PreparedData, expiresAtSec: number, version: number): Item {
    const o = this.options;
    const item: Item = {
      [o.hashKey]: { S: itemKey },
      [o.dataAttribute]: this.codec.encode(prepared.plain, prepared.json, data, {
        table: o.tableName,
        itemKey,
        version,
      }),
      [o.expiresAttribute]: { N: String(expiresAtSec) },
      [o.versionAttribute]: { N: String(version) },
    };
    const uid = o.userId?.(data);
    // with encryption, the index holds a keyed hash of the user id: the table never sees it
    if (typeof uid === 'string' && uid !== '')
      item[o.userIdAttribute] = { S: o.encryption ? o.encryption.userIdHash(uid) : uid };
    this.checkSize(item, prepared);
    return item;
  }

  /**
   * The session an item holds; `null` for a tombstone or an item past its expiry (DynamoDB TTL
   * deletes expired items late, often hours), or whose data no configured key opens. @throws MalformedItemError
   */
  fromItem(item: Item, nowSec: number): SessionRecord<T> | null {
    const o = this.options;
    const live = this.liveState(item, nowSec);
    if (live === null) return null;
    const { expiresAtSec, version } = live;
    const itemKey = item[o.hashKey]?.S ?? '';
    let data: Record<string, unknown> | null;
    try {
      data = this.codec.decode(item[o.dataAttribute], o.dataAttribute, {
        table: o.tableName,
        itemKey,
        version,
      });
    } catch (err) {
      if (!(err instanceof SessionIntegrityError)) throw err;
      // nobody can open it (its key was removed, or it was altered): no session, never a lockout
      this.onUnreadable(itemKey, err);
      return null;
    }
    if (data === null) return null;
    return recordOf(data as T, expiresAtSec, version);
  }

  /**
   * The version of an item that is a live session whatever its data (not a tombstone, not expired),
   * else `null`: a save may replace such an item when its data cannot be read as a session (data not
   * sealed while encryption is on). @throws MalformedItemError
   */
  liveVersion(item: Item, nowSec: number): number | null {
    return this.liveState(item, nowSec)?.version ?? null;
  }

  /** Expiry and version of an item that is neither a tombstone nor expired, else `null`. @throws MalformedItemError */
  private liveState(item: Item, nowSec: number): { expiresAtSec: number; version: number } | null {
    const o = this.options;
    if (item[o.tombstoneAttribute] !== undefined) return null;
    const expires = item[o.expiresAttribute];
    if (expires?.N === undefined) {
      throw new MalformedItemError(o.expiresAttribute, expires ? 'is not a number (N)' : 'is missing');
    }
    const expiresAtSec = Number(expires.N);
    if (!Number.isFinite(expiresAtSec))
      throw new MalformedItemError(o.expiresAttribute, 'is not a finite number');
    if (expiresAtSec <= nowSec) return null;
    return { expiresAtSec, version: versionOf(item[o.versionAttribute], o.versionAttribute) };
  }

  private checkSize(item: Item, prepared: PreparedData): void {
    const data = item[this.options.dataAttribute];
    // JSON text is never much smaller than DynamoDB's size of a map, so small maps skip the exact count;
    // compressed, sealed or serialized data is counted as stored
    if (data?.M !== undefined && prepared.json.length <= 100_000) return;
    let size = 0;
    for (const [name, value] of Object.entries(item)) {
      size += Buffer.byteLength(name);
      if (value.S !== undefined) size += Buffer.byteLength(value.S);
      else if (value.B !== undefined) size += value.B.byteLength;
      else if (value.N !== undefined) size += 21;
      else if (value === data) size += sizeOf(prepared.plain);
    }
    if (size > ITEM_LIMIT_BYTES) throw new SessionTooLargeError(size, ITEM_LIMIT_BYTES);
  }
}
