/**
 * koa-session store: `app.use(dynamodbSession(app, { tableName: 'sessions' }))`, or
 * `session({ store: new DynamoDBStore(options) }, app)`.
 * Only translates between koa-session's store calls and the engine.
 * @packageDocumentation
 */
import { type CreateSessionOptions, createSession, SessionOptions } from 'koa-session';
import {
  type DestroyUserSessionsOptions,
  type DestroyUserSessionsResult,
  type EngineOptions,
  InvalidOptionError,
  type ListUserSessionsOptions,
  OPTION_NAMES,
  SessionEngine,
  type SessionRecord,
  type UserSession,
} from '../src/index.js';
import { afterEarlierSave, isRecord, secondsOf } from './shared.js';

/** A session as koa-session hands it to a store: its data plus `_expire` and `_maxAge`, or `_session`. @public */
export type KoaSessionData = Record<string, unknown>;

/** Options of the koa-session store: the engine's options. @public */
export type DynamoDBStoreOptions = EngineOptions<KoaSessionData>;

/** koa-session's `maxAge` as a store receives it: ms, `'session'`, or `undefined` (its default). @public */
export type KoaMaxAge = number | 'session' | undefined;

/** The Koa application `dynamodbSession` installs itself on. @public */
export interface KoaApp {
  /** Koa's `app.use`. */
  use: (...args: never[]) => unknown;
  /** Koa's `app.context`, where koa-session installs `ctx.session`. */
  context: object;
}

/**
 * The middleware koa-session returns, with the store it uses (for `store.close()` at shutdown and
 * `store.engine.stats()`). @public
 */
export type KoaSessionMiddleware = ReturnType<typeof createSession> & {
  /** The store the middleware uses. */
  readonly store: DynamoDBStore;
};

/** Options of `dynamodbSession`: the engine's options, plus koa-session's own. @public */
export interface DynamoDBSessionOptions extends DynamoDBStoreOptions {
  /** koa-session's options (`key`, `maxAge`, `rolling`, `renew`, `externalKey`, `genid`, cookie flags...). */
  session?: Omit<CreateSessionOptions, 'store' | 'ContextStore'>;
  /** A store made beforehand (to share it or read `engine.stats()`); no engine option may be given with it. */
  store?: DynamoDBStore;
}

/**
 * What each request (its `ctx`, which koa-session passes to `get` and `set`) loaded: unchanged data
 * is judged against this request's own load, so a stale copy never overwrites a concurrent change.
 */
const loaded = new WeakMap<object, { key: string; record: SessionRecord<KoaSessionData> }>();

/** The session's lifetime: koa-session's per-session maxAge, or a browser-session cookie. */
const lifetimeKeys = ['_maxAge', '_session'];

/**
 * A DynamoDB store for koa-session. `_expire` is not stored: the item's expiry is the one truth,
 * and `get` puts it back, so a session kept alive by throttled touches never looks expired to koa.
 * @example
 * ```ts
 * import session from 'koa-session';
 * import { DynamoDBStore } from 'dynamodb-sessions/koa';
 * app.keys = [process.env.SESSION_KEY];
 * app.use(session({ store: new DynamoDBStore({ tableName: 'sessions' }), rolling: true }, app));
 * ```
 * @public
 */
export class DynamoDBStore {
  /** The engine doing the DynamoDB work (also for `stats()`). */
  readonly engine: SessionEngine<KoaSessionData>;

  /** Makes no DynamoDB call. @throws InvalidOptionError */
  constructor(options: DynamoDBStoreOptions = {}) {
    this.engine = new SessionEngine(options);
  }

  /**
   * Loads a session; `null` when absent, destroyed or expired (koa-session then starts a new one).
   * @throws StoreUnavailableError (status 503) when DynamoDB fails: the request fails, it never gets an empty session
   */
  async get(
    key: string,
    _maxAge?: KoaMaxAge,
    options?: { rolling?: boolean; ctx?: unknown },
  ): Promise<KoaSessionData | null> {
    const record = await this.engine.load(key);
    if (!record) return null;
    if (isRecord(options?.ctx)) loaded.set(options.ctx, { key, record });
    const { _expire: _stale, ...data } = record.data;
    // koa-session checks `_expire` itself and restores the per-session maxAge from `_maxAge`
    if (typeof data._maxAge === 'number') data._expire = record.expiresAtSec * 1000;
    return data;
  }

  /**
   * Saves a session until its `_expire` (koa's `maxAge: 'session'`: the engine's `ttl`). `changed` is
   * ignored: `save()`, `regenerate()` and maxAge changes send `false` with new data. Unchanged data
   * only moves the expiry, throttled by `touchAfter`.
   * @throws SessionTooLargeError, SessionDataError, InvalidSessionIdError, StoreUnavailableError
   */
  async set(
    key: string,
    sess: KoaSessionData,
    maxAge?: KoaMaxAge,
    options?: { rolling?: boolean; changed?: boolean; ctx?: unknown },
  ): Promise<void> {
    // a non-object is passed on as is, for the engine to refuse
    const { _expire, ...data } = isRecord(sess) ? sess : {};
    const expiresAtSec =
      secondsOf(_expire) ??
      (typeof maxAge === 'number' ? secondsOf(Date.now() + maxAge) : undefined) ??
      this.engine.defaultExpiry();
    // koa-session passes the request's ctx to get and set: without it, the engine reads what it replaces
    const ctx = isRecord(options?.ctx) ? options.ctx : undefined;
    // koa-session may save twice in one request (regenerate, save(), manuallyCommit()): the second
    // waits for the first, and starts from what it stored
    await afterEarlierSave(ctx, async () => {
      const load = ctx ? loaded.get(ctx) : undefined;
      const since = ctx ? { loaded: load?.key === key ? load.record : null, lifetimeKeys } : {};
      const record = await this.engine.set(key, isRecord(sess) ? data : sess, expiresAtSec, since);
      if (ctx && record) loaded.set(ctx, { key, record });
    });
  }

