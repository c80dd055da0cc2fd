/**
 * Typed errors. Every error carries a literal `code`; match on it (or use `instanceof`).
 * None uses `ENOENT` (read by express-session and `@fastify/session` as "no session") and none
 * carries a 4xx status (used as the HTTP status by every framework).
 *
 * A message can reach a visitor (Fastify's default error handler puts it in the body): it never names
 * the table, the region, the endpoint or a command. What the operator needs to know is in `detail`,
 * `advice` and `cause`, and in the debug log (`NODE_DEBUG=dynamodb-sessions`).
 */
import { debuglog } from 'node:util';
import { errorText } from './transport/log.js';

const debug = debuglog('dynamodb-sessions');

/** The whole message of a 503: all a visitor learns. @internal */
export const unavailableMessage = 'session store unavailable';

/** Base class of every error this package throws. @public */
export class DynamoDBSessionsError extends Error {
  /** A stable, machine-readable code such as `ERR_SESSION_TOO_LARGE`. */
  readonly code: string;
  /** HTTP status the frameworks use when the error reaches them; always 5xx. */
  readonly status: number;
  /** Same as `status`, for frameworks that read `statusCode`. */
  readonly statusCode: number;

  constructor(code: string, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options?.status ?? 500;
    this.statusCode = this.status;
  }
}

/** The serialized session does not fit in one DynamoDB item (400 KB). Nothing was written. @public */
export class SessionTooLargeError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_SESSION_TOO_LARGE';
  /** Estimated item size in bytes. */
  readonly sizeBytes: number;
  /** The limit in bytes (DynamoDB's 400 KB). */
  readonly limitBytes: number;
  constructor(sizeBytes: number, limitBytes: number) {
    super(
      'ERR_SESSION_TOO_LARGE',
      `session is too large for one DynamoDB item: about ${sizeBytes} bytes, the limit is ${limitBytes} bytes`,
    );
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
  }
}

/** The session holds a value that cannot be stored (cycle, BigInt, function, symbol, number out of range). @public */
export class SessionDataError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_SESSION_DATA';
  /** Where the value was found, e.g. `session.user.avatar`. */
  readonly path: string;
  constructor(path: string, reason: string) {
    super('ERR_SESSION_DATA', `cannot store ${path}: ${reason}`);
    this.path = path;
  }
}

/** An item found in the table does not have the shape this store writes. @public */
export class MalformedItemError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_MALFORMED_ITEM';
  /** The attribute that is missing or of the wrong type. */
  readonly attribute: string;
  constructor(attribute: string, reason: string) {
    super('ERR_MALFORMED_ITEM', `malformed session item: attribute "${attribute}" ${reason}`);
    this.attribute = attribute;
  }
}

/** A session id that cannot be a DynamoDB key (empty, or longer than 2048 bytes with the prefix). @public */
export class InvalidSessionIdError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_INVALID_SESSION_ID';
  constructor(reason: string) {
    super('ERR_INVALID_SESSION_ID', `invalid session id: ${reason}`);
  }
}

/** An option has a wrong value; the message names it. @public */
export class InvalidOptionError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_INVALID_OPTION';
  /** The option's name. */
  readonly option: string;
  constructor(option: string, reason: string) {
    super('ERR_INVALID_OPTION', `invalid option ${option}: ${reason}`);
    this.option = option;
  }
}

/** A method was called with a wrong argument; the message names it and the rule. @public */
export class InvalidArgumentError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_INVALID_ARGUMENT';
  /** The argument's name. */
  readonly argument: string;
  constructor(argument: string, reason: string) {
    super('ERR_INVALID_ARGUMENT', `invalid argument ${argument}: ${reason}`);
    this.argument = argument;
  }
}

/**
 * DynamoDB failed or could not be reached (network, timeout, throttling, missing table, wrong key
 * schema). The SDK error is the `cause`. Status 503: the request failed, the session was not lost.
 * The message says only that the session store is unavailable; `detail` and `advice` say what failed
 * and what to do, for the operator.
 * @public
 */
