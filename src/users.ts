/**
 * Per-user operations: list a user's sessions, destroy all of them ("log out everywhere").
 * They read the global secondary index on the user id attribute (see `createTable`'s `userIndex`).
 */
import { debuglog } from 'node:util';
import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';
import { eachChunk, untilProcessed } from './batch.js';
import { nowSec } from './clock.js';
import { DEFAULTS } from './defaults.js';
import { InvalidArgumentError, MissingIndexError, StoreUnavailableError } from './errors.js';
import { hashOfId, keyTag, tombstoneItem } from './format/keys.js';
import type { ResolvedOptions } from './options.js';
import type { TableTransport } from './transport/types.js';

const debug = debuglog('dynamodb-sessions');

/** One of a user's live sessions. @public */
export interface UserSession {
  /**
   * Names the session without giving it away: its table key without the prefix, which is a one-way
   * hash of the session id (or the id itself, for a session stored before ids were hashed, or with
   * `hashIds: false`). It does not work as a cookie; give it to `destroyUserSessions` as `only` to
   * revoke that one session.
   */
  handle: string;
  /** The item's expiry, epoch seconds. */
  expiresAtSec: number;
  /** True for the session whose id was given as `current` (the device asking). */
  current: boolean;
}

/** Options of `listUserSessions`. @public */
export interface ListUserSessionsOptions {
  /** Index entries per `Query` page (DynamoDB also ends a page at 1 MB). @defaultValue no limit but DynamoDB's */
  pageSize?: number;
  /** The session id of the request asking (`req.sessionID`): its entry is marked `current`. */
  current?: string;
}

/** Options of `destroyUserSessions`. @public */
export interface DestroyUserSessionsOptions {
  /** Index entries per `Query` page. @defaultValue no limit but DynamoDB's */
  pageSize?: number;
  /** Session ids to keep, typically the current one ("log out other devices"). */
  except?: string | readonly string[];
  /** Only these sessions, by the `handle` that `listUserSessions` gave (revoke one device). */
  only?: string | readonly string[];
}

/** What `destroyUserSessions` did. @public */
export interface DestroyUserSessionsResult {
  /** Sessions destroyed (an expired session that TTL has not deleted yet counts too). */
  destroyed: number;
}

const batchGetMax = 100; // DynamoDB's BatchGetItem limit
const batchWriteMax = 25; // DynamoDB's BatchWriteItem limit

type Key = Record<string, AttributeValue>;

/**
 * What the per-user operations need of the table: its options and its calls (counted, failures as
 * `StoreUnavailableError`). @internal
 */
export interface UserTable {
  readonly options: Omit<ResolvedOptions<never>, 'userId'> & { userId: unknown };
  readonly transport: TableTransport;
}

/** One value or a list of them, as a list. */
function listOf(values: string | readonly string[] | undefined): readonly string[] {
  return typeof values === 'string' ? [values] : (values ?? []);
}

/**
 * The key of an item that is a live session of `userId`, as the table says now: the index may lag
 * behind a session that was destroyed or changed owner.
 */
function ownedKey(table: UserTable, item: Key, userId: string): string | undefined {
  const o = table.options;
  const key = item[o.hashKey]?.S;
  if (item[o.tombstoneAttribute] !== undefined || item[o.userIdAttribute]?.S !== userId) return undefined;
  return key;
}

/** The handles a session id may have: its hash, and the plain id of a session stored before ids were hashed. */
function handlesOf(table: UserTable, ids: string | readonly string[] | undefined): Set<string> {
  const handles = new Set<string>();
  for (const id of listOf(ids)) {
    if (typeof id !== 'string') continue;
    handles.add(id);
    if (table.options.hashIds) handles.add(hashOfId(id));
  }
  return handles;
}

function checkUserId(userId: string): void {
  if (typeof userId !== 'string' || userId === '' || Buffer.byteLength(userId) > 2048) {
    throw new InvalidArgumentError('userId', 'expected a non-empty string of at most 2048 bytes');
  }
}

