/** The options of the engine and every store, and their validation. The defaults are in `defaults.ts`. */
import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DEFAULTS } from './defaults.js';
import { InvalidOptionError } from './errors.js';
import type { CompressionOptions, ResolvedCompression, Serializer } from './format/envelope.js';
import { type EncryptionKey, KeyRing } from './format/keyring.js';

/**
 * A client that sends DynamoDB commands: a `DynamoDBClient`, or a `DynamoDBDocumentClient` (which
 * shares its `DynamoDBClient`'s middleware stack, so plain commands work on it too).
 * @public
 */
export type DynamoDBSendClient = Pick<DynamoDBClient, 'send'>;

/** What one DynamoDB call consumed, as DynamoDB reported it (needs `capacity: true`). @public */
export interface CapacityEvent {
  /** `GetItem`, `PutItem`, `UpdateItem`, `DeleteItem`, `Query` or `BatchGetItem`. */
  operation: string;
  /** Read capacity units consumed. */
  rcu: number;
  /** Write capacity units consumed. */
  wcu: number;
}

/** Options of the session engine and of every adapter's store. Each default is set once, in `resolveOptions`. @public */
export interface EngineOptions<T = Record<string, unknown>> {
  /**
   * A `DynamoDBClient` or `DynamoDBDocumentClient` you made (region, credentials, endpoint and
   * cross-account roles are yours). It is never destroyed by this package.
   * @defaultValue a `DynamoDBClient` from the default credential chain, with `clientConfig`
   */
  client?: DynamoDBSendClient;
  /**
   * Settings for the client made when `client` is not given, merged over bounded defaults:
   * `maxAttempts: 3`, `retryMode: 'standard'`, `requestHandler` with a 1 s connection timeout and a
   * 3 s request timeout that throws (`throwOnRequestTimeout`), so that a hung DynamoDB fails a
   * request within seconds instead of hanging it, and `cacheMiddleware: true` (the store never
   * changes its client's middleware, so the stack is resolved once instead of on every call).
   */
  clientConfig?: DynamoDBClientConfig;
  /**
   * How the item calls reach DynamoDB. `'auto'`: the client signs and sends them with its own
   * signer, retry strategy and request handler, without its middleware stack (the direct path, the
   * cheapest in CPU; if a part of it ever fails where the SDK's `send` does not, the calls go through
   * `send` from then on). That is the client the store makes, and a `client` passed in with only the
   * SDK's own middleware. A client with middleware of the app's (its own, X-Ray's), a logger, or a
   * `send` wrapped by an instrumentation gets every call through its `send`, with the JSON written
   * and read in one step each (the SDK path). `'sdk'`: every call through `send` with the SDK's own
   * JSON, for either client.
   * @defaultValue `'auto'`
   */
  transport?: 'auto' | 'sdk';
  /**
   * Milliseconds a DynamoDB call may take, retries included, whichever client sends it. Past it the
   * call is aborted and fails with `StoreUnavailableError` (a 503), so that a request never hangs on
   * a client passed in without timeouts. The store's own client gives up by itself before that.
   * @defaultValue `10000`
   */
  callTimeoutMs?: number;
  /** Table name. @defaultValue `'sessions'` */
  tableName?: string;
  /** Name of the table's partition key (a string). @defaultValue `'id'` */
  hashKey?: string;
  /** Prepended to every session id, so that several apps can share one table. @defaultValue `'session#'` */
  prefix?: string;
  /**
   * Key items by a one-way hash (SHA-256) of the session id, so that nothing in the table (console,
   * backups, exports) works as a cookie. Sessions stored under the plain id by earlier versions
   * (and connect-dynamodb, `@pwrdrvr/dynamodb-session-store`) are still read, and move to the hashed key at their next write.
   * `false` keys items by the plain id, for tables other tools read by id: whoever can read the
   * table can then take over every live session.
   * @defaultValue `true`
   */
  hashIds?: boolean;
  /**
   * With `hashIds`: when a session's hashed key holds nothing, look for it under its plain id too
   * (where earlier versions, connect-dynamodb and `@pwrdrvr/dynamodb-session-store` stored it), and on
   * `destroy` delete what is there. It costs an eventually consistent read (half a unit) on a miss,
   * sent with the consistent re-read, and one on a logout; once no session stored before the upgrade
   * can be alive (a `ttl` or cookie `maxAge` after it), turn it off.
   * @defaultValue `true`
   */
  plainIdFallback?: boolean;
  /** Attribute that holds the session data. @defaultValue `'sess'` */
  dataAttribute?: string;
  /** Attribute that holds the expiry, in epoch seconds; enable DynamoDB TTL on it. @defaultValue `'expires'` */
  expiresAttribute?: string;
  /** Strongly consistent reads (twice the read cost). @defaultValue `false` */
  consistentRead?: boolean;
  /**
   * When an eventually consistent read finds nothing, read once more with `ConsistentRead`, so that
   * a login just written by another instance is not answered as "no session". Costs only on misses.
   * @defaultValue `true`
   */
  consistentReadOnMiss?: boolean;
  /**
   * Seconds: an unmodified session's expiry is rewritten at most once per window (DynamoDB bills a
   * one-attribute update as a write of the whole item). `0` writes on every request.
   * @defaultValue `3600`
   */
  touchAfter?: number;
  /** Seconds: the lifetime used when the framework gives none (browser-session cookies). @defaultValue `86400` */
  ttl?: number;
  /**
   * Seconds a destroyed session's tombstone is kept, so that a request still in flight cannot write
   * the session back ("logout is final"). `0` deletes the item instead, without that guarantee.
   * @defaultValue `3600`
   */
  tombstoneSeconds?: number;
  /** Attribute that marks a tombstone (epoch seconds of the destroy). @defaultValue `'destroyed'` */
  tombstoneAttribute?: string;
  /**
   * Attribute that holds the item's version: every write of the data increments it, and a save
   * succeeds only if the item is still the version the request loaded (no lost updates).
   * @defaultValue `'ver'`
   */
  versionAttribute?: string;
  /**
   * Returns the user a session belongs to, stored beside it for `listUserSessions` and
   * `destroyUserSessions`. Without it nothing changes in cost or item shape.
   */
  userId?: (session: T) => string | undefined;
  /** Attribute that holds the user id. @defaultValue `'uid'` */
  userIdAttribute?: string;
  /** Global secondary index on `userIdAttribute`. @defaultValue `'uid-index'` */
  userIndex?: string;
  /** How many sessions this process remembers (stored expiry) to skip unneeded writes; `0` turns it off. @defaultValue `10000` */
  cacheSize?: number;
  /** Ask DynamoDB for the consumed capacity of every call (`stats()` RCU/WCU, `onCapacity`). @defaultValue `false` */
  capacity?: boolean;
  /** Called with the consumed capacity of every call; turns `capacity` on. */
  onCapacity?: (event: CapacityEvent) => void;
  /**
   * Compress sessions whose serialized text is larger than `threshold` bytes, stored as binary (B);
   * smaller ones stay a readable map. DynamoDB bills writes per KB and reads per 4 KB of item, so
   * this cuts the cost of large sessions for some CPU. `true` is `{ threshold: 1024, algorithm: 'brotli' }`.
   * Every form is read whatever this option says, so it can be switched on or off for a live table.
   * @defaultValue `false`
   */
  compress?: boolean | CompressionOptions;
  /**
   * Stores sessions as the string this serializer makes (S) instead of a map; `parse` reads them back
   * (and any string attribute). @defaultValue none: a DynamoDB map
   */
  serializer?: Serializer;
  /**
   * Seals session data with AES-256-GCM, bound to its session id: DynamoDB only sees ciphertext, and
   * an altered item, or one copied to another session, reads as no session (`stats().unreadable`).
   * With a list, the first key seals and every key opens (key rotation). While it is set, data that
   * is not sealed reads as no session. @defaultValue none
   */
  encryption?: EncryptionKey | readonly EncryptionKey[];
}

