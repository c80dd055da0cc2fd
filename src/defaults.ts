/**
 * Every default of the package, written once: the engine's options, the client it makes, the
 * compression it applies and the table `createTable` creates. The engine, `createTable`, the CLI
 * and `doctor` all read them from here.
 */

/** The settings of the client the store makes when no `client` is given. @public */
export interface ClientDefaults {
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
  /** The SDK's standard retry strategy: exponential backoff with jitter and a retry quota. */
  readonly retryMode: 'standard';
  /** The HTTP handler's bounds. */
  readonly requestHandler: {
    /** ms to open a connection. */
    readonly connectionTimeout: number;
    /** ms to wait for an answer. */
    readonly requestTimeout: number;
    /** Without it the SDK only logs a warning on a request timeout, and the request hangs on. */
    readonly throwOnRequestTimeout: boolean;
  };
  /** The store never changes its own client's middleware: the stack is resolved once, not per call. */
  readonly cacheMiddleware: boolean;
}

/** What `createTable` creates when told nothing else. @public */
export interface TableDefaults {
  /** Billing mode. */
  readonly billing: 'on-demand' | 'provisioned';
  /** Provisioned read capacity units (table and index). */
  readonly readCapacity: number;
  /** Provisioned write capacity units (table and index). */
  readonly writeCapacity: number;
  /** Seconds to wait for a new table to become ACTIVE. */
  readonly waitSeconds: number;
}

/** The defaults; see `EngineOptions` for what each option does. @public */
export interface Defaults {
  /** The table. */
  readonly tableName: string;
  /** The table's partition key (a string). */
  readonly hashKey: string;
  /** Prepended to every session id in the table's keys. */
  readonly prefix: string;
  /** The table holds a one-way hash of each session id, never the id. */
  readonly hashIds: boolean;
  /** The attribute holding the session data. */
  readonly dataAttribute: string;
  /** The attribute holding the expiry, epoch seconds; TTL is enabled on it. */
  readonly expiresAttribute: string;
  /** Strongly consistent reads. */
  readonly consistentRead: boolean;
  /** A strongly consistent re-read when an eventually consistent read finds nothing. */
  readonly consistentReadOnMiss: boolean;
  /** Seconds between expiry-only writes of an unchanged session. */
  readonly touchAfter: number;
  /** Seconds a session lives when the framework gives no lifetime. */
  readonly ttl: number;
  /** Seconds a destroyed session's tombstone is kept. */
  readonly tombstoneSeconds: number;
  /** The attribute marking a tombstone. */
  readonly tombstoneAttribute: string;
  /** The attribute holding the item's version, which every full write increments. */
  readonly versionAttribute: string;
  /** The attribute holding the user id of per-user operations. */
  readonly userIdAttribute: string;
  /** The global secondary index on the user id. */
  readonly userIndex: string;
  /** Sessions the process remembers to skip unneeded writes. */
  readonly cacheSize: number;
  /** Ask DynamoDB for the consumed capacity of every call. */
  readonly capacity: boolean;
  /** What `compress: true` means. */
  readonly compress: {
    /** Bytes of JSON over which a session is compressed. */
    readonly threshold: number;
    /** How. */
    readonly algorithm: 'brotli' | 'gzip';
  };
  /** Merged under `clientConfig` when the store makes its own client. */
  readonly clientConfig: ClientDefaults;
  /** `createTable`'s defaults. */
  readonly table: TableDefaults;
}

/**
 * Every default of the package: the engine's options, the client it makes and `createTable`'s.
 * Frozen at every depth.
 * @public
 */
export const DEFAULTS: Defaults = deepFreeze({
  tableName: 'sessions',
  hashKey: 'id',
  prefix: 'session#',
  hashIds: true,
  dataAttribute: 'sess',
  expiresAttribute: 'expires',
  consistentRead: false,
  consistentReadOnMiss: true,
  touchAfter: 3600,
  ttl: 86_400,
  tombstoneSeconds: 3600,
  tombstoneAttribute: 'destroyed',
  versionAttribute: 'ver',
  userIdAttribute: 'uid',
  userIndex: 'uid-index',
  cacheSize: 10_000,
  capacity: false,
  compress: { threshold: 1024, algorithm: 'brotli' },
  clientConfig: {
    maxAttempts: 3,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
    cacheMiddleware: true,
  },
  table: { billing: 'on-demand', readCapacity: 5, writeCapacity: 5, waitSeconds: 120 },
});

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(value);
}