export class StoreUnavailableError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_STORE_UNAVAILABLE';
  /** The DynamoDB operation, e.g. `GetItem`. */
  readonly operation: string;
  /** True when DynamoDB throttled the request (after the client's retries). */
  readonly throttled: boolean;
  /**
   * What failed, for the operator, e.g. `DynamoDB GetItem failed: ResourceNotFoundException: ...`:
   * it may name the table, the region or the endpoint, so it is kept out of `message`.
   */
  readonly detail: string;
  /**
   * What to do about it, when the store can tell (e.g. for a missing table: which table, where, and
   * the command that creates it), for the operator; `undefined` otherwise.
   */
  readonly advice: string | undefined;
  /**
   * @param advice - what to do about it, when the store can tell (e.g. the command that creates a
   * missing table)
   */
  constructor(operation: string, cause: unknown, advice?: string) {
    super('ERR_STORE_UNAVAILABLE', unavailableMessage, { cause, status: 503 });
    this.operation = operation;
    this.throttled = isThrottle(cause);
    // the first line of what failed, with anything that authenticates a request masked: DynamoDB's
    // answer to a badly signed request quotes the canonical request, session token included
    this.detail = `DynamoDB ${operation} failed: ${errorText(cause)}`;
    this.advice = advice;
    debug('%s%s', this.detail, advice ? `. ${advice}` : '');
  }
}

/**
 * A save kept finding the session changed by other requests, and gave up after re-applying its
 * changes the maximum number of times. Nothing of this request was written; status 503. Like every
 * 503, the message says only that the session store is unavailable; `detail` says why. @public
 */
export class SessionConflictError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_SESSION_CONFLICT';
  /** Attempts made. */
  readonly attempts: number;
  /** Why, for the operator. */
  readonly detail: string;
  constructor(attempts: number) {
    super('ERR_SESSION_CONFLICT', unavailableMessage, { status: 503 });
    this.attempts = attempts;
    this.detail = `session save gave up after ${attempts} attempts: other requests kept changing the session`;
  }
}

/**
 * A new session got the id of a live session: the id generator (express-session's `genid`,
 * @fastify/session's `idGenerator`, koa-session's `genid`) must make unique ids. Nothing was
 * written: the live session is left as it is. @public
 */
export class SessionIdInUseError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_SESSION_ID_IN_USE';
  constructor() {
    super(
      'ERR_SESSION_ID_IN_USE',
      'a new session got the id of a live session: session ids must be unique (check genid or idGenerator)',
    );
  }
}

/**
 * The user index needed for per-user operations is not configured or not in the table. The message
 * names the index, not the table; `advice` says how to add it, for the operator. @public
 */
export class MissingIndexError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_MISSING_INDEX';
  /** The index name that was looked for. */
  readonly index: string;
  /** How to add the index (the table, the command), when the store can tell; `undefined` otherwise. */
  readonly advice: string | undefined;
  constructor(index: string, reason: string, cause?: unknown, advice?: string) {
    super('ERR_MISSING_INDEX', `user index "${index}" ${reason}`, { cause });
    this.index = index;
    this.advice = advice;
    if (advice) debug('%s. %s', this.message, advice);
  }
}

/** A sealed (encrypted) item failed authentication: tampered, or sealed with an unknown key. @public */
export class SessionIntegrityError extends DynamoDBSessionsError {
  declare readonly code: 'ERR_SESSION_INTEGRITY';
  constructor(reason: string) {
    super('ERR_SESSION_INTEGRITY', `session item refused: ${reason}`);
  }
}

const throttleNames = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/** True for DynamoDB's answer that the table does not exist. @internal */
export function isMissingTable(err: unknown): boolean {
  return err instanceof Error && err.name === 'ResourceNotFoundException';
}

/** True for the DynamoDB errors that mean "slow down". @internal */
export function isThrottle(err: unknown): boolean {
  return err instanceof Error && throttleNames.has(err.name);
}