/**
 * Every option's name, once. `satisfies` makes the type checker refuse this list when a field of
 * `EngineOptions` is missing from it or one is extra, so `resolveOptions` can refuse unknown keys.
 */
const optionNames = {
  client: true,
  clientConfig: true,
  transport: true,
  callTimeoutMs: true,
  tableName: true,
  hashKey: true,
  prefix: true,
  hashIds: true,
  plainIdFallback: true,
  dataAttribute: true,
  expiresAttribute: true,
  consistentRead: true,
  consistentReadOnMiss: true,
  touchAfter: true,
  ttl: true,
  tombstoneSeconds: true,
  tombstoneAttribute: true,
  versionAttribute: true,
  userId: true,
  userIdAttribute: true,
  userIndex: true,
  cacheSize: true,
  capacity: true,
  onCapacity: true,
  compress: true,
  serializer: true,
  encryption: true,
} satisfies { [K in keyof Required<EngineOptions>]: true };

/**
 * The name of every option of the engine and the stores (`EngineOptions`), for code that separates
 * the store's options from its own, as the Fastify plugin and Koa's `dynamodbSession` do.
 * @public
 */
export const OPTION_NAMES: readonly (keyof EngineOptions)[] = Object.freeze(
  Object.keys(optionNames) as (keyof EngineOptions)[],
);

