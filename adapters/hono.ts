/**
 * hono-sessions store: `sessionMiddleware({ store: new DynamoDBStore({ tableName: 'sessions' }), ... })`.
 * Only translates between hono-sessions' store calls and the engine.
 * @packageDocumentation
 */
import type { SessionData, Store } from 'hono-sessions';
import {
  type DestroyUserSessionsOptions,
  type DestroyUserSessionsResult,
  DynamoDBSessionsError,
  type EngineOptions,
  type ListUserSessionsOptions,
  SessionEngine,
  type SessionRecord,
  type UserSession,
} from '../src/index.js';
import { afterEarlierSave, isRecord, secondsOf } from './shared.js';

/**
 * A session as the store keeps it: hono-sessions' `_data`, each key's `{ value, flash }`. `_expire`
 * is the item's expiry; `_accessed` is not stored (it changes on every request). @public
 */
export type HonoSessionEntries = SessionData['_data'];

/** Options of the hono-sessions store: the engine's options. @public */
export type DynamoDBStoreOptions = EngineOptions<HonoSessionEntries>;

/** What each session object hono-sessions got from `getSessionById` was loaded as. */
interface Loaded {
  id: string;
  record: SessionRecord<HonoSessionEntries>;
  /** The `_expire` handed out with it: given back unchanged, the session has no expiry of its own. */
  expire: string | undefined;
}
const loaded = new WeakMap<object, Loaded>();

/**
 * Lets an error of the store reach Hono's error handler as what it is: hono-sessions turns a failing
 * `getSessionById` into a new empty session, so a failed load resolves to a session that throws the
 * error on first use (hono-sessions uses it at once, outside its `try`). Hono's default handler then
 * answers with the error's status (`getResponse`: 503 when DynamoDB fails); `app.onError` gets the
 * error itself, with its `code`.
 */
function withResponse(err: unknown): unknown {
  if (err instanceof DynamoDBSessionsError && !('getResponse' in err)) {
    Object.defineProperty(err, 'getResponse', {
      value: () =>
        new Response(err.message, { status: err.status, headers: { 'content-type': 'text/plain' } }),
    });
  }
  return err;
}

/** Runs a store call, its errors given their response for Hono. */
async function answered<R>(task: () => Promise<R>): Promise<R> {
  try {
    return await task();
  } catch (err) {
    throw withResponse(err);
  }
}

function failingSession(err: unknown): SessionData {
  const fail = (): never => {
    throw err;
  };
  // hono-sessions sets `_id` on what it loaded before using it: that alone is let through. `then` is
  // read when the session resolves getSessionById's promise: throwing there would reject it, and
  // hono-sessions would swallow the error into a new empty session
  return new Proxy({} as SessionData, {
    get: (_target, key) => (key === 'then' ? undefined : fail()),
    has: fail,
    ownKeys: fail,
    getOwnPropertyDescriptor: fail,
    set: () => true,
  });
}

/**
 * A DynamoDB store for hono-sessions. One eventually consistent read per request; the middleware
 * hands every request's session back, and a session whose data is unchanged is written only when
 * its expiry is due (`touchAfter`). A new session with no data is not stored.
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { sessionMiddleware } from 'hono-sessions';
 * import { DynamoDBStore } from 'dynamodb-sessions/hono';
 * const app = new Hono();
 * app.use('*', sessionMiddleware({ store: new DynamoDBStore({ tableName: 'sessions' }), expireAfterSeconds: 3600 }));
 * ```
 * @public
 */
export class DynamoDBStore implements Store {
  /** The engine doing the DynamoDB work (also for `stats()`). */
  readonly engine: SessionEngine<HonoSessionEntries>;

  /** Makes no DynamoDB call. @throws InvalidOptionError */
  constructor(options: DynamoDBStoreOptions = {}) {
    this.engine = new SessionEngine(options);
  }

  /**
   * Loads a session; `null` when absent, destroyed or expired (hono-sessions then starts a new one
   * under a new id). When DynamoDB fails, it resolves to a session that throws the error on first use.
   */
  async getSessionById(sessionId?: string): Promise<SessionData | null> {
    if (!sessionId) return null;
    let record: SessionRecord<HonoSessionEntries> | null;
    try {
      record = await this.engine.load(sessionId);
    } catch (err) {
      return failingSession(withResponse(err));
    }
    if (!record) return null;
    const expire = new Date(record.expiresAtSec * 1000).toISOString();
    const session: SessionData = { _data: record.data, _expire: expire, _delete: false, _accessed: null };
    loaded.set(session, { id: sessionId, record, expire });
    return session;
  }

  /** Stores a new session (not while its `_data` is empty). @throws SessionDataError, SessionTooLargeError, StoreUnavailableError */
  async createSession(sessionId: string, initialData: SessionData): Promise<void> {
    await this.#save(sessionId, initialData);
  }

  /**
   * Saves a session until its `_expire`, or the store's `ttl` from now when it has none of its own.
   * Unchanged `_data` only moves the expiry, throttled by `touchAfter`.
   * @throws SessionDataError, SessionTooLargeError, SessionConflictError, StoreUnavailableError
   */
  async persistSessionData(sessionId: string, sessionData: SessionData): Promise<void> {
    await this.#save(sessionId, sessionData);
  }

  /** Destroys a session; nothing in flight can write it back. @throws StoreUnavailableError */
  async deleteSession(sessionId: string): Promise<void> {
    if (sessionId) await answered(() => this.engine.destroy(sessionId));
  }

  /**
   * A user's live sessions, latest expiry first (needs the `userId` option and the user index).
   * @throws MissingIndexError, StoreUnavailableError
   */
  listUserSessions(userId: string, options?: ListUserSessionsOptions): Promise<UserSession[]> {
    return this.engine.listUserSessions(userId, options);
  }

  /** Destroys every session of a user but those in `except`. @throws MissingIndexError, StoreUnavailableError */
  destroyUserSessions(
    userId: string,
    options?: DestroyUserSessionsOptions,
  ): Promise<DestroyUserSessionsResult> {
    return this.engine.destroyUserSessions(userId, options);
  }

  /** Closes the DynamoDB client the store made, at shutdown; a `client` passed in is left to its owner. */
  close(): void {
    this.engine.close();
  }

  async #save(id: string, session: SessionData): Promise<void> {
    // a non-object is passed on as is, for the engine to refuse
    const data = isRecord(session) ? session._data : session;
    const load = isRecord(session) ? loaded.get(session) : undefined;
    const mine = load?.id === id ? load : undefined;
    if (!mine && isRecord(data) && Object.keys(data).length === 0) return;
    const expire: unknown = isRecord(session) ? session._expire : undefined;
    // the `_expire` handed out, given back (under a rotated id too): no expiry of the session's own
    const own = load?.expire !== undefined && expire === load.expire ? undefined : secondsOf(expire);
    const expiresAtSec = own ?? this.engine.defaultExpiry();
    // a session saved twice (key rotation, an app's own call) waits for its earlier save
    await answered(async () =>
      afterEarlierSave(session, async () => {
        const options = { loaded: mine?.record ?? null };
        const record = await this.engine.set(id, data as HonoSessionEntries, expiresAtSec, options);
        // a later save of this object starts from what this one stored
        if (record && isRecord(session)) loaded.set(session, { id, record, expire: load?.expire });
      }),
    );
  }
}