/** Table keys of a user's sessions under this engine's prefix, read page by page from the index. */
async function queryKeys(table: UserTable, userId: string, pageSize: number | undefined): Promise<string[]> {
  checkUserId(userId);
  if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 1)) {
    throw new InvalidArgumentError('pageSize', `expected a whole number >= 1, got ${String(pageSize)}`);
  }
  const o = table.options;
  if (!o.userId) {
    throw new MissingIndexError(
      o.userIndex,
      `cannot be used: the userId option is not set, so sessions carry no "${o.userIdAttribute}". ${howToCreate(table)}`,
    );
  }
  const keys = new Set<string>();
  let start: Key | undefined;
  do {
    const page = await queryPage(table, userId, pageSize, start);
    for (const item of page.Items ?? []) {
      const key = item[o.hashKey]?.S;
      // another app may share the table (and the index) under another prefix
      if (key?.startsWith(o.prefix)) keys.add(key);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return [...keys];
}

async function queryPage(
  table: UserTable,
  userId: string,
  pageSize: number | undefined,
  start: Key | undefined,
) {
  const o = table.options;
  try {
    return await table.transport.query({
      TableName: o.tableName,
      IndexName: o.userIndex,
      KeyConditionExpression: '#u = :u',
      ProjectionExpression: '#k',
      ExpressionAttributeNames: { '#u': o.userIdAttribute, '#k': o.hashKey },
      ExpressionAttributeValues: { ':u': { S: userId } },
      ...(pageSize !== undefined && { Limit: pageSize }),
      ...(start && { ExclusiveStartKey: start }),
      ...(o.capacity && { ReturnConsumedCapacity: 'TOTAL' as const }),
    });
  } catch (err) {
    const cause = err instanceof StoreUnavailableError ? err.cause : undefined;
    // "The table does not have the specified index", or an index keyed on another attribute
    if (
      cause instanceof Error &&
      cause.name === 'ValidationException' &&
      /specified index|key schema/i.test(cause.message)
    ) {
      throw new MissingIndexError(
        o.userIndex,
        `is missing from table "${o.tableName}" (${cause.message}). ${howToCreate(table)}`,
        cause,
      );
    }
    throw err;
  }
}

function howToCreate(table: UserTable): string {
  const o = table.options;
  const flags = [
    ...(o.userIndex === DEFAULTS.userIndex ? [] : [`--index-name ${o.userIndex}`]),
    ...(o.userIdAttribute === DEFAULTS.userIdAttribute ? [] : [`--user-attribute ${o.userIdAttribute}`]),
  ];
  const options = [
    `tableName: '${o.tableName}'`,
    ...(o.userIndex === DEFAULTS.userIndex ? [] : [`userIndex: '${o.userIndex}'`]),
    ...(o.userIdAttribute === DEFAULTS.userIdAttribute ? [] : [`userIdAttribute: '${o.userIdAttribute}'`]),
  ];
  return (
    `Add it with: npx dynamodb-sessions create-table --table ${o.tableName} --user-index${flags.map((f) => ` ${f}`).join('')} ` +
    `(or addUserIndex(client, { ${options.join(', ')} }) in code): both add a keys-only global secondary index ` +
    `"${o.userIndex}" on "${o.userIdAttribute}" (string) to the existing table and wait until it is ACTIVE.`
  );
}

/** Reads expiry, tombstone and owner of each key (the index holds keys only), consistently. */
async function readItems(table: UserTable, keys: string[]): Promise<Key[]> {
  const o = table.options;
  const items: Key[] = [];
  await eachChunk(keys, batchGetMax, (chunk) =>
    untilProcessed<Key>(
      'BatchGetItem',
      chunk.map((key) => ({ [o.hashKey]: { S: key } })),
      async (rest) => {
        const out = await table.transport.batchGetItem({
          RequestItems: {
            [o.tableName]: {
              Keys: rest,
              // a page shown right after "log out other devices" must not list the revoked ones
              ConsistentRead: true,
              ProjectionExpression: '#k, #e, #t, #u',
              ExpressionAttributeNames: {
                '#k': o.hashKey,
                '#e': o.expiresAttribute,
                '#t': o.tombstoneAttribute,
                '#u': o.userIdAttribute,
              },
            },
          },
          ...(o.capacity && { ReturnConsumedCapacity: 'TOTAL' as const }),
        });
        items.push(...(out.Responses?.[o.tableName] ?? []));
        return out.UnprocessedKeys?.[o.tableName]?.Keys ?? [];
      },
    ),
  );
  return items;
}

/**
 * Lists a user's live sessions: a `Query` on the user index (all pages), then a consistent
 * `BatchGetItem` of the expiry, since the index holds keys only. Expired and destroyed sessions are
 * left out. The index is eventually consistent: a session saved a moment ago may be missing.
 * @throws MissingIndexError, StoreUnavailableError
 * @internal
 */
export async function listUserSessions(
  table: UserTable,
  userId: string,
  options: ListUserSessionsOptions = {},
): Promise<UserSession[]> {
  const o = table.options;
  const keys = await queryKeys(table, userId, options.pageSize);
  const current = handlesOf(table, options.current);
  const now = nowSec();
  const sessions: UserSession[] = [];
  for (const item of await readItems(table, keys)) {
    const key = ownedKey(table, item, userId);
    if (key === undefined) continue;
    const expiresAtSec = Number(item[o.expiresAttribute]?.N);
    if (!Number.isFinite(expiresAtSec)) {
      debug('listUserSessions: %s has no numeric %s, left out', keyTag(key), o.expiresAttribute);
      continue;
    }
    const handle = key.slice(o.prefix.length);
    if (expiresAtSec > now) sessions.push({ handle, expiresAtSec, current: current.has(handle) });
  }
  return sessions.sort((a, b) => b.expiresAtSec - a.expiresAtSec || (a.handle < b.handle ? -1 : 1));
}

/**
 * Destroys every session of a user but those in `except` (or only those in `only`), 25 per `BatchWriteItem`, after a
 * consistent `BatchGetItem` per 100 that checks each still belongs to the user: each becomes a
 * tombstone (or is deleted when `tombstoneSeconds` is 0), so requests in flight cannot write it back.
 * Safe to retry after a failure. A session saved a moment ago may not be in the index yet.
 * @throws MissingIndexError, StoreUnavailableError
 * @internal
 */
export async function destroyUserSessions(
  table: UserTable,
  userId: string,
  options: DestroyUserSessionsOptions = {},
): Promise<DestroyUserSessionsResult> {
  const o = table.options;
  const except = handlesOf(table, options.except);
  const only = options.only === undefined ? undefined : new Set(listOf(options.only));
  const candidates = (await queryKeys(table, userId, options.pageSize)).filter((key) => {
    const handle = key.slice(o.prefix.length);
    return !except.has(handle) && (only === undefined || only.has(handle));
  });
  // the index is eventually consistent: it may still list a session that changed owner, which is
  // not this user's to revoke. What the items say now (consistently read) decides.
  const keys: string[] = [];
  for (const item of await readItems(table, candidates)) {
    const key = ownedKey(table, item, userId);
    if (key !== undefined) keys.push(key);
  }
  let destroyed = 0;
  await eachChunk(keys, batchWriteMax, async (chunk) => {
    const requests: WriteRequest[] = chunk.map((key) =>
      o.tombstoneSeconds === 0
        ? { DeleteRequest: { Key: { [o.hashKey]: { S: key } } } }
        : { PutRequest: { Item: tombstoneItem(o, key, nowSec()) } },
    );
    await untilProcessed('BatchWriteItem', requests, async (rest) => {
      const out = await table.transport.batchWriteItem({
        RequestItems: { [o.tableName]: rest },
        ...(o.capacity && { ReturnConsumedCapacity: 'TOTAL' as const }),
      });
      return out.UnprocessedItems?.[o.tableName] ?? [];
    });
    destroyed += chunk.length;
  });
  return { destroyed };
}