/** Options with every default applied (see `EngineOptions` for each field). @internal */
export interface ResolvedOptions<T> {
  tableName: string;
  hashKey: string;
  prefix: string;
  hashIds: boolean;
  plainIdFallback: boolean;
  dataAttribute: string;
  expiresAttribute: string;
  consistentRead: boolean;
  consistentReadOnMiss: boolean;
  touchAfter: number;
  ttl: number;
  tombstoneSeconds: number;
  tombstoneAttribute: string;
  versionAttribute: string;
  userId: ((session: T) => string | undefined) | undefined;
  userIdAttribute: string;
  userIndex: string;
  cacheSize: number;
  capacity: boolean;
  onCapacity: ((event: CapacityEvent) => void) | undefined;
  compress: ResolvedCompression | undefined;
  serializer: Serializer | undefined;
  encryption: KeyRing | undefined;
  transport: 'auto' | 'sdk';
  callTimeoutMs: number;
}

const attributeName = /^[A-Za-z0-9_.-]{1,255}$/;
const tableNamePattern = /^[A-Za-z0-9_.-]{3,255}$/;

/** A value as a message shows it: strings quoted, everything else as its type or number. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === null ? 'null' : typeof value;
}

function name(option: string, value: string | undefined, fallback: string, pattern = attributeName): string {
  const v = value ?? fallback;
  if (typeof v !== 'string' || !pattern.test(v)) {
    const length = pattern === attributeName ? '1-255' : '3-255';
    throw new InvalidOptionError(
      option,
      `expected ${length} characters of A-Z a-z 0-9 _ . -, got ${shown(v)}`,
    );
  }
  return v;
}

function seconds(option: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new InvalidOptionError(option, `expected a number of seconds >= ${min}, got ${shown(v)}`);
  }
  return v;
}

function count(option: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new InvalidOptionError(option, `expected a whole number >= 0, got ${shown(v)}`);
  }
  return v;
}

function flag(option: string, value: boolean | undefined, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== 'boolean') throw new InvalidOptionError(option, `expected true or false, got ${shown(v)}`);
  return v;
}

function fn<F>(option: string, value: F | undefined, rule: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(option, `expected a function ${rule}, got ${shown(value)}`);
  }
  return value;
}

/** Validates the `compress` option. */
function resolveCompression(
  value: boolean | CompressionOptions | undefined,
): ResolvedCompression | undefined {
  if (value === undefined || value === false) return undefined;
  const d = DEFAULTS.compress;
  if (value === true) return { threshold: d.threshold, algorithm: d.algorithm };
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError(
      'compress',
      `expected true, false or { threshold?, algorithm? }, got ${shown(value)}`,
    );
  }
  const threshold = value.threshold ?? d.threshold;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0) {
    throw new InvalidOptionError(
      'compress.threshold',
      `expected a number of bytes >= 0, got ${shown(threshold)}`,
    );
  }
  const algorithm = value.algorithm ?? d.algorithm;
  if (algorithm !== 'gzip' && algorithm !== 'brotli') {
    throw new InvalidOptionError(
      'compress.algorithm',
      `expected 'gzip' or 'brotli', got ${shown(algorithm)}`,
    );
  }
  return { threshold, algorithm };
}

/** Validates the `serializer` option. */
function resolveSerializer(value: Serializer | undefined): Serializer | undefined {
  if (value === undefined) return undefined;
  if (typeof value?.stringify !== 'function' || typeof value.parse !== 'function') {
    throw new InvalidOptionError('serializer', 'expected { stringify(data): string, parse(text) }');
  }
  return value;
}

/** Validates the `transport` option. */
function resolveTransport(value: unknown): 'auto' | 'sdk' {
  const v = value ?? DEFAULTS.transport;
  if (v !== 'auto' && v !== 'sdk')
    throw new InvalidOptionError('transport', `expected 'auto' or 'sdk', got ${shown(v)}`);
  return v;
}

/** Validates the `callTimeoutMs` option (a timer's range: 1 ms to about 24 days). */
function resolveCallTimeout(value: unknown): number {
  const v = value ?? DEFAULTS.callTimeoutMs;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 1 || v > 2_147_483_647) {
    throw new InvalidOptionError(
      'callTimeoutMs',
      `expected a number of milliseconds from 1 to 2147483647, got ${shown(v)}`,
    );
  }
  return v;
}

