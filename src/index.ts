export type { Plain } from './codec.js';
export type { CompressionAlgorithm, CompressionOptions, EncryptionKey, Serializer } from './data.js';
export { ITEM_LIMIT_BYTES, SessionEngine, type SessionRecord, type SetOptions } from './engine.js';
export {
  DynamoDBSessionsError,
  InvalidOptionError,
  InvalidSessionIdError,
  MalformedItemError,
  MissingIndexError,
  SessionDataError,
  SessionIntegrityError,
  SessionTooLargeError,
  StoreUnavailableError,
} from './errors.js';
export type { CapacityEvent, EngineOptions } from './options.js';
export type { OperationStats, StatsSnapshot } from './stats.js';
export { type CreateTableOptions, type CreateTableResult, createTable } from './table.js';
export type {
  DestroyUserSessionsOptions,
  DestroyUserSessionsResult,
  ListUserSessionsOptions,
  UserSession,
} from './users.js';
