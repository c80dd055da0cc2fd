/**
 * The conditions of the save protocol's writes: each write assumes something about the item, and
 * says so in its condition.
 *
 * - An expiry-only write (touch) requires the item to exist, to be live (no tombstone) and not expired,
 *   and, for a request that loaded it, still to be the version loaded.
 * - A save of a loaded session requires the item still to be the version it loaded, live and not expired.
 * - A new session is written only where no live item is (an expired item or tombstone is dead).
 * - A destroy puts a tombstone in the session's place (or deletes it, with `tombstoneSeconds` 0).
 */
import type {
  AttributeValue,
  DeleteItemCommandInput,
  PutItemCommandInput,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { nowSec } from '../clock.js';
import type { Item } from '../format/item.js';
import { type TombstoneShape, tombstoneItem } from '../format/keys.js';
import type { ResolvedOptions } from '../options.js';
import type { TableTransport } from '../transport/types.js';

type Shape = Pick<
  ResolvedOptions<unknown>,
  'tableName' | 'hashKey' | 'expiresAttribute' | 'tombstoneAttribute' | 'versionAttribute'
>;

const number = (n: number): AttributeValue => ({ N: String(n) });

/**
 * The condition that an item is still `version`: for 0 (an item written without a version, by an
 * earlier version of this store or another tool), that it has none. The item's existence is the
 * caller's to require. @internal
 */
function atVersion(o: Shape, version: number) {
  return version === 0
    ? { condition: 'attribute_not_exists(#v)', names: { '#v': o.versionAttribute }, values: {} }
    : { condition: '#v = :v', names: { '#v': o.versionAttribute }, values: { ':v': number(version) } };
}

/**
 * An expiry-only update of a live, unexpired item; with `loadedVersion`, only while the item is still
 * the version a request loaded (0: an item written without a version), so that a newer write's expiry
 * (a longer "remember me", a shorter one) is never replaced by a stale request's. @internal
 */
export function touchInput(
  o: Shape,
  itemKey: string,
  expiresAtSec: number,
  nowSec: number,
  loadedVersion?: number,
): UpdateItemCommandInput {
  const live = 'attribute_exists(#k) AND attribute_not_exists(#t) AND #e > :now';
  const version = loadedVersion === undefined ? undefined : atVersion(o, loadedVersion);
  return {
    TableName: o.tableName,
    Key: { [o.hashKey]: { S: itemKey } },
    UpdateExpression: 'SET #e = :e',
    ConditionExpression: version ? `${live} AND ${version.condition}` : live,
    ExpressionAttributeNames: {
      '#k': o.hashKey,
      '#e': o.expiresAttribute,
      '#t': o.tombstoneAttribute,
      ...version?.names,
    },
    ExpressionAttributeValues: { ':e': number(expiresAtSec), ':now': number(nowSec), ...version?.values },
    // tells a missing item from a destroyed, expired or newer one
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * A delete of one item: with `version`, only while it is still that version (0: an item written
 * without one). @internal
 */
export function deleteInput(o: Shape, itemKey: string, version?: number): DeleteItemCommandInput {
  const base = { TableName: o.tableName, Key: { [o.hashKey]: { S: itemKey } } };
  if (version === undefined) return base;
  const at = atVersion(o, version);
  return {
    ...base,
    ConditionExpression: version === 0 ? `attribute_exists(#k) AND ${at.condition}` : at.condition,
    ExpressionAttributeNames: version === 0 ? { ...at.names, '#k': o.hashKey } : at.names,
    ...(version !== 0 && { ExpressionAttributeValues: at.values }),
  };
}

/**
 * A put of a whole session: over the version `loadedVersion` of a live, unexpired item, or, for a new
 * session (`null`), only where no live item is. When the condition fails, DynamoDB returns the item
 * it found, so a conflict costs no extra read. @internal
 */
export function putInput(
  o: Shape,
  item: Item,
  loadedVersion: number | null,
  nowSec: number,
): PutItemCommandInput {
  const now = { ':now': number(nowSec) };
  const base = {
    TableName: o.tableName,
    Item: item,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
  if (loadedVersion === null) {
    return {
      ...base,
      ConditionExpression: 'attribute_not_exists(#k) OR #e <= :now',
      ExpressionAttributeNames: { '#k': o.hashKey, '#e': o.expiresAttribute },
      ExpressionAttributeValues: now,
    };
  }
  const at = atVersion(o, loadedVersion);
  const live = 'attribute_not_exists(#t) AND #e > :now';
  const names = { '#e': o.expiresAttribute, '#t': o.tombstoneAttribute, ...at.names };
  return {
    ...base,
    // an item without a version must still exist: "no #v" alone holds for no item too
    ConditionExpression:
      loadedVersion === 0
        ? `attribute_exists(#k) AND ${at.condition} AND ${live}`
        : `${at.condition} AND ${live}`,
    ExpressionAttributeNames: loadedVersion === 0 ? { ...names, '#k': o.hashKey } : names,
    ExpressionAttributeValues: { ...now, ...at.values },
  };
}

/** What a removal may add to its write: a condition, and the capacity to report. @internal */
export type RemovalExtra = Pick<
  DeleteItemCommandInput,
  'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues' | 'ReturnConsumedCapacity'
>;

/**
 * Removes a destroyed session's item: a tombstone in its place, or, with `tombstoneSeconds` 0, a
 * delete; `extra` adds the write's condition. @internal
 */
export function removeSessionItem(
  transport: TableTransport,
  shape: TombstoneShape & { tableName: string },
  itemKey: string,
  extra: RemovalExtra = {},
): Promise<unknown> {
  const TableName = shape.tableName;
  return shape.tombstoneSeconds === 0
    ? transport.deleteItem({ TableName, Key: { [shape.hashKey]: { S: itemKey } }, ...extra })
    : transport.putItem({ TableName, Item: tombstoneItem(shape, itemKey, nowSec()), ...extra });
}