/** Settings of the SDK client that are sometimes given to the store itself. */
const clientSettings = new Set([
  'region',
  'endpoint',
  'credentials',
  'maxAttempts',
  'retryMode',
  'retryStrategy',
  'requestHandler',
  'logger',
  'profile',
  'useFipsEndpoint',
  'useDualstackEndpoint',
]);
/** Names used by other stores and the SDK for an option of this one. */
const aliases = new Map<string, keyof EngineOptions>([
  ['table', 'tableName'],
  ['partitionKey', 'hashKey'],
  ['keyPrefix', 'prefix'],
]);
/** `TableName`, `table_name`, `tablename` and `table-name` all mean `tableName`. */
const loose = (key: string) => key.toLowerCase().replace(/[-_]/g, '');

/** Refuses a key that is not an option, saying where it belongs. */
function checkNames(options: object): void {
  for (const [key, value] of Object.entries(options)) {
    if (Object.hasOwn(optionNames, key)) continue;
    const example = typeof value === 'object' || typeof value === 'function' ? '...' : shown(value);
    if (clientSettings.has(key)) {
      throw new InvalidOptionError(
        key,
        `not an option of the store; the client's ${key} goes in clientConfig: { clientConfig: { ${key}: ${example} } }`,
      );
    }
    const meant = aliases.get(key) ?? OPTION_NAMES.find((name) => loose(name) === loose(key));
    throw new InvalidOptionError(
      key,
      meant
        ? `not an option of the store; did you mean ${meant}? { ${meant}: ${example} }`
        : `not an option of the store (its options: ${OPTION_NAMES.join(', ')})`,
    );
  }
}

/** Applies the defaults; throws `InvalidOptionError` naming the first bad option. Never mutates input. @internal */
export function resolveOptions<T>(options: EngineOptions<T>): ResolvedOptions<T> {
  checkNames(options);
  const d = DEFAULTS;
  const userId = fn('userId', options.userId, '(session) => string | undefined');
  const onCapacity = fn('onCapacity', options.onCapacity, '(event) => void');
  const prefix = options.prefix ?? d.prefix;
  if (typeof prefix !== 'string' || Buffer.byteLength(prefix) > 1024) {
    throw new InvalidOptionError('prefix', `expected a string of at most 1024 bytes, got ${shown(prefix)}`);
  }
  const resolved: ResolvedOptions<T> = {
    tableName: name('tableName', options.tableName, d.tableName, tableNamePattern),
    hashKey: name('hashKey', options.hashKey, d.hashKey),
    prefix,
    hashIds: flag('hashIds', options.hashIds, d.hashIds),
    plainIdFallback: flag('plainIdFallback', options.plainIdFallback, d.plainIdFallback),
    dataAttribute: name('dataAttribute', options.dataAttribute, d.dataAttribute),
    expiresAttribute: name('expiresAttribute', options.expiresAttribute, d.expiresAttribute),
    consistentRead: flag('consistentRead', options.consistentRead, d.consistentRead),
    consistentReadOnMiss: flag('consistentReadOnMiss', options.consistentReadOnMiss, d.consistentReadOnMiss),
    touchAfter: seconds('touchAfter', options.touchAfter, d.touchAfter, 0),
    ttl: seconds('ttl', options.ttl, d.ttl, 1),
    tombstoneSeconds: seconds('tombstoneSeconds', options.tombstoneSeconds, d.tombstoneSeconds, 0),
    tombstoneAttribute: name('tombstoneAttribute', options.tombstoneAttribute, d.tombstoneAttribute),
    versionAttribute: name('versionAttribute', options.versionAttribute, d.versionAttribute),
    userId,
    userIdAttribute: name('userIdAttribute', options.userIdAttribute, d.userIdAttribute),
    userIndex: name('userIndex', options.userIndex, d.userIndex),
    cacheSize: count('cacheSize', options.cacheSize, d.cacheSize),
    capacity: flag('capacity', options.capacity ?? (onCapacity ? true : undefined), d.capacity),
    onCapacity,
    compress: resolveCompression(options.compress),
    serializer: resolveSerializer(options.serializer),
    encryption: options.encryption === undefined ? undefined : new KeyRing(options.encryption),
    transport: resolveTransport(options.transport),
    callTimeoutMs: resolveCallTimeout(options.callTimeoutMs),
  };
  const attrs: [string, string][] = [
    ['hashKey', resolved.hashKey],
    ['dataAttribute', resolved.dataAttribute],
    ['expiresAttribute', resolved.expiresAttribute],
    ['tombstoneAttribute', resolved.tombstoneAttribute],
    ['versionAttribute', resolved.versionAttribute],
  ];
  if (resolved.userId) attrs.push(['userIdAttribute', resolved.userIdAttribute]);
  const used = new Map<string, string>();
  for (const [option, value] of attrs) {
    const other = used.get(value);
    if (other) throw new InvalidOptionError(option, `"${value}" is already the attribute of ${other}`);
    used.set(value, option);
  }
  return resolved;
}
