/**
 * A session as a table item: its key, its data in one of the stored forms, its expiry and its owner;
 * and the reading of any item back into a session record (or `null` for a tombstone or an expired item).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MalformedItemError, SessionDataError, SessionTooLargeError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { DataCodec } from './envelope.js';
import { sizeOf } from './marshal.js';
import { digestOf, type Plain, toPlain } from './plain.js';

/** DynamoDB's item size limit, 400 KB. @public */
export const ITEM_LIMIT_BYTES = 400 * 1024;

/** A table item, as the SDK's low-level client sends and returns it. @internal */
export type Item = Record<string, AttributeValue>;

/** A session as stored: its data and the item's expiry. @public */
export interface SessionRecord<T> {
  /** The session data, keys sorted. */
  data: T;
  /** The item's expiry, epoch seconds. */
  expiresAtSec: number;
  /** Digest of the data as loaded: give it back to `set` as `loadedDigest`. */
  digest: string;
}

/** Session data made ready to store: its plain form, JSON text and digest. @internal */
export interface PreparedData {
  plain: { [key: string]: Plain };
  json: string;
  digest: string;
}

/** Turns session data into its plain form, or throws `SessionDataError`. @internal */
export function prepareData(data: unknown): PreparedData {
  const plain = toPlain(data);
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new SessionDataError('session', 'must be an object');
  }
  const json = JSON.stringify(plain);
  return { plain, json, digest: digestOf(json) };
}

/** Writes and reads the items of one engine's options. @internal */
export class ItemFormat<T> {
  private readonly codec: DataCodec;

  constructor(private readonly options: ResolvedOptions<T>) {
    this.codec = new DataCodec(options.compress, options.serializer, options.encryption);
  }

  /**
   * The item of a session: `data` is the session as given (for the serializer and `userId`),
   * `prepared` its plain form. @throws SessionTooLargeError, SessionDataError
   */
  toItem(itemKey: string, data: T, prepared: PreparedData, expiresAtSec: number): Item {
    const o = this.options;
    const item: Item = {
      [o.hashKey]: { S: itemKey },
      [o.dataAttribute]: this.codec.encode(prepared.plain, prepared.json, data, itemKey),
      [o.expiresAttribute]: { N: String(expiresAtSec) },
    };
    const uid = o.userId?.(data);
    if (typeof uid === 'string' && uid !== '') item[o.userIdAttribute] = { S: uid };
    this.checkSize(item, prepared);
    return item;
  }

  /**
   * The session an item holds; `null` for a tombstone or an item past its expiry (DynamoDB TTL
   * deletes expired items late, often hours). @throws MalformedItemError, SessionIntegrityError
   */
  fromItem(item: Item, nowSec: number): SessionRecord<T> | null {
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
    const data = this.codec.decode(item[o.dataAttribute], o.dataAttribute, item[o.hashKey]?.S ?? '');
    return data === null ? null : { data: data as T, expiresAtSec, digest: digestOf(JSON.stringify(data)) };
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
