export { type ClientDefaults, DEFAULTS, type Defaults, type TableDefaults } from './defaults.js';
export { SessionEngine, type SetOptions } from './engine.js';
export {
  DynamoDBSessionsError,
  InvalidArgumentError,
  InvalidOptionError,
  InvalidSessionIdError,
  MalformedItemError,
  MissingIndexError,
  SessionConflictError,
  SessionDataError,
  SessionIdInUseError,
  SessionIntegrityError,
  SessionTooLargeError,
  StoreUnavailableError,
} from './errors.js';
export type { CompressionAlgorithm, CompressionOptions, Serializer } from './format/envelope.js';
export { ITEM_LIMIT_BYTES, type SessionRecord } from './format/item.js';
export type { EncryptionKey } from './format/keyring.js';
export type { Plain } from './format/plain.js';
export { type CapacityEvent, type DynamoDBSendClient, type EngineOptions, OPTION_NAMES } from './options.js';
export type { OperationStats, StatsSnapshot } from './stats.js';
export {
  type AddUserIndexOptions,
  type AddUserIndexResult,
  addUserIndex,
  type CreateTableOptions,
  type CreateTableResult,
  createTable,
} from './table.js';
export type {
  DestroyUserSessionsOptions,
  DestroyUserSessionsResult,
  ListUserSessionsOptions,
  UserSession,
} from './users.js';