  /**
   * Closes the DynamoDB client the store made, at shutdown (e.g. in `server.close()`'s callback);
   * a `client` passed in is left to its owner.
   */
  close(): void {
    this.engine.close();
  }

  /** Destroys a session (`ctx.session = null`, `regenerate()`); nothing in flight can write it back. */
  async destroy(key: string, _options?: { ctx?: unknown }): Promise<void> {
    await this.engine.destroy(key);
  }

  /**
   * A user's live sessions, latest expiry first (needs the `userId` option and the user index).
   * Each `id` is koa's session key (`ctx.session.externalKey`).
   * @throws MissingIndexError, StoreUnavailableError
   */
  listUserSessions(userId: string, options?: ListUserSessionsOptions): Promise<UserSession[]> {
    return this.engine.listUserSessions(userId, options);
  }

  /**
   * Destroys every session of a user but those in `except` ("log out other devices":
   * `{ except: ctx.session.externalKey }`). @throws MissingIndexError, StoreUnavailableError
   */
  destroyUserSessions(
    userId: string,
    options?: DestroyUserSessionsOptions,
  ): Promise<DestroyUserSessionsResult> {
    return this.engine.destroyUserSessions(userId, options);
  }
}

/** koa-session's options, from its own schema, and the cookie settings it passes on. */
const koaOptions = new Set([
  ...Object.keys(SessionOptions.shape),
  'domain',
  'path',
  'partitioned',
  'priority',
]);

/**
 * Refuses an option given on the wrong level: koa-session's at the top, or the store's under
 * `session` (where koa-session would silently ignore it, and the store would use its default).
 * `prefix` is both: the store's at the top, koa-session's under `session`.
 */
function checkPlaces(top: object, session: object): void {
  const example = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));
  for (const [key, value] of Object.entries(top)) {
    if (!OPTION_NAMES.includes(key as keyof EngineOptions) && koaOptions.has(key)) {
      throw new InvalidOptionError(
        key,
        `an option of koa-session; it goes under session: { session: { ${key}: ${example(value)} } }`,
      );
    }
  }
  for (const [key, value] of Object.entries(session)) {
    if (OPTION_NAMES.includes(key as keyof EngineOptions) && !koaOptions.has(key)) {
      throw new InvalidOptionError(
        `session.${key}`,
        `an option of the store, not of koa-session; it goes at the top level: { ${key}: ${example(value)}, session: { ... } }`,
      );
    }
  }
}

/**
 * koa-session's middleware with a DynamoDB store. Needs `app.keys` for the signed cookie (unless
 * `session.signed` is `false` or `session.externalKey` is used).
 * @param app - the Koa application
 * @param options - the engine's options, and koa-session's under `session`
 * @returns the middleware to `app.use()`
 * @throws InvalidOptionError
 * @example
 * ```ts
 * import Koa from 'koa';
 * import { dynamodbSession } from 'dynamodb-sessions/koa';
 * const app = new Koa();
 * app.keys = [process.env.SESSION_KEY];
 * app.use(dynamodbSession(app, { tableName: 'sessions', session: { maxAge: 86_400_000, rolling: true } }));
 * ```
 * @public
 */
export function dynamodbSession(app: KoaApp, options: DynamoDBSessionOptions = {}): KoaSessionMiddleware {
  const { session = {}, store, ...engineOptions } = options;
  checkPlaces(engineOptions, session);
  if (store !== undefined && Object.keys(engineOptions).length > 0) {
    throw new InvalidOptionError(
      'store',
      `give either a store or engine options, not both (got ${Object.keys(engineOptions).join(', ')})`,
    );
  }
  const made = store ?? new DynamoDBStore(engineOptions);
  // koa-session fills in its defaults on the object it is given: give it a copy
  const middleware = createSession(app, { ...session, store: made });
  const typed: typeof middleware = async (ctx, next) => {
    try {
      await middleware(ctx, next);
    } catch (err) {
      throw await refusalOf(ctx, err);
    }
  };
  return Object.assign(typed, { store: made });
}

/**
 * The error of a request whose session JSON cannot hold (a BigInt, a cycle): koa-session hashes the
 * session with `JSON.stringify` to decide whether to save it, and its `TypeError` comes before the
 * store sees the data. Saved as `save()` saves (without the hash), the store refuses it with a
 * `SessionDataError` naming the value. Any other error is returned as it is.
 */
async function refusalOf(ctx: unknown, err: unknown): Promise<unknown> {
  // a cycle gives a TypeError, or a RangeError when each step of it goes through a toJSON
  if (!(err instanceof TypeError || err instanceof RangeError) || !isRecord(ctx)) return err;
  const sess = ctx.session;
  if (!isRecord(sess) || typeof sess.save !== 'function') return err;
  try {
    JSON.stringify(sess);
    return err;
  } catch {
    // JSON cannot hold it: the store says why
  }
  try {
    await sess.save();
  } catch (refused) {
    return refused;
  }
  return err;
}
